// Tokens sorted by expert for the grouped expert kernels (as vLLM's moe_align_block_size does):
// the plan that turns "token t chose experts e0..e(k-1)" into contiguous, tile-padded segments of
// rows, one segment per expert, so that a kernel reads each expert's weights once for all the
// tokens routed to it.
//
// Conventions (stated once):
//   assignment a = t * k + j is the j-th choice of token t; expert[a] is its expert (0 ≤ e < E).
//   counts[e]         assignments routed to expert e.
//   offsets[e]        first padded row of expert e's segment; segments follow expert order and
//                     each is padded up to a multiple of `tile` rows; offsets[E] = padded rows.
//   rows[r]           for padded row r: the assignment it holds, or -1 for padding. Within a
//                     segment, assignments are in increasing order (the plan is deterministic).
//   slot[a]           the padded row of assignment a (the inverse permutation).
//   tile_expert[i]    the expert of tile i (rows i*tile .. i*tile+tile-1), -1 past the end.
//
// The functions are plain loops over raw arrays, marked LUMEN_HD, so the same code runs on the
// host (tests, llm/cuda/plan/moe_plan.cc) and inside the CUDA planning kernel, where one thread
// per expert runs CountExpert/FillSegment and one thread runs PrefixOffsets.
#pragma once

#if defined(__CUDACC__)
#define LUMEN_HD __host__ __device__
#else
#define LUMEN_HD
#endif

namespace lumen::llm::cuda {

// Rows that a plan may need: every assignment plus at most tile-1 padding rows per non-empty
// expert (at most min(assignments, experts) of them).
LUMEN_HD inline int MoePaddedCapacity(int assignments, int experts, int tile) {
  const int nonempty = assignments < experts ? assignments : experts;
  return assignments + nonempty * (tile - 1);
}
// Tiles that a plan may need (grid size of the grouped kernels).
LUMEN_HD inline int MoeTileCapacity(int assignments, int experts, int tile) {
  return MoePaddedCapacity(assignments, experts, tile) / tile;
}

// Assignments routed to expert e.
LUMEN_HD inline int CountExpert(const int* expert, int assignments, int e) {
  int c = 0;
  for (int a = 0; a < assignments; ++a) c += expert[a] == e;
  return c;
}

// offsets[0..experts] from counts, each segment rounded up to a multiple of `tile`.
LUMEN_HD inline void PrefixOffsets(const int* counts, int experts, int tile, int* offsets) {
  int r = 0;
  for (int e = 0; e < experts; ++e) {
    offsets[e] = r;
    r += (counts[e] + tile - 1) / tile * tile;
  }
  offsets[experts] = r;
}

// Writes expert e's segment: rows[], slot[] of its assignments, -1 in its padding rows, and
// tile_expert[] of its tiles.
LUMEN_HD inline void FillSegment(const int* expert, int assignments, int e, const int* offsets,
                                 int tile, int* rows, int* slot, int* tile_expert) {
  int r = offsets[e];
  for (int a = 0; a < assignments; ++a) {
    if (expert[a] == e) {
      rows[r] = a;
      slot[a] = r;
      ++r;
    }
  }
  for (; r < offsets[e + 1]; ++r) rows[r] = -1;
  for (int i = offsets[e] / tile; i < offsets[e + 1] / tile; ++i) tile_expert[i] = e;
}

// Marks tiles from the padded total up to `tile_capacity` as unused (-1).
LUMEN_HD inline void ClearTailTiles(const int* offsets, int experts, int tile, int tile_capacity,
                                    int* tile_expert) {
  for (int i = offsets[experts] / tile; i < tile_capacity; ++i) tile_expert[i] = -1;
}

}  // namespace lumen::llm::cuda

#if !defined(__CUDACC__)
#include <vector>

#include "core/status.h"

namespace lumen::llm::cuda {

// The whole plan, computed on the host (the reference for the device planning kernel, and what
// the tests check).
struct MoePlan {
  int tile = 0;
  std::vector<int> counts;       // [experts]
  std::vector<int> offsets;      // [experts + 1]
  std::vector<int> rows;         // [MoePaddedCapacity]; entries past offsets[experts] are -1
  std::vector<int> slot;         // [assignments]
  std::vector<int> tile_expert;  // [MoeTileCapacity]
};

// Errors: tile < 1, experts < 1, an expert id outside [0, experts).
Result<MoePlan> PlanMoe(const std::vector<int>& expert, int experts, int tile);

}  // namespace lumen::llm::cuda
#endif
