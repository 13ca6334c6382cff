// RUN: graphopt-opt %s -split-input-file --graphopt-test-print-cuda-kernels | FileCheck %s

// A pointwise kernel: one thread per element over a grid-stride loop, the
// same body as the CPU kernel, and a launcher taking a stream.
// CHECK-LABEL: __global__ void __launch_bounds__(256) graphopt_pointwise_k0_kernel(const float *__restrict__ in0, const float *__restrict__ in1, float *__restrict__ out0) {
// CHECK-NEXT: for (int64_t o = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; o < 131072; o += (int64_t)gridDim.x * blockDim.x) {
// CHECK-NEXT: const int64_t i1 = o / 1 % 512;
// CHECK-NEXT: const int64_t i0 = o / 512 % 256;
// CHECK-NEXT: const float [[X:t[0-9]+]] = in0[i0 * 512 + i1];
// CHECK-NEXT: const float [[B:t[0-9]+]] = in1[i1];
// CHECK-NEXT: const float [[S:t[0-9]+]] = [[X]] + [[B]];
// CHECK-NEXT: const float [[E:t[0-9]+]] = graphopt_math::erf([[S]]);
// CHECK-NEXT: out0[o] = [[E]];
// CHECK: extern "C" int graphopt_pointwise_k0(const float *__restrict__ in0, const float *__restrict__ in1, float *__restrict__ out0, void *stream) {
// CHECK-NEXT: GRAPHOPT_LAUNCH(graphopt_pointwise_k0_kernel, 512, 256, stream, in0, in1, out0);
func.func @pointwise(%x: tensor<256x512xf32>, %b: tensor<512xf32>) -> tensor<256x512xf32> {
  %0 = graphopt.kernel (%x, %b) : (tensor<256x512xf32>, tensor<512xf32>) -> tensor<256x512xf32> {
  ^bb0(%a: tensor<256x512xf32>, %c: tensor<512xf32>):
    %s = graphopt.add %a, %c : (tensor<256x512xf32>, tensor<512xf32>) -> tensor<256x512xf32>
    %e = graphopt.erf %s : tensor<256x512xf32>
    graphopt.yield %e : tensor<256x512xf32>
  }
  return %0 : tensor<256x512xf32>
}

// -----

// A row reduction: one block per output element, its threads take the
// reduced elements in turn, then combine through graphopt_block_reduce; one
// thread stores. f32 sums stay in float (a tree, not a sequential sum).
// CHECK-LABEL: graphopt_row_sum_k0_kernel
// CHECK-NEXT: for (int64_t o = blockIdx.x; o < 64; o += gridDim.x) {
// CHECK-NEXT: const int64_t i0 = o / 1 % 64;
// CHECK-NEXT: float [[ACC:acc[0-9]+]] = 0;
// CHECK-NEXT: for (int64_t [[F:f[0-9]+]] = threadIdx.x; [[F]] < 1024; [[F]] += blockDim.x) {
// CHECK-NEXT: const int64_t [[R:r[0-9]+_0]] = [[F]] / 1 % 1024;
// CHECK-NEXT: const float [[X:t[0-9]+]] = in0[i0 * 1024 + [[R]]];
// CHECK-NEXT: const float [[M:t[0-9]+]] = [[X]] * [[X]];
// CHECK-NEXT: [[ACC]] += [[M]];
// CHECK-NEXT: }
// CHECK-NEXT: [[ACC]] = graphopt_block_reduce([[ACC]], (float)(0), graphopt_sum());
// CHECK-NEXT: const float [[S:t[0-9]+]] = (float)[[ACC]];
// CHECK-NEXT: if (threadIdx.x == 0) {
// CHECK-NEXT: out0[o] = [[S]];
// CHECK: GRAPHOPT_LAUNCH(graphopt_row_sum_k0_kernel, 64, 256, stream, in0, out0);
func.func @row_sum(%x: tensor<64x1024xf32>) -> tensor<64x1xf32> {
  %0 = graphopt.kernel (%x) : (tensor<64x1024xf32>) -> tensor<64x1xf32> {
  ^bb0(%a: tensor<64x1024xf32>):
    %m = graphopt.mul %a, %a : (tensor<64x1024xf32>, tensor<64x1024xf32>) -> tensor<64x1024xf32>
    %s = graphopt.reduce_sum %m [1] keepdim : tensor<64x1024xf32> to tensor<64x1xf32>
    graphopt.yield %s : tensor<64x1xf32>
  }
  return %0 : tensor<64x1xf32>
}

