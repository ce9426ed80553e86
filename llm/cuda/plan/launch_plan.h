// Launch configurations of the CUDA engine's kernels, and the bookkeeping of its decode graphs:
// pure host code (no CUDA headers), compiled into lumen_llm on every build so that the choices
// are tested on machines without a GPU (tests/unit/llm/cuda_plan_test.cc).
//
// Kernels (llm/cuda/kernels.cu) take these structs as they are; a choice made here is the one
// the GPU runs. All functions are pure and thread-safe; DecodeGraphLru is not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace lumen::llm::cuda {

// How a weight matrix is stored on the device: FP8 E4M3 codes with an fp32 block-scale grid,
// or bf16 / fp32 values (F16 checkpoints are widened to fp32 at upload).
enum class WeightFormat { kFp8, kBf16, kF32 };
int WeightFormatBytes(WeightFormat format);

// Decode matrix-vector product y[v] = W x[v] for up to 8 vectors. A warp computes
// `rows_per_warp` adjacent rows over its share of the columns; a group of rows is shared by
// `warps_per_row` warps (a fixed-order split of the columns, reduced in shared memory, so results
// do not depend on timing); every weight byte is read once per launch.
struct GemvLaunch {
  // Rows per warp of the vectorized form: a lane loads 16-byte chunks of all of them before it
  // uses any, and each activation chunk it reads serves all of them.
  static constexpr int kRowsPerWarp = 2;
  // Shared memory the vectorized form may take for its input vectors (vectors × cols floats).
  static constexpr std::int64_t kMaxSharedBytes = 160 * 1024;
  bool vectorized = false;  // 16-byte loads: needs row bytes % 16 == 0, for FP8 scale blocks
                            // whose width is a multiple of 16 columns, and the input vectors
                            // within kMaxSharedBytes
  int vectors = 1;          // compiled batch variant: 1, 2, 4 or 8 (≥ the vectors asked for)
  int warps_per_row = 1;    // 1, 2, 4 or 8
  int rows_per_warp = 1;    // 1, 2 or 4 (vectorized; kRowsPerWarp by default) or 1
  int rows_per_block = 8;   // (8 warps per block / warps_per_row) × rows_per_warp
  int threads = 256;
  int grid_x = 0;  // blocks over the rows
  int grid_y = 1;  // groups (expert tiles in the grouped form)
};
// `vectors` in 1..8, `groups` ≥ 1, `sm_count` the GPU's multiprocessors (the split aims at two
// blocks per multiprocessor when the rows alone give fewer), `rows_per_warp` 1, 2 or 4 (the
// vectorized form; LUMEN_CUDA_GEMV_ROWS sets it for experiments, see docs/MODELS.md).
GemvLaunch PlanGemv(std::int64_t rows, std::int64_t cols, WeightFormat format, int block_cols,
                    int vectors, int groups, int sm_count,
                    int rows_per_warp = GemvLaunch::kRowsPerWarp);

// Several matrices that share format, columns and scale-block width, multiplied by the same
// vectors in one launch (q/k/v; an expert's gate/up): the split is planned for their rows
// together, and segment i covers blocks [blocks_end[i - 1], blocks_end[i]) of the grid.
struct GemvSegments {
  static constexpr int kMax = 3;
  GemvLaunch launch;
  int count = 0;
  int blocks_end[kMax] = {};
};
// `count` in 1..kMax.
GemvSegments PlanGemvSegments(const std::int64_t* rows, int count, std::int64_t cols,
                              WeightFormat format, int block_cols, int vectors, int groups,
                              int sm_count, int rows_per_warp = GemvLaunch::kRowsPerWarp);

// Prefill matrix product (plain or grouped by expert): tiles of kTileM token rows × kTileN
// outputs, kTileK columns per step, 256 threads each computing a 4 × 4 block of outputs.
struct GemmLaunch {
  static constexpr int kTileM = 64, kTileN = 64, kTileK = 32;
  int threads = 256;
  int grid_x = 0;  // output tiles
  int grid_y = 0;  // token tiles (grouped: the plan's tile capacity)
};
GemmLaunch PlanGemm(std::int64_t rows, int token_tiles);

// Tokens per padded expert segment: decode (≤ 8 tokens) uses one GEMV tile of 8 rows per
// expert; prefill uses GEMM tiles.
int MoeTileFor(int tokens);

// The KV length every decode graph is built for: the next power of two ≥ max(len, 256). A graph
// is re-captured only when a step's longest sequence crosses into another bucket.
int KvBucket(int kv_len);

// Attention over the KV cache: one block per (token, kv head) handles that head's whole query
// group, one warp per query head, and the KV range [0, bucket) is cut into `splits` chunks of
// `chunk` positions whose partial softmax states a second kernel combines (flash-decoding).
// Decode (few tokens) splits until there are about two blocks per multiprocessor; prefill (many
// tokens) rarely needs to.
struct AttentionLaunch {
  int splits = 1;
  int chunk = 0;     // positions per split (multiple of 32, at least 32)
  int threads = 32;  // 32 × group (one warp per query head)
};
AttentionLaunch PlanAttention(int kv_bucket, int tokens, int kv_heads, int group, int head_dim,
                              int sm_count);

// Which decode graph a step needs: graphs are captured per (batch size, KV bucket, whether the
// logits are copied back) and replayed while the key stays the same.
struct DecodeGraphKey {
  int batch = 1;
  int kv_bucket = 256;
  bool logits = true;
  bool operator==(const DecodeGraphKey& o) const {
    return batch == o.batch && kv_bucket == o.kv_bucket && logits == o.logits;
  }
};
DecodeGraphKey DecodeGraphKeyFor(int batch, int longest_kv_len, bool logits);

// Least-recently-used set of captured graphs (the engine frees the evicted one).
class DecodeGraphLru {
 public:
  explicit DecodeGraphLru(std::size_t capacity) : capacity_(capacity < 1 ? 1 : capacity) {}
  // True when `key` has a graph; it becomes the most recently used.
  bool Touch(const DecodeGraphKey& key);
  // Records a newly captured graph (not already present); returns the key evicted to stay
  // within capacity, if any.
  std::optional<DecodeGraphKey> Insert(const DecodeGraphKey& key);
  std::size_t size() const { return keys_.size(); }

 private:
  std::size_t capacity_;
  std::vector<DecodeGraphKey> keys_;  // most recent last
};

}  // namespace lumen::llm::cuda
