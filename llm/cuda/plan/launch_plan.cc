#include "llm/cuda/plan/launch_plan.h"

#include <algorithm>

namespace lumen::llm::cuda {

int WeightFormatBytes(WeightFormat format) {
  switch (format) {
    case WeightFormat::kFp8: return 1;
    case WeightFormat::kBf16: return 2;
    case WeightFormat::kF32: return 4;
  }
  return 4;
}

GemvLaunch PlanGemv(std::int64_t rows, std::int64_t cols, WeightFormat format, int block_cols,
                    int vectors, int groups, int sm_count, int rows_per_warp) {
  GemvLaunch g;
  const std::int64_t row_bytes = cols * WeightFormatBytes(format);
  g.vectors = vectors <= 1 ? 1 : vectors <= 2 ? 2 : vectors <= 4 ? 4 : 8;
  g.vectorized =
      row_bytes % 16 == 0 && (format != WeightFormat::kFp8 || block_cols % 16 == 0) &&
      static_cast<std::int64_t>(sizeof(float)) * g.vectors * cols <= GemvLaunch::kMaxSharedBytes;
  // Units of work along a row: 16-byte chunks (vectorized) or elements.
  const std::int64_t units = g.vectorized ? row_bytes / 16 : cols;
  const std::int64_t target = 2 * std::max(1, sm_count);
  g.rows_per_warp = !g.vectorized ? 1 : rows_per_warp >= 4 ? 4 : rows_per_warp >= 2 ? 2 : 1;
  g.warps_per_row = 1;
  while (g.warps_per_row < 8) {
    const int rows_per_block = 8 / g.warps_per_row * g.rows_per_warp;
    const std::int64_t blocks = (rows + rows_per_block - 1) / rows_per_block * groups;
    // Stop when the grid is large enough, or a warp would get less than one unit per lane.
    if (blocks >= target || units / (g.warps_per_row * 2) < 32) break;
    g.warps_per_row *= 2;
  }
  g.rows_per_block = 8 / g.warps_per_row * g.rows_per_warp;
  g.threads = 256;
  g.grid_x = static_cast<int>((rows + g.rows_per_block - 1) / g.rows_per_block);
  g.grid_y = groups;
  return g;
}

GemvSegments PlanGemvSegments(const std::int64_t* rows, int count, std::int64_t cols,
                              WeightFormat format, int block_cols, int vectors, int groups,
                              int sm_count, int rows_per_warp) {
  GemvSegments s;
  s.count = std::clamp(count, 1, GemvSegments::kMax);
  std::int64_t total = 0;
  for (int i = 0; i < s.count; ++i) total += rows[i];
  s.launch = PlanGemv(total, cols, format, block_cols, vectors, groups, sm_count, rows_per_warp);
  int end = 0;
  for (int i = 0; i < s.count; ++i) {
    end += static_cast<int>((rows[i] + s.launch.rows_per_block - 1) / s.launch.rows_per_block);
    s.blocks_end[i] = end;
  }
  s.launch.grid_x = end;
  return s;
}

GemmLaunch PlanGemm(std::int64_t rows, int token_tiles) {
  GemmLaunch g;
  g.grid_x = static_cast<int>((rows + GemmLaunch::kTileN - 1) / GemmLaunch::kTileN);
  g.grid_y = token_tiles;
  return g;
}

int MoeTileFor(int tokens) {
  return tokens <= 8 ? 8 : GemmLaunch::kTileM;
}

int KvBucket(int kv_len) {
  int b = 256;
  while (b < kv_len) b *= 2;
  return b;
}

AttentionLaunch PlanAttention(int kv_bucket, int tokens, int kv_heads, int group, int head_dim,
                              int sm_count) {
  AttentionLaunch a;
  const int blocks = std::max(1, tokens * kv_heads);
  const int target = 2 * std::max(1, sm_count);
  const int max_splits = std::max(1, kv_bucket / 32);  // at least 32 positions per split
  a.splits = std::clamp((target + blocks - 1) / blocks, 1, max_splits);
  a.chunk = (kv_bucket + a.splits - 1) / a.splits;
  a.chunk = (a.chunk + 31) / 32 * 32;
  a.threads = group * 32;  // one warp per query head
  (void)head_dim;
  return a;
}

DecodeGraphKey DecodeGraphKeyFor(int batch, int longest_kv_len, bool logits) {
  return {.batch = batch, .kv_bucket = KvBucket(longest_kv_len), .logits = logits};
}

bool DecodeGraphLru::Touch(const DecodeGraphKey& key) {
  auto it = std::find(keys_.begin(), keys_.end(), key);
  if (it == keys_.end()) return false;
  std::rotate(it, it + 1, keys_.end());
  return true;
}

std::optional<DecodeGraphKey> DecodeGraphLru::Insert(const DecodeGraphKey& key) {
  std::optional<DecodeGraphKey> evicted;
  if (keys_.size() >= capacity_) {
    evicted = keys_.front();
    keys_.erase(keys_.begin());
  }
  keys_.push_back(key);
  return evicted;
}

}  // namespace lumen::llm::cuda