// -----

// A per-channel sum with its epilogue (BatchNorm's rstd): one block per
// channel (4096 elements each: too few to split); after the block's reduction every thread has the sum, computes
// the epilogue, and thread 0 writes both outputs.
// CHECK-LABEL: graphopt_channel_rstd_k0_kernel
// CHECK-NEXT: for (int64_t o = blockIdx.x; o < 16; o += gridDim.x) {
// CHECK: [[ACC:acc[0-9]+]] = graphopt_block_reduce([[ACC]], (float)(0), graphopt_sum());
// CHECK-NEXT: const float [[S:t[0-9]+]] = (float)[[ACC]];
// CHECK-NEXT: const float [[V:t[0-9]+]] = [[S]] / (float)4.0960000000000000e+03;
// CHECK-NEXT: const float [[E:t[0-9]+]] = [[V]] + (float)9.9999997473787516e-06;
// CHECK-NEXT: const float [[R:t[0-9]+]] = (float)1 / graphopt_math::sqrt([[E]]);
// CHECK-NEXT: if (threadIdx.x == 0) {
// CHECK-NEXT: out0[o] = [[V]];
// CHECK-NEXT: out1[o] = [[R]];
// CHECK: GRAPHOPT_LAUNCH(graphopt_channel_rstd_k0_kernel, 16, 256, stream, in0, out0, out1);
func.func @channel_rstd(%x: tensor<4x16x32x32xf32>) -> (tensor<1x16x1x1xf32>, tensor<1x16x1x1xf32>) {
  %0:2 = graphopt.kernel (%x) : (tensor<4x16x32x32xf32>) -> (tensor<1x16x1x1xf32>, tensor<1x16x1x1xf32>) {
  ^bb0(%a: tensor<4x16x32x32xf32>):
    %s = graphopt.reduce_sum %a [0, 2, 3] keepdim : tensor<4x16x32x32xf32> to tensor<1x16x1x1xf32>
    %n = graphopt.constant dense<4.096000e+03> : tensor<f32>
    %v = graphopt.div %s, %n : (tensor<1x16x1x1xf32>, tensor<f32>) -> tensor<1x16x1x1xf32>
    %eps = graphopt.constant dense<9.99999974E-6> : tensor<f32>
    %ve = graphopt.add %v, %eps : (tensor<1x16x1x1xf32>, tensor<f32>) -> tensor<1x16x1x1xf32>
    %r = graphopt.rsqrt %ve : tensor<1x16x1x1xf32>
    graphopt.yield %v, %r : tensor<1x16x1x1xf32>, tensor<1x16x1x1xf32>
  }
  return %0#0, %0#1 : tensor<1x16x1x1xf32>, tensor<1x16x1x1xf32>
}

// -----

