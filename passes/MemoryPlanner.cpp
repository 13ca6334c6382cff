//===- MemoryPlanner.cpp - greedy-by-size arena packing -------------------===//
#include "passes/MemoryPlanner.h"

#include <algorithm>
#include <numeric>

using namespace graphopt;

static int64_t alignUp(int64_t x, int64_t a) { return (x + a - 1) / a * a; }

MemoryPlan graphopt::planMemory(const std::vector<BufferRequest> &requests,
                                int64_t alignment) {
  alignment = std::max<int64_t>(alignment, 1);
  MemoryPlan plan;
  plan.offsets.assign(requests.size(), -1);

  std::vector<size_t> order(requests.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (requests[a].size != requests[b].size)
      return requests[a].size > requests[b].size;
    return requests[a].start < requests[b].start;
  });

  std::vector<size_t> placed;
  for (size_t i : order) {
    const BufferRequest &r = requests[i];
    int64_t size = alignUp(std::max<int64_t>(r.size, 1), alignment);
    // Byte ranges of the placed buffers live at the same time as this one.
    std::vector<std::pair<int64_t, int64_t>> busy;
    for (size_t j : placed) {
      const BufferRequest &o = requests[j];
      if (o.start <= r.end && r.start <= o.end)
        busy.push_back({plan.offsets[j],
                        plan.offsets[j] + alignUp(std::max<int64_t>(o.size, 1),
                                                  alignment)});
    }
    std::sort(busy.begin(), busy.end());
    // First gap that fits.
    int64_t offset = 0;
    for (auto [lo, hi] : busy) {
      if (offset + size <= lo)
        break;
      offset = std::max(offset, hi);
    }
    plan.offsets[i] = offset;
    plan.arenaSize = std::max(plan.arenaSize, offset + size);
    placed.push_back(i);
  }
  return plan;
}
