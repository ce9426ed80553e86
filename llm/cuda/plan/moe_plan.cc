#include "llm/cuda/plan/moe_plan.h"

#include <string>

namespace lumen::llm::cuda {

Result<MoePlan> PlanMoe(const std::vector<int>& expert, int experts, int tile) {
  if (tile < 1 || experts < 1) return InvalidArgument("MoE plan: tile and experts must be >= 1");
  const int assignments = static_cast<int>(expert.size());
  for (int a = 0; a < assignments; ++a) {
    if (expert[a] < 0 || expert[a] >= experts) {
      return InvalidArgument("MoE plan: assignment " + std::to_string(a) + " names expert " +
                             std::to_string(expert[a]) + " of " + std::to_string(experts));
    }
  }
  MoePlan p;
  p.tile = tile;
  p.counts.resize(static_cast<std::size_t>(experts));
  p.offsets.resize(static_cast<std::size_t>(experts) + 1);
  p.rows.assign(static_cast<std::size_t>(MoePaddedCapacity(assignments, experts, tile)), -1);
  p.slot.assign(static_cast<std::size_t>(assignments), -1);
  const int tiles = MoeTileCapacity(assignments, experts, tile);
  p.tile_expert.assign(static_cast<std::size_t>(tiles), -1);
  for (int e = 0; e < experts; ++e) p.counts[e] = CountExpert(expert.data(), assignments, e);
  PrefixOffsets(p.counts.data(), experts, tile, p.offsets.data());
  for (int e = 0; e < experts; ++e) {
    FillSegment(expert.data(), assignments, e, p.offsets.data(), tile, p.rows.data(), p.slot.data(),
                p.tile_expert.data());
  }
  ClearTailTiles(p.offsets.data(), experts, tile, tiles, p.tile_expert.data());
  return p;
}

}  // namespace lumen::llm::cuda