// The same per-channel sum over 16 images of 64x64: one block per channel
// would be 16 blocks, so each channel's 65536 elements are split into 16
// ranges (an image plane each), summed by a block each; the epilogue runs
// after the fold.
// CHECK-LABEL: graphopt_channel_rstd_split_k0_partials_kernel
// CHECK-NEXT: const int64_t s = blockIdx.x % 16;
// CHECK-NEXT: const int64_t o = blockIdx.x / 16;
// CHECK-NEXT: const int64_t lo = s * 65536 / 16, hi = (s + 1) * 65536 / 16;
// CHECK-NEXT: float [[ACC:acc[0-9]+]] = 0;
// CHECK-NEXT: const int64_t i1 = o / 1 % 16;
// CHECK-NEXT: for (int64_t [[F:f[0-9]+]] = lo + threadIdx.x; [[F]] < hi; [[F]] += blockDim.x) {
// CHECK: [[ACC]] = graphopt_block_reduce([[ACC]], (float)(0), graphopt_sum());
// CHECK-NEXT: if (threadIdx.x == 0) {
// CHECK-NEXT: ws[s * 16 + o] = [[ACC]];
// CHECK-LABEL: graphopt_channel_rstd_split_k0_kernel
// CHECK: for (int64_t s = 0; s < 16; ++s) {
// CHECK: graphopt_math::sqrt
// CHECK: out0[o] =
// CHECK-NEXT: out1[o] =
// CHECK: GRAPHOPT_LAUNCH(graphopt_channel_rstd_split_k0_partials_kernel, 256, 256, stream, in0, out0, out1, (float *)ws);
// CHECK-NEXT: GRAPHOPT_LAUNCH(graphopt_channel_rstd_split_k0_kernel, 1, 256, stream, in0, out0, out1, (float *)ws);
func.func @channel_rstd_split(%x: tensor<16x16x64x64xf32>) -> (tensor<1x16x1x1xf32>, tensor<1x16x1x1xf32>) {
  %0:2 = graphopt.kernel (%x) : (tensor<16x16x64x64xf32>) -> (tensor<1x16x1x1xf32>, tensor<1x16x1x1xf32>) {
  ^bb0(%a: tensor<16x16x64x64xf32>):
    %s = graphopt.reduce_sum %a [0, 2, 3] keepdim : tensor<16x16x64x64xf32> to tensor<1x16x1x1xf32>
    %n = graphopt.constant dense<6.553600e+04> : tensor<f32>
    %v = graphopt.div %s, %n : (tensor<1x16x1x1xf32>, tensor<f32>) -> tensor<1x16x1x1xf32>
    %eps = graphopt.constant dense<9.99999974E-6> : tensor<f32>
    %ve = graphopt.add %v, %eps : (tensor<1x16x1x1xf32>, tensor<f32>) -> tensor<1x16x1x1xf32>
    %r = graphopt.rsqrt %ve : tensor<1x16x1x1xf32>
    graphopt.yield %v, %r : tensor<1x16x1x1xf32>, tensor<1x16x1x1xf32>
  }
  return %0#0, %0#1 : tensor<1x16x1x1xf32>, tensor<1x16x1x1xf32>
}

// -----

