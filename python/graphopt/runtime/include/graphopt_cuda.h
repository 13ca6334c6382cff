// graphopt_cuda.h - what emitted CUDA kernels need: math, bf16, block reduce.
//
// Compiled by nvcc for the GPU, or as host C++ after graphopt_simt.h (the
// CPU emulation harness, -DGRAPHOPT_SIMT_EMULATION), which supplies
// threadIdx, __syncthreads, __shfl_down_sync and the launch.
#ifndef GRAPHOPT_CUDA_H
#define GRAPHOPT_CUDA_H

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#ifndef GRAPHOPT_SIMT_EMULATION
#define GRAPHOPT_LAUNCH(kernel, blocks, threads, stream, ...)                  \
  kernel<<<(blocks), (threads), 0, (cudaStream_t)(stream)>>>(__VA_ARGS__)

/// The CUDA error of the launches so far (0: accepted), for the launcher to
/// return; the runtime raises on anything else.
static inline int graphopt_launch_status() { return (int)cudaGetLastError(); }

/// Scratch memory ordered on `stream` (the pool of cudaMallocAsync reuses
/// it without a device synchronization): a split reduction's partials.
static inline int graphopt_workspace(void **p, size_t bytes, void *stream) {
  return (int)cudaMallocAsync(p, bytes, (cudaStream_t)stream);
}
static inline void graphopt_workspace_release(void *p, void *stream) {
  cudaFreeAsync(p, (cudaStream_t)stream);
}
#endif

namespace graphopt_math {

// The names graphopt_kernel_math.h gives CPU kernels: both emitters print
// the same calls.
__device__ __forceinline__ float sqrt(float x) { return ::sqrtf(x); }
__device__ __forceinline__ double sqrt(double x) { return ::sqrt(x); }
__device__ __forceinline__ float abs(float x) { return ::fabsf(x); }
__device__ __forceinline__ double abs(double x) { return ::fabs(x); }
template <typename T> __device__ __forceinline__ T abs(T x) {
  return x < 0 ? (T)(0 - (uint64_t)x) : x;
}
__device__ __forceinline__ float pow(float x, float e) { return ::powf(x, e); }
__device__ __forceinline__ double pow(double x, double e) { return ::pow(x, e); }
template <typename A, typename B> __device__ __forceinline__ double pow(A x, B e) {
  return ::pow((double)x, (double)e);
}
template <typename T> __device__ __forceinline__ T infinity() {
  return std::numeric_limits<T>::infinity();
}
template <typename T> __device__ __forceinline__ T quiet_nan() {
  return std::numeric_limits<T>::quiet_NaN();
}
template <typename T> __device__ __forceinline__ T lowest() {
  return std::numeric_limits<T>::lowest();
}
__device__ __forceinline__ float exp(float x) { return ::expf(x); }
__device__ __forceinline__ double exp(double x) { return ::exp(x); }
__device__ __forceinline__ float log(float x) { return ::logf(x); }
__device__ __forceinline__ double log(double x) { return ::log(x); }
__device__ __forceinline__ float erf(float x) { return ::erff(x); }
__device__ __forceinline__ double erf(double x) { return ::erf(x); }
__device__ __forceinline__ float tanh(float x) { return ::tanhf(x); }
__device__ __forceinline__ double tanh(double x) { return ::tanh(x); }
__device__ __forceinline__ float sigmoid(float x) { return 1.0f / (1.0f + ::expf(-x)); }
__device__ __forceinline__ double sigmoid(double x) { return 1.0 / (1.0 + ::exp(-x)); }

/// bfloat16 storage: kernels compute in float and round once when storing.
__device__ __forceinline__ float bf16_to_f32(uint16_t h) {
  uint32_t bits = (uint32_t)h << 16;
  float f;
  memcpy(&f, &bits, sizeof f);
  return f;
}

/// Round to nearest even, NaN to the canonical quiet NaN, as torch does.
__device__ __forceinline__ uint16_t f32_to_bf16(float f) {
  uint32_t bits;
  memcpy(&bits, &f, sizeof bits);
  uint16_t rounded = (uint16_t)((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
  return f != f ? (uint16_t)0x7FC0 : rounded;
}

__device__ __forceinline__ float round_bf16(float f) { return bf16_to_f32(f32_to_bf16(f)); }

} // namespace graphopt_math

struct graphopt_sum {
  template <typename T> __device__ __forceinline__ T operator()(T a, T b) const { return a + b; }
};

/// max that propagates NaN from either side, like torch.amax.
struct graphopt_max {
  template <typename T> __device__ __forceinline__ T operator()(T a, T b) const {
    return (a != a || a > b) ? a : b;
  }
};

/// Shuffles move 32-bit or 64-bit words: narrower types travel as int.
template <typename T> __device__ __forceinline__ T graphopt_shfl_down(T v, int offset) {
  if constexpr (sizeof(T) < 4)
    return (T)__shfl_down_sync(0xffffffffu, (int)v, offset);
  else
    return __shfl_down_sync(0xffffffffu, v, offset);
}

/// Combines one value per thread of the block; every thread gets the result.
/// Called by all threads of the block (it synchronizes them); blockDim.x is
/// a multiple of 32. `init` is the combine's identity.
template <typename T, typename Combine>
__device__ __forceinline__ T graphopt_block_reduce(T v, T init, Combine combine) {
  __shared__ T partial[32];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int warps = (blockDim.x + 31) >> 5;
  for (int offset = 16; offset > 0; offset >>= 1)
    v = combine(v, graphopt_shfl_down(v, offset));
  if (lane == 0)
    partial[warp] = v;
  __syncthreads();
  if (warp == 0) {
    v = lane < warps ? partial[lane] : init;
    for (int offset = 16; offset > 0; offset >>= 1)
      v = combine(v, graphopt_shfl_down(v, offset));
    if (lane == 0)
      partial[0] = v;
  }
  __syncthreads();
  v = partial[0];
  __syncthreads(); // partial is reused by the next reduction
  return v;
}

#endif // GRAPHOPT_CUDA_H
