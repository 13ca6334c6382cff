// graphopt_simt.h - runs emitted CUDA kernels on the CPU, for tests.
//
// Included before graphopt_cuda.h with -DGRAPHOPT_SIMT_EMULATION, it makes a
// .cu file host C++: each CUDA thread of a block is a ucontext with its own
// stack, run by a round-robin scheduler on one OS thread. __syncthreads and
// the warp shuffles are barriers: a thread arrives, then yields until every
// thread of its block (or warp) has arrived. __shared__ becomes `static`,
// one copy that the block's threads share (blocks run one after another).
//
// What it does not model: timing, occupancy, memory coalescing and caches;
// concurrent blocks (blocks run in order, so a kernel that communicates
// between blocks would hang on the GPU but not here); warp divergence and
// independent thread scheduling (threads of a warp interleave only at
// barriers and shuffles); atomics, texture memory, streams (launches are
// synchronous); float rounding of the GPU's fast-math intrinsics (the host's
// libm computes expf and friends).
#ifndef GRAPHOPT_SIMT_H
#define GRAPHOPT_SIMT_H

#define GRAPHOPT_SIMT_EMULATION 1

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <ucontext.h>
#include <vector>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __restrict__ __restrict
#define __launch_bounds__(n)
#define __shared__ static

struct dim3 {
  unsigned x = 1, y = 1, z = 1;
};

struct alignas(16) float4 {
  float x, y, z, w;
};

namespace graphopt_simt {

struct Barrier {
  int expected = 0, arrived = 0;
  unsigned generation = 0;
};

struct Thread {
  ucontext_t context;
  std::unique_ptr<char[]> stack; // not zeroed: a launch allocates them all
  dim3 idx;
  bool done = false;
};

struct Block {
  dim3 blockIndex, blockSize, gridSize;
  std::vector<Thread> threads;
  Barrier block;
  std::vector<Barrier> warps;
  std::vector<unsigned char> shuffle; // one 8-byte slot per thread
  ucontext_t scheduler;
  int current = 0;
  unsigned long progress = 0;
  std::function<void()> body;
};

inline Block *&active() {
  static Block *b = nullptr;
  return b;
}

inline Thread &self() { return active()->threads[active()->current]; }

/// Back to the scheduler; the thread resumes when it is scheduled again.
inline void yield() {
  Block *b = active();
  swapcontext(&b->threads[b->current].context, &b->scheduler);
}

inline void wait(Barrier &bar) {
  Block *b = active();
  unsigned gen = bar.generation;
  ++b->progress;
  if (++bar.arrived == bar.expected) {
    bar.arrived = 0;
    ++bar.generation;
    return;
  }
  while (bar.generation == gen)
    yield();
}

inline void trampoline() {
  Block *b = active();
  b->body();
  b->threads[b->current].done = true;
  ++b->progress;
  // Returning switches to uc_link, the scheduler.
}

/// Launches `kernel` on a grid of 1-D blocks; returns when all have run.
template <typename Kernel, typename... Args>
void launch(Kernel kernel, unsigned blocks, unsigned threads, Args... args) {
  static constexpr size_t kStack = 128 * 1024;
  Block b;
  b.blockSize.x = threads;
  b.gridSize.x = blocks;
  b.threads.resize(threads);
  for (Thread &t : b.threads)
    t.stack.reset(new char[kStack]);
  b.shuffle.resize(threads * 8);
  b.body = [&] { kernel(args...); };
  Block *saved = active();
  active() = &b;
  for (unsigned blk = 0; blk < blocks; ++blk) {
    b.blockIndex.x = blk;
    b.block = Barrier{(int)threads, 0, 0};
    b.warps.assign((threads + 31) / 32, Barrier{});
    for (unsigned w = 0; w < b.warps.size(); ++w)
      b.warps[w].expected = (int)std::min(32u, threads - 32 * w);
    for (unsigned i = 0; i < threads; ++i) {
      Thread &t = b.threads[i];
      t.idx.x = i;
      t.done = false;
      getcontext(&t.context);
      t.context.uc_stack.ss_sp = t.stack.get();
      t.context.uc_stack.ss_size = kStack;
      t.context.uc_link = &b.scheduler;
      makecontext(&t.context, trampoline, 0);
    }
    for (bool running = true; running;) {
      running = false;
      unsigned long before = b.progress;
      for (unsigned i = 0; i < threads; ++i) {
        if (b.threads[i].done)
          continue;
        b.current = (int)i;
        swapcontext(&b.scheduler, &b.threads[i].context);
        running |= !b.threads[i].done;
      }
      if (running && b.progress == before) {
        std::fprintf(stderr, "graphopt_simt: deadlock in block %u: threads wait "
                             "at a barrier that not all threads reach\n", blk);
        std::abort();
      }
    }
  }
  active() = saved;
}

} // namespace graphopt_simt

#define threadIdx (graphopt_simt::self().idx)
#define blockIdx (graphopt_simt::active()->blockIndex)
#define blockDim (graphopt_simt::active()->blockSize)
#define gridDim (graphopt_simt::active()->gridSize)

inline void __syncthreads() { graphopt_simt::wait(graphopt_simt::active()->block); }

template <typename T> T __shfl_down_sync(unsigned, T v, unsigned delta) {
  static_assert(sizeof(T) <= 8, "shuffles move at most 8 bytes");
  graphopt_simt::Block *b = graphopt_simt::active();
  unsigned tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  std::memcpy(&b->shuffle[tid * 8], &v, sizeof v);
  graphopt_simt::wait(b->warps[warp]);
  T r = v;
  if (lane + delta < 32 && tid + delta < b->blockSize.x)
    std::memcpy(&r, &b->shuffle[(tid + delta) * 8], sizeof r);
  graphopt_simt::wait(b->warps[warp]); // slots are reused by the next shuffle
  return r;
}

#define GRAPHOPT_LAUNCH(kernel, blocks, threads, stream, ...)                  \
  graphopt_simt::launch(kernel, (blocks), (threads), __VA_ARGS__)

inline int graphopt_launch_status() { return 0; }

/// cudaErrorMemoryAllocation when the host has no memory to give.
inline int graphopt_workspace(void **p, size_t bytes, void *) {
  *p = std::malloc(bytes);
  return *p ? 0 : 2;
}
inline void graphopt_workspace_release(void *p, void *) { std::free(p); }

#endif // GRAPHOPT_SIMT_H