// A column reduction (bias gradient) of few columns and many rows: one
// thread per column would fill 16 blocks, so the rows are split into 4
// ranges. In the partials kernel a warp's lanes take 32 adjacent columns
// (coalesced loads) and the block's 8 warps every 8th row of the range; the
// warps' sums meet in shared memory, in warp order. The second kernel folds
// each column's 4 partials in range order.
// CHECK-LABEL: graphopt_column_sum_k0_partials_kernel(const float *__restrict__ in0, float *__restrict__ out0, float *__restrict__ ws) {
// CHECK-NEXT: const int64_t s = blockIdx.x / 128;
// CHECK-NEXT: const int64_t o = blockIdx.x % 128 * 32 + threadIdx.x % 32;
// CHECK-NEXT: const int64_t lo = s * 2048 / 4, hi = (s + 1) * 2048 / 4;
// CHECK-NEXT: float [[ACC:acc[0-9]+]] = 0;
// CHECK-NEXT: if (o < 4096) {
// CHECK-NEXT: const int64_t i0 = o / 1 % 4096;
// CHECK-NEXT: #pragma unroll 4
// CHECK-NEXT: for (int64_t [[F:f[0-9]+]] = lo + threadIdx.x / 32; [[F]] < hi; [[F]] += 8) {
// CHECK-NEXT: const int64_t [[R:r[0-9]+_0]] = [[F]] / 1 % 2048;
// CHECK-NEXT: const float [[X:t[0-9]+]] = in0[[[R]] * 4096 + i0];
// CHECK-NEXT: [[ACC]] += [[X]];
// CHECK: __shared__ float group0[256];
// CHECK-NEXT: group0[threadIdx.x] = [[ACC]];
// CHECK-NEXT: __syncthreads();
// CHECK-NEXT: if (threadIdx.x < 32 && o < 4096) {
// CHECK-NEXT: for (int64_t g = 1; g < 8; ++g) {
// CHECK-NEXT: const float p = group0[g * 32 + threadIdx.x];
// CHECK-NEXT: [[ACC]] += p;
// CHECK-NEXT: }
// CHECK-NEXT: ws[s * 4096 + o] = [[ACC]];
// CHECK-LABEL: graphopt_column_sum_k0_kernel(const float *__restrict__ in0, float *__restrict__ out0, float *__restrict__ ws) {
// CHECK: for (int64_t s = 0; s < 4; ++s) {
// CHECK-NEXT: const float p = ws[s * 4096 + o];
// CHECK: out0[o] =
// CHECK-LABEL: extern "C" int graphopt_column_sum_k0(const float *__restrict__ in0, float *__restrict__ out0, void *stream) {
// CHECK-NEXT: void *ws;
// CHECK-NEXT: if (int error = graphopt_workspace(&ws, 16384 * sizeof(float), stream))
// CHECK-NEXT: return error;
// CHECK-NEXT: GRAPHOPT_LAUNCH(graphopt_column_sum_k0_partials_kernel, 512, 256, stream, in0, out0, (float *)ws);
// CHECK-NEXT: GRAPHOPT_LAUNCH(graphopt_column_sum_k0_kernel, 16, 256, stream, in0, out0, (float *)ws);
// CHECK-NEXT: graphopt_workspace_release(ws, stream);
// CHECK-NEXT: return graphopt_launch_status();
func.func @column_sum(%g: tensor<2048x4096xf32>) -> tensor<4096xf32> {
  %0 = graphopt.kernel (%g) : (tensor<2048x4096xf32>) -> tensor<4096xf32> {
  ^bb0(%a: tensor<2048x4096xf32>):
    %s = graphopt.reduce_sum %a [0] : tensor<2048x4096xf32> to tensor<4096xf32>
    graphopt.yield %s : tensor<4096xf32>
  }
  return %0 : tensor<4096xf32>
}

// -----

// A column reduction over few rows is left one thread per column.
// CHECK-LABEL: graphopt_short_columns_k0_kernel
// CHECK-NEXT: for (int64_t o = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; o < 4096;
// CHECK-NOT: partials
// CHECK: GRAPHOPT_LAUNCH(graphopt_short_columns_k0_kernel, 16, 256, stream, in0, out0);
// CHECK-NEXT: return graphopt_launch_status();
func.func @short_columns(%g: tensor<64x4096xf32>) -> tensor<4096xf32> {
  %0 = graphopt.kernel (%g) : (tensor<64x4096xf32>) -> tensor<4096xf32> {
  ^bb0(%a: tensor<64x4096xf32>):
    %s = graphopt.reduce_sum %a [0] : tensor<64x4096xf32> to tensor<4096xf32>
    graphopt.yield %s : tensor<4096xf32>
  }
  return %0 : tensor<4096xf32>
}

// -----

