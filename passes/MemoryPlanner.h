//===- MemoryPlanner.h - packing live intervals into one arena -----------===//
//
// The algorithm behind graphopt-plan-memory, free of MLIR so it can be unit
// tested: buffers with sizes and live intervals in, offsets and the arena
// size out.
//
//===----------------------------------------------------------------------===//
#ifndef GRAPHOPT_PASSES_MEMORYPLANNER_H
#define GRAPHOPT_PASSES_MEMORYPLANNER_H

#include <cstdint>
#include <vector>

namespace graphopt {

/// A buffer live from step `start` to step `end`, both inclusive.
struct BufferRequest {
  int64_t size;
  int64_t start;
  int64_t end;
};

struct MemoryPlan {
  std::vector<int64_t> offsets; // one per request, aligned
  int64_t arenaSize = 0;
};

/// Greedy by size: the largest buffer first, each placed at the lowest
/// aligned offset where it overlaps no already placed buffer whose interval
/// intersects its own. Two buffers never share bytes while both are live.
MemoryPlan planMemory(const std::vector<BufferRequest> &requests,
                      int64_t alignment);

} // namespace graphopt

#endif // GRAPHOPT_PASSES_MEMORYPLANNER_H
