//===- MemoryPlannerTest.cpp - the arena packing algorithm ----------------===//
#include "passes/MemoryPlanner.h"

#include <gtest/gtest.h>

using graphopt::BufferRequest;
using graphopt::planMemory;

namespace {

bool overlapsInTime(const BufferRequest &a, const BufferRequest &b) {
  return a.start <= b.end && b.start <= a.end;
}

/// The planner's one invariant: buffers live at the same time never share
/// bytes, and every buffer lies inside the arena.
void expectValid(const std::vector<BufferRequest> &reqs,
                 const graphopt::MemoryPlan &plan, int64_t align) {
  ASSERT_EQ(plan.offsets.size(), reqs.size());
  for (size_t i = 0; i < reqs.size(); ++i) {
    EXPECT_EQ(plan.offsets[i] % align, 0);
    EXPECT_LE(plan.offsets[i] + reqs[i].size, plan.arenaSize);
    for (size_t j = i + 1; j < reqs.size(); ++j) {
      if (!overlapsInTime(reqs[i], reqs[j]))
        continue;
      bool disjoint = plan.offsets[i] + reqs[i].size <= plan.offsets[j] ||
                      plan.offsets[j] + reqs[j].size <= plan.offsets[i];
      EXPECT_TRUE(disjoint) << "buffers " << i << " and " << j << " collide";
    }
  }
}

TEST(MemoryPlanner, EmptyPlanHasNoArena) {
  auto plan = planMemory({}, 64);
  EXPECT_EQ(plan.arenaSize, 0);
  EXPECT_TRUE(plan.offsets.empty());
}

TEST(MemoryPlanner, DisjointLifetimesShareOneSlot) {
  // A chain a -> b -> c where each dies when the next-but-one is born.
  std::vector<BufferRequest> reqs = {{1024, 0, 1}, {1024, 1, 2}, {1024, 2, 3}};
  auto plan = planMemory(reqs, 64);
  expectValid(reqs, plan, 64);
  EXPECT_EQ(plan.offsets[0], plan.offsets[2]);
  EXPECT_EQ(plan.arenaSize, 2048);
}

TEST(MemoryPlanner, OverlappingLifetimesGetDisjointBytes) {
  std::vector<BufferRequest> reqs = {{100, 0, 5}, {200, 1, 4}, {300, 2, 3}};
  auto plan = planMemory(reqs, 64);
  expectValid(reqs, plan, 64);
  EXPECT_EQ(plan.arenaSize, 128 + 256 + 320);
}

TEST(MemoryPlanner, SmallBufferFillsGapLeftByDeadOne) {
  // The big buffer dies at step 1; the small one born at step 2 reuses it
  // while a long-lived buffer sits above.
  std::vector<BufferRequest> reqs = {{4096, 0, 1}, {4096, 0, 9}, {512, 2, 3}};
  auto plan = planMemory(reqs, 64);
  expectValid(reqs, plan, 64);
  EXPECT_EQ(plan.arenaSize, 8192);
}

TEST(MemoryPlanner, AlignmentRoundsEveryBuffer) {
  std::vector<BufferRequest> reqs = {{1, 0, 2}, {1, 0, 2}, {1, 0, 2}};
  auto plan = planMemory(reqs, 256);
  expectValid(reqs, plan, 256);
  EXPECT_EQ(plan.arenaSize, 3 * 256);
}

TEST(MemoryPlanner, RandomIntervalsNeverCollide) {
  uint64_t state = 12345;
  auto next = [&](int64_t mod) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (int64_t)((state >> 33) % (uint64_t)mod);
  };
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<BufferRequest> reqs;
    int64_t total = 0;
    for (int i = 0, n = 1 + next(30); i < n; ++i) {
      int64_t s = next(40);
      reqs.push_back({1 + next(5000), s, s + next(10)});
      total += (reqs.back().size + 63) / 64 * 64;
    }
    auto plan = planMemory(reqs, 64);
    expectValid(reqs, plan, 64);
    EXPECT_LE(plan.arenaSize, total);
  }
}

} // namespace