// Per-channel sums of NHWC data (a BatchNorm's weight and bias gradients,
// merged by graphopt-fuse-siblings): 64 columns of 16384 rows. Both sums
// share the partials kernel's loop, each with its own partials.
// CHECK-LABEL: graphopt_nhwc_channel_grads_k0_partials_kernel
// CHECK-NEXT: const int64_t s = blockIdx.x / 2;
// CHECK-NEXT: const int64_t o = blockIdx.x % 2 * 32 + threadIdx.x % 32;
// CHECK-NEXT: const int64_t lo = s * 16384 / 256, hi = (s + 1) * 16384 / 256;
// CHECK-NEXT: float [[A:acc[0-9]+]] = 0;
// CHECK-NEXT: float [[B:acc[0-9]+]] = 0;
// CHECK: for (int64_t [[F:f[0-9]+]] = lo + threadIdx.x / 32; [[F]] < hi; [[F]] += 8) {
// CHECK: [[A]] += [[X:t[0-9]+]];
// CHECK: [[B]] +=
// CHECK: ws[s * 64 + o] = [[A]];
// CHECK-NEXT: ws[16384 + s * 64 + o] = [[B]];
// CHECK-LABEL: graphopt_nhwc_channel_grads_k0_kernel
// CHECK: const float p = ws[s * 64 + o];
// CHECK: const float p = ws[16384 + s * 64 + o];
// CHECK: GRAPHOPT_LAUNCH(graphopt_nhwc_channel_grads_k0_partials_kernel, 512, 256, stream, in0, in1, out0, out1, (float *)ws);
// CHECK-NEXT: GRAPHOPT_LAUNCH(graphopt_nhwc_channel_grads_k0_kernel, 1, 256, stream, in0, in1, out0, out1, (float *)ws);
func.func @nhwc_channel_grads(%g: tensor<16x32x32x64xf32>, %x: tensor<16x32x32x64xf32>) -> (tensor<64xf32>, tensor<64xf32>) {
  %0:2 = graphopt.kernel (%g, %x) : (tensor<16x32x32x64xf32>, tensor<16x32x32x64xf32>) -> (tensor<64xf32>, tensor<64xf32>) {
  ^bb0(%a: tensor<16x32x32x64xf32>, %b: tensor<16x32x32x64xf32>):
    %gx = graphopt.mul %a, %b : (tensor<16x32x32x64xf32>, tensor<16x32x32x64xf32>) -> tensor<16x32x32x64xf32>
    %w = graphopt.reduce_sum %gx [0, 1, 2] : tensor<16x32x32x64xf32> to tensor<64xf32>
    %bias = graphopt.reduce_sum %a [0, 1, 2] : tensor<16x32x32x64xf32> to tensor<64xf32>
    graphopt.yield %w, %bias : tensor<64xf32>, tensor<64xf32>
  }
  return %0#0, %0#1 : tensor<64xf32>, tensor<64xf32>
}

// -----

// A column max splits like a sum; the fold keeps the NaN-propagating max.
// CHECK-LABEL: graphopt_column_max_k0_partials_kernel
// CHECK: float [[ACC:acc[0-9]+]] = -graphopt_math::infinity<float>();
// CHECK-LABEL: graphopt_column_max_k0_kernel
// CHECK: const float p = ws[s * 128 + o];
// CHECK-NEXT: [[M:acc[0-9]+]] = (p != p || p > [[M]]) ? p : [[M]];
func.func @column_max(%x: tensor<4096x128xf32>) -> tensor<128xf32> {
  %0 = graphopt.kernel (%x) : (tensor<4096x128xf32>) -> tensor<128xf32> {
  ^bb0(%a: tensor<4096x128xf32>):
    %m = graphopt.reduce_max %a [0] : tensor<4096x128xf32> to tensor<128xf32>
    graphopt.yield %m : tensor<128xf32>
  }
  return %0 : tensor<128xf32>
}

// -----

// A second reduction that reads the first (a variance from the mean) needs
// the first's final value: no split, one block per channel as before.
// CHECK-LABEL: graphopt_channel_variance_k0_kernel
// CHECK-NEXT: for (int64_t o = blockIdx.x; o < 16; o += gridDim.x) {
// CHECK-NOT: partials
// CHECK: GRAPHOPT_LAUNCH(graphopt_channel_variance_k0_kernel, 16, 256, stream, in0, out0);
func.func @channel_variance(%x: tensor<16x16x64x64xf32>) -> tensor<1x16x1x1xf32> {
  %0 = graphopt.kernel (%x) : (tensor<16x16x64x64xf32>) -> tensor<1x16x1x1xf32> {
  ^bb0(%a: tensor<16x16x64x64xf32>):
    %s = graphopt.reduce_sum %a [0, 2, 3] keepdim : tensor<16x16x64x64xf32> to tensor<1x16x1x1xf32>
    %d = graphopt.sub %a, %s : (tensor<16x16x64x64xf32>, tensor<1x16x1x1xf32>) -> tensor<16x16x64x64xf32>
    %q = graphopt.mul %d, %d : (tensor<16x16x64x64xf32>, tensor<16x16x64x64xf32>) -> tensor<16x16x64x64xf32>
    %v = graphopt.reduce_sum %q [0, 2, 3] keepdim : tensor<16x16x64x64xf32> to tensor<1x16x1x1xf32>
    graphopt.yield %v : tensor<1x16x1x1xf32>
  }
  return %0 : tensor<1x16x1x1xf32>
}

// -----

// Softmax: one block per row (128 threads for a 100-wide row); the max and
// the sum are block reductions in body order, the sum's prologue reusing the
// max; then the row's elements in a block-stride loop.
// CHECK-LABEL: graphopt_softmax_row_k0_kernel
// CHECK-NEXT: for (int64_t o = blockIdx.x; o < 64; o += gridDim.x) {
// CHECK: float [[MAX:acc[0-9]+]] = -graphopt_math::infinity<float>();
// CHECK: [[MAX]] = graphopt_block_reduce([[MAX]], (float)(-graphopt_math::infinity<float>()), graphopt_max());
// CHECK-NEXT: const float [[M:t[0-9]+]] = (float)[[MAX]];
// CHECK: - [[M]];
// CHECK: = graphopt_math::exp(
// CHECK: graphopt_block_reduce({{.*}}graphopt_sum());
// CHECK-NEXT: const float [[S:t[0-9]+]] = (float)
// CHECK-NEXT: for (int64_t i1 = threadIdx.x; i1 < 100; i1 += blockDim.x) {
// CHECK: / [[S]];
// CHECK-NEXT: out0[o * 100 + i1] =
// CHECK: GRAPHOPT_LAUNCH(graphopt_softmax_row_k0_kernel, 64, 128, stream, in0, out0);
func.func @softmax_row(%x: tensor<64x100xf32>) -> tensor<64x100xf32> {
  %0 = graphopt.kernel (%x) : (tensor<64x100xf32>) -> tensor<64x100xf32> {
  ^bb0(%a: tensor<64x100xf32>):
    %m = graphopt.reduce_max %a [1] keepdim : tensor<64x100xf32> to tensor<64x1xf32>
    %d = graphopt.sub %a, %m : (tensor<64x100xf32>, tensor<64x1xf32>) -> tensor<64x100xf32>
    %e = graphopt.exp %d : tensor<64x100xf32>
    %s = graphopt.reduce_sum %e [1] keepdim : tensor<64x100xf32> to tensor<64x1xf32>
    %y = graphopt.div %e, %s : (tensor<64x100xf32>, tensor<64x1xf32>) -> tensor<64x100xf32>
    graphopt.yield %y : tensor<64x100xf32>
  }
  return %0 : tensor<64x100xf32>
}

// -----

// bf16 storage: loads widen to float, the store rounds once.
// CHECK-LABEL: graphopt_bf16_k0_kernel(const uint16_t *__restrict__ in0, uint16_t *__restrict__ out0)
// CHECK: = graphopt_math::bf16_to_f32(in0[
// CHECK: out0[o] = graphopt_math::f32_to_bf16(
func.func @bf16(%x: tensor<8x32xbf16>) -> tensor<8x32xbf16> {
  %0 = graphopt.kernel (%x) : (tensor<8x32xbf16>) -> tensor<8x32xbf16> {
  ^bb0(%a: tensor<8x32xbf16>):
    %t = graphopt.tanh %a : tensor<8x32xbf16>
    graphopt.yield %t : tensor<8x32xbf16>
  }
  return %0 : tensor<8x32xbf16>
}

// -----

// Same-shape f32 operands: a float4 variant, taken when all pointers are
// 16-byte aligned, evaluates the body once per lane.
// CHECK-LABEL: __global__ void __launch_bounds__(256) graphopt_vec_k0_vec4_kernel(const float *__restrict__ in0, const float *__restrict__ in1, float *__restrict__ out0) {
// CHECK-NEXT: for (int64_t v = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; v < 256; v += (int64_t)gridDim.x * blockDim.x) {
// CHECK-NEXT: const float4 vin0 = reinterpret_cast<const float4 *>(in0)[v];
// CHECK-NEXT: const float4 vin1 = reinterpret_cast<const float4 *>(in1)[v];
// CHECK-NEXT: float4 r0;
// CHECK-NEXT: const float [[A:t[0-9]+]] = vin0.x;
// CHECK-NEXT: const float [[B:t[0-9]+]] = vin1.x;
// CHECK-NEXT: const float [[S:t[0-9]+]] = [[A]] * [[B]];
// CHECK-NEXT: const float [[E:t[0-9]+]] = graphopt_math::exp([[S]]);
// CHECK-NEXT: r0.x = [[E]];
// CHECK: r0.w =
// CHECK-NEXT: reinterpret_cast<float4 *>(out0)[v] = r0;
// CHECK: extern "C" int graphopt_vec_k0(
// CHECK-NEXT: if ((((uintptr_t)in0 | (uintptr_t)in1 | (uintptr_t)out0) & 15) == 0)
// CHECK-NEXT: GRAPHOPT_LAUNCH(graphopt_vec_k0_vec4_kernel, 1, 256, stream, in0, in1, out0);
// CHECK-NEXT: else
// CHECK-NEXT: GRAPHOPT_LAUNCH(graphopt_vec_k0_kernel, 4, 256, stream, in0, in1, out0);
func.func @vec(%x: tensor<32x32xf32>, %y: tensor<32x32xf32>) -> tensor<32x32xf32> {
  %0 = graphopt.kernel (%x, %y) : (tensor<32x32xf32>, tensor<32x32xf32>) -> tensor<32x32xf32> {
  ^bb0(%a: tensor<32x32xf32>, %b: tensor<32x32xf32>):
    %m = graphopt.mul %a, %b : (tensor<32x32xf32>, tensor<32x32xf32>) -> tensor<32x32xf32>
    %e = graphopt.exp %m : tensor<32x32xf32>
    graphopt.yield %e : tensor<32x32xf32>
  }
  return %0 : tensor<32x32xf32>
}

// -----

// A kernel with per-row outputs (a training LayerNorm's mean and rstd): they
// are computed once per row with the row reductions and stored before the
// row's loop; the rsqrt is no longer evaluated per element.
// On the GPU, one thread of the row's block stores them.
// CHECK-LABEL: graphopt_layer_norm_saves_statistics_k0_kernel(const float *__restrict__ in0, float *__restrict__ out0, float *__restrict__ out1, float *__restrict__ out2)
// CHECK: graphopt_block_reduce(
// CHECK: graphopt_block_reduce(
// CHECK: [[RSTD:t[0-9]+]] = (float)1 / graphopt_math::sqrt(
// CHECK-NEXT: if (threadIdx.x == 0) {
// CHECK-NEXT: out0[o] =
// CHECK-NEXT: out1[o] = [[RSTD]];
// CHECK-NEXT: }
// CHECK-NEXT: for (int64_t i1 = threadIdx.x; i1 < 32; i1 += blockDim.x) {
func.func @layer_norm_saves_statistics(%arg0: tensor<8x32xf32>) -> (tensor<8x32xf32>, tensor<8x1xf32>, tensor<8x1xf32>) {
  %0:3 = graphopt.kernel(%arg0) : (tensor<8x32xf32>) -> (tensor<8x1xf32>, tensor<8x1xf32>, tensor<8x32xf32>) {
  ^bb0(%arg1: tensor<8x32xf32>):
    %1 = graphopt.constant dense<3.125000e-02> : tensor<f32>
    %2 = graphopt.constant dense<3.125000e-02> : tensor<f32>
    %3 = graphopt.constant dense<9.99999974E-6> : tensor<f32>
    %4 = graphopt.reduce_sum %arg1 [1] keepdim : tensor<8x32xf32> to tensor<8x1xf32>
    %5 = graphopt.mul %4, %2 : (tensor<8x1xf32>, tensor<f32>) -> tensor<8x1xf32>
    %6 = graphopt.sub %arg1, %5 : (tensor<8x32xf32>, tensor<8x1xf32>) -> tensor<8x32xf32>
    %7 = graphopt.mul %6, %6 : (tensor<8x32xf32>, tensor<8x32xf32>) -> tensor<8x32xf32>
    %8 = graphopt.reduce_sum %7 [1] keepdim : tensor<8x32xf32> to tensor<8x1xf32>
    %9 = graphopt.mul %8, %1 : (tensor<8x1xf32>, tensor<f32>) -> tensor<8x1xf32>
    %10 = graphopt.add %9, %3 : (tensor<8x1xf32>, tensor<f32>) -> tensor<8x1xf32>
    %11 = graphopt.rsqrt %10 : tensor<8x1xf32>
    %12 = graphopt.mul %6, %11 : (tensor<8x32xf32>, tensor<8x1xf32>) -> tensor<8x32xf32>
    graphopt.yield %5, %11, %12 : tensor<8x1xf32>, tensor<8x1xf32>, tensor<8x32xf32>
  }
  return %0#2, %0#0, %0#1 : tensor<8x32xf32>, tensor<8x1xf32>, tensor<8x1xf32>
}

// -----

// A slice is an offset in the load's index; the kernel has no float4
// variant (its input is not of the output's shape).
// CHECK-LABEL: graphopt_slice_in_kernel_k0_kernel(
// CHECK: in0[i0 * 1536 + (i1 + 512)]
// CHECK-NOT: vec4
func.func @slice_in_kernel(%x: tensor<64x1536xf32>) -> tensor<64x512xf32> {
  %0 = graphopt.kernel (%x) : (tensor<64x1536xf32>) -> tensor<64x512xf32> {
  ^bb0(%a: tensor<64x1536xf32>):
    %s = graphopt.slice %a [0, 512] : tensor<64x1536xf32> to tensor<64x512xf32>
    %e = graphopt.exp %s : tensor<64x512xf32>
    graphopt.yield %e : tensor<64x512xf32>
  }
  return %0 : tensor<64x512xf32>
}

// -----

// Kernels with the same code share one __global__ function and launcher:
// k1 repeats k0 and is not printed.
// CHECK-LABEL: graphopt_repeated_k0_kernel
// CHECK: extern "C" int graphopt_repeated_k0(
// CHECK-NOT: graphopt_repeated_k1
func.func @repeated(%x: tensor<64x64xf32>) -> tensor<64x64xf32> {
  %0 = graphopt.kernel (%x) : (tensor<64x64xf32>) -> tensor<64x64xf32> {
  ^bb0(%a: tensor<64x64xf32>):
    %e = graphopt.exp %a : tensor<64x64xf32>
    graphopt.yield %e : tensor<64x64xf32>
  }
  %1 = graphopt.kernel (%0) : (tensor<64x64xf32>) -> tensor<64x64xf32> {
  ^bb0(%a: tensor<64x64xf32>):
    %e = graphopt.exp %a : tensor<64x64xf32>
    graphopt.yield %e : tensor<64x64xf32>
  }
  return %1 : tensor<64x64xf32>
}

// -----

// A reduction over an empty dim is not split (nothing to divide).
// CHECK-LABEL: graphopt_empty_columns_k0_kernel
// CHECK-NOT: partials
// CHECK: GRAPHOPT_LAUNCH(graphopt_empty_columns_k0_kernel,
func.func @empty_columns(%g: tensor<0x64xf32>) -> tensor<64xf32> {
  %0 = graphopt.kernel (%g) : (tensor<0x64xf32>) -> tensor<64xf32> {
  ^bb0(%a: tensor<0x64xf32>):
    %s = graphopt.reduce_sum %a [0] : tensor<0x64xf32> to tensor<64xf32>
    graphopt.yield %s : tensor<64xf32>
  }
  return %0 : tensor<64xf32>
}
