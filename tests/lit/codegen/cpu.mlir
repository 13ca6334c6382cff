// RUN: graphopt-opt %s -split-input-file --graphopt-test-print-cpu-kernels | FileCheck %s

// A pointwise kernel: OpenMP over the outer dims, a unit-stride inner loop,
// the broadcast operand indexed by the inner index only, vectorizable erf.
// The source includes graphopt's own header and no library header, which
// would cost the C++ compiler more time than the kernels.
// CHECK: #include "graphopt_kernel_math.h"
// CHECK-NOT: #include
// CHECK-LABEL: extern "C" void graphopt_pointwise_k0(const float *__restrict in0, const float *__restrict in1, float *__restrict out0)
// CHECK: #pragma omp parallel for
// CHECK-NEXT: for (int64_t o = 0; o < 256; ++o) {
// CHECK-NEXT: const int64_t i0 = o / 1 % 256;
// CHECK-NEXT: for (int64_t i1 = 0; i1 < 512; ++i1) {
// CHECK-NEXT: const float [[X:t[0-9]+]] = in0[i0 * 512 + i1];
// CHECK-NEXT: const float [[B:t[0-9]+]] = in1[i1];
// CHECK-NEXT: const float [[S:t[0-9]+]] = [[X]] + [[B]];
// CHECK-NEXT: const float [[E:t[0-9]+]] = graphopt_math::erf([[S]]);
// CHECK-NEXT: out0[o * 512 + i1] = [[E]];
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

// Column values: a BatchNorm's per-channel rsqrt(var / n + eps) * weight on
// NHWC data depends on the inner index alone. Each row would recompute it
// along its inner loop, where the compiler cannot hoist it; it is computed
// once, into an array, before the rows, which load it.
// CHECK-LABEL: void graphopt_nhwc_batch_norm_k0
// CHECK-NEXT: float col0[64];
// CHECK-NEXT: for (int64_t i3 = 0; i3 < 64; ++i3) {
// CHECK: graphopt_math::sqrt(
// CHECK: col0[i3] = t{{[0-9]+}};
// CHECK-NEXT: }
// CHECK-NEXT: #pragma omp parallel for
// CHECK-NOT: sqrt
// CHECK: const float [[X:t[0-9]+]] = in0[
// CHECK-NEXT: const float [[Y:t[0-9]+]] = [[X]] * col0[i3];
// CHECK-NOT: sqrt
// CHECK: }
func.func @nhwc_batch_norm(%x: tensor<16x8x8x64xf32>, %var: tensor<1x1x1x64xf32>, %w: tensor<64xf32>) -> tensor<16x8x8x64xf32> {
  %0 = graphopt.kernel (%x, %var, %w) : (tensor<16x8x8x64xf32>, tensor<1x1x1x64xf32>, tensor<64xf32>) -> tensor<16x8x8x64xf32> {
  ^bb0(%a: tensor<16x8x8x64xf32>, %v: tensor<1x1x1x64xf32>, %g: tensor<64xf32>):
    %n = graphopt.constant dense<1.024000e+03> : tensor<f32>
    %m = graphopt.div %v, %n : (tensor<1x1x1x64xf32>, tensor<f32>) -> tensor<1x1x1x64xf32>
    %eps = graphopt.constant dense<9.99999974E-6> : tensor<f32>
    %e = graphopt.add %m, %eps : (tensor<1x1x1x64xf32>, tensor<f32>) -> tensor<1x1x1x64xf32>
    %r = graphopt.rsqrt %e : tensor<1x1x1x64xf32>
    %s = graphopt.mul %r, %g : (tensor<1x1x1x64xf32>, tensor<64xf32>) -> tensor<1x1x1x64xf32>
    %y = graphopt.mul %a, %s : (tensor<16x8x8x64xf32>, tensor<1x1x1x64xf32>) -> tensor<16x8x8x64xf32>
    %z = graphopt.relu %y : tensor<16x8x8x64xf32>
    graphopt.yield %z : tensor<16x8x8x64xf32>
  }
  return %0 : tensor<16x8x8x64xf32>
}

// -----

// Per-channel statistics of NHWC data: one strip of 64 columns, which one
// thread would sum alone. The batch dim is split into 16 row ranges summed in
// parallel into partial strips; a serial pass folds them in range order (the
// same sums for any thread count), then computes the epilogue.
// CHECK-LABEL: void graphopt_channel_stats_k0
// CHECK-NEXT: double ranges[16][64];
// CHECK-NEXT: #pragma omp parallel for
// CHECK-NEXT: for (int64_t b = 0; b < 16; ++b) {
// CHECK: for (int64_t [[R:r[0-9]+]] = b % 16 * 16 / 16; [[R]] < (b % 16 + 1) * 16 / 16; ++[[R]]) {
// CHECK: for (int64_t j = 0; j < cn; ++j) ranges[b][j] = acc[j];
// CHECK: for (int64_t u = 0; u < 1; ++u) {
// CHECK: for (int64_t s = 0; s < 16; ++s)
// CHECK-NEXT: for (int64_t j = 0; j < cn; ++j) {
// CHECK-NEXT: acc[j] += ranges[u * 16 + s][j];
// CHECK: out1[o * 64 + c0 + j] =
func.func @channel_stats(%x: tensor<16x8x8x64xf32>) -> (tensor<1x1x1x64xf32>, tensor<1x1x1x64xf32>) {
  %0:2 = graphopt.kernel (%x) : (tensor<16x8x8x64xf32>) -> (tensor<1x1x1x64xf32>, tensor<1x1x1x64xf32>) {
  ^bb0(%a: tensor<16x8x8x64xf32>):
    %s = graphopt.reduce_sum %a [0, 1, 2] keepdim : tensor<16x8x8x64xf32> to tensor<1x1x1x64xf32>
    %n = graphopt.constant dense<1.024000e+03> : tensor<f32>
    %m = graphopt.div %s, %n : (tensor<1x1x1x64xf32>, tensor<f32>) -> tensor<1x1x1x64xf32>
    graphopt.yield %s, %m : tensor<1x1x1x64xf32>, tensor<1x1x1x64xf32>
  }
  return %0#0, %0#1 : tensor<1x1x1x64xf32>, tensor<1x1x1x64xf32>
}

// -----

// No column values in a kernel of one row (nothing to compute twice), nor
// of an input that is merely loaded.
// CHECK-LABEL: void graphopt_column_values_left_alone_k0
// CHECK-NOT: col0
// CHECK-LABEL: void graphopt_column_values_left_alone_k1
// CHECK-NOT: col0
// CHECK: extern "C"
func.func @column_values_left_alone(%x: tensor<4096xf32>, %v: tensor<4096xf32>, %y: tensor<64x256xf32>, %b: tensor<256xf32>) -> (tensor<4096xf32>, tensor<64x256xf32>) {
  %0 = graphopt.kernel (%x, %v) : (tensor<4096xf32>, tensor<4096xf32>) -> tensor<4096xf32> {
  ^bb0(%a: tensor<4096xf32>, %c: tensor<4096xf32>):
    %r = graphopt.rsqrt %c : tensor<4096xf32>
    %m = graphopt.mul %a, %r : (tensor<4096xf32>, tensor<4096xf32>) -> tensor<4096xf32>
    graphopt.yield %m : tensor<4096xf32>
  }
  %1 = graphopt.kernel (%y, %b) : (tensor<64x256xf32>, tensor<256xf32>) -> tensor<64x256xf32> {
  ^bb0(%a: tensor<64x256xf32>, %c: tensor<256xf32>):
    %m = graphopt.mul %a, %c : (tensor<64x256xf32>, tensor<256xf32>) -> tensor<64x256xf32>
    graphopt.yield %m : tensor<64x256xf32>
  }
  return %0, %1 : tensor<4096xf32>, tensor<64x256xf32>
}

// -----

// log calls the vectorizable graphopt_math::log (libm's logf is a scalar
// call); its double overload is libm's log.
// CHECK-LABEL: void graphopt_log_k0
// CHECK: const float [[L:t[0-9]+]] = graphopt_math::log(
// CHECK: const double [[D:t[0-9]+]] = graphopt_math::log(
func.func @log(%x: tensor<64x256xf32>, %y: tensor<64x256xf64>) -> (tensor<64x256xf32>, tensor<64x256xf64>) {
  %0:2 = graphopt.kernel (%x, %y) : (tensor<64x256xf32>, tensor<64x256xf64>) -> (tensor<64x256xf32>, tensor<64x256xf64>) {
  ^bb0(%a: tensor<64x256xf32>, %b: tensor<64x256xf64>):
    %l = graphopt.log %a : tensor<64x256xf32>
    %d = graphopt.log %b : tensor<64x256xf64>
    graphopt.yield %l, %d : tensor<64x256xf32>, tensor<64x256xf64>
  }
  return %0#0, %0#1 : tensor<64x256xf32>, tensor<64x256xf64>
}

// -----

// pow with a special constant exponent is computed as torch computes it:
// x^2 a multiply, x^0.5 a sqrt, x^-1 a division; other exponents call pow.
// CHECK-LABEL: void graphopt_pow_k0
// CHECK: const float [[X:t[0-9]+]] = in0[
// CHECK: const float [[SQ:t[0-9]+]] = [[X]] * [[X]];
// CHECK: const float [[RT:t[0-9]+]] = graphopt_math::sqrt([[X]]);
// CHECK: const float [[RC:t[0-9]+]] = (float)1 / [[X]];
// CHECK: const float [[P:t[0-9]+]] = (float)graphopt_math::pow([[X]],
// CHECK-NOT: graphopt_math::pow
func.func @pow(%x: tensor<64x256xf32>) -> (tensor<64x256xf32>, tensor<64x256xf32>, tensor<64x256xf32>, tensor<64x256xf32>) {
  %0:4 = graphopt.kernel (%x) : (tensor<64x256xf32>) -> (tensor<64x256xf32>, tensor<64x256xf32>, tensor<64x256xf32>, tensor<64x256xf32>) {
  ^bb0(%a: tensor<64x256xf32>):
    %two = graphopt.constant dense<2.0> : tensor<f32>
    %half = graphopt.constant dense<0.5> : tensor<f32>
    %m1 = graphopt.constant dense<-1.0> : tensor<f32>
    %other = graphopt.constant dense<1.7> : tensor<f32>
    %b2 = graphopt.broadcast %two : tensor<f32> to tensor<64x256xf32>
    %sq = graphopt.pow %a, %b2 : (tensor<64x256xf32>, tensor<64x256xf32>) -> tensor<64x256xf32>
    %rt = graphopt.pow %a, %half : (tensor<64x256xf32>, tensor<f32>) -> tensor<64x256xf32>
    %rc = graphopt.pow %a, %m1 : (tensor<64x256xf32>, tensor<f32>) -> tensor<64x256xf32>
    %p = graphopt.pow %a, %other : (tensor<64x256xf32>, tensor<f32>) -> tensor<64x256xf32>
    graphopt.yield %sq, %rt, %rc, %p : tensor<64x256xf32>, tensor<64x256xf32>, tensor<64x256xf32>, tensor<64x256xf32>
  }
  return %0#0, %0#1, %0#2, %0#3 : tensor<64x256xf32>, tensor<64x256xf32>, tensor<64x256xf32>, tensor<64x256xf32>
}

// -----

// Small kernels stay serial: no OpenMP region for 32 elements.
// CHECK-LABEL: void graphopt_small_k0
// CHECK-NOT: pragma omp parallel
// CHECK: for (int64_t o = 0; o < 4; ++o)
func.func @small(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %0 = graphopt.kernel (%x) : (tensor<4x8xf32>) -> tensor<4x8xf32> {
  ^bb0(%a: tensor<4x8xf32>):
    %n = graphopt.neg %a : tensor<4x8xf32>
    graphopt.yield %n : tensor<4x8xf32>
  }
  return %0 : tensor<4x8xf32>
}

// -----

// A row reduction (innermost dim reduced) with its prologue: an f32 sum
// adds blocks of 256 elements, each summed in float SIMD lanes, in double.
// CHECK-LABEL: void graphopt_row_sum_k0
// CHECK: double [[ACC:acc[0-9]+]] = 0;
// CHECK-NEXT: for (int64_t [[B:r[0-9]+]] = 0; [[B]] < 1024; [[B]] += 256) {
// CHECK-NEXT: float [[PART:acc[0-9]+]] = 0;
// CHECK-NEXT: #pragma omp simd reduction(+ : [[PART]])
// CHECK-NEXT: for (int64_t [[R:r[0-9]+]] = [[B]]; [[R]] < ([[B]] + 256 < 1024 ? [[B]] + 256 : 1024); ++[[R]]) {
// CHECK-NEXT: const float [[X:t[0-9]+]] = in0[i0 * 1024 + [[R]]];
// CHECK-NEXT: const float [[SQ:t[0-9]+]] = [[X]] * [[X]];
// CHECK-NEXT: [[PART]] += [[SQ]];
// CHECK-NEXT: }
// CHECK-NEXT: [[ACC]] += [[PART]];
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

// A sum over several dims (BatchNorm's statistics over N, H, W): blocks
// along the innermost reduced dim, one float block sum per (n, h) here.
// CHECK-LABEL: void graphopt_channel_sum_k0
// CHECK: double [[ACC:acc[0-9]+]] = 0;
// CHECK-NEXT: for (int64_t [[N:r[0-9]+]] = 0; [[N]] < 4; ++[[N]]) {
// CHECK-NEXT: for (int64_t [[H:r[0-9]+]] = 0; [[H]] < 8; ++[[H]]) {
// CHECK-NEXT: float [[PART:acc[0-9]+]] = 0;
// CHECK-NEXT: #pragma omp simd reduction(+ : [[PART]])
// CHECK-NEXT: for (int64_t [[W:r[0-9]+]] = 0; [[W]] < 8; ++[[W]]) {
// CHECK-NEXT: in0[[[N]] * 1024 + i1 * 64 + [[H]] * 8 + [[W]]]
// CHECK: [[ACC]] += [[PART]];
func.func @channel_sum(%x: tensor<4x16x8x8xf32>) -> tensor<1x16x1x1xf32> {
  %0 = graphopt.kernel (%x) : (tensor<4x16x8x8xf32>) -> tensor<1x16x1x1xf32> {
  ^bb0(%a: tensor<4x16x8x8xf32>):
    %s = graphopt.reduce_sum %a [0, 2, 3] keepdim : tensor<4x16x8x8xf32> to tensor<1x16x1x1xf32>
    graphopt.yield %s : tensor<1x16x1x1xf32>
  }
  return %0 : tensor<1x16x1x1xf32>
}

// -----

// A column reduction (bias gradient): a strip of accumulators along the kept
// innermost dim, as wide as the row (up to 4096), rows walked in order, every
// load unit-stride, each thread streaming whole rows. The f32 sum adds blocks
// of 256 rows in float partials, the blocks in double. One strip would leave
// threads idle: the rows are split into ranges of whole blocks (8 here), each
// summed into a partial strip, folded serially in range order.
// CHECK-LABEL: void graphopt_column_sum_k0
// CHECK-NEXT: double ranges[8][4096];
// CHECK-NEXT: #pragma omp parallel for
// CHECK-NEXT: for (int64_t b = 0; b < 8; ++b) {
// CHECK: double acc[4096];
// CHECK: for (int64_t [[B:r[0-9]+]] = b % 8 * 8 / 8 * 256; [[B]] < ((b % 8 + 1) * 8 / 8 * 256 < 2048 ? (b % 8 + 1) * 8 / 8 * 256 : 2048); [[B]] += 256) {
// CHECK-NEXT: float part[4096];
// CHECK-NEXT: for (int64_t j = 0; j < cn; ++j) part[j] = 0;
// CHECK-NEXT: for (int64_t [[R:r[0-9]+]] = [[B]]; [[R]] < ([[B]] + 256 < 2048 ? [[B]] + 256 : 2048); ++[[R]]) {
// CHECK-NEXT: #pragma omp simd
// CHECK-NEXT: for (int64_t j = 0; j < cn; ++j) {
// CHECK-NEXT: in0[[[R]] * 4096 + (c0 + j)]
// CHECK-NEXT: part[j] += 
// CHECK: for (int64_t j = 0; j < cn; ++j) acc[j] += part[j];
// CHECK: for (int64_t j = 0; j < cn; ++j) ranges[b][j] = acc[j];
// CHECK: for (int64_t s = 0; s < 8; ++s)
// CHECK-NEXT: for (int64_t j = 0; j < cn; ++j) {
// CHECK-NEXT: acc[j] += ranges[u * 8 + s][j];
// CHECK: for (int64_t j = 0; j < cn; ++j) {
// CHECK-NEXT: const float [[S:t[0-9]+]] = (float)acc[j];
// CHECK-NEXT: out0[o * 4096 + c0 + j] = [[S]];
func.func @column_sum(%g: tensor<2048x4096xf32>) -> tensor<4096xf32> {
  %0 = graphopt.kernel (%g) : (tensor<2048x4096xf32>) -> tensor<4096xf32> {
  ^bb0(%a: tensor<2048x4096xf32>):
    %s = graphopt.reduce_sum %a [0] : tensor<2048x4096xf32> to tensor<4096xf32>
    graphopt.yield %s : tensor<4096xf32>
  }
  return %0 : tensor<4096xf32>
}

// -----

// Two column sums of one kernel (a LayerNorm's bias and weight gradients,
// merged by graphopt-fuse-siblings) add into strips of their own in the
// same loops: dy is loaded once per element for both.
// CHECK-LABEL: void graphopt_two_column_sums_k0
// CHECK-NEXT: double ranges[4][768];
// CHECK-NEXT: double ranges_1[4][768];
// CHECK: double acc[768];
// CHECK: double acc_1[768];
// CHECK: float part[768];
// CHECK: float part_1[768];
// CHECK: #pragma omp simd
// CHECK-NEXT: for (int64_t j = 0; j < cn; ++j) {
// CHECK-NEXT: const float [[G:t[0-9]+]] = in0[{{.*}}];
// CHECK-NEXT: part[j] += [[G]];
// CHECK-NEXT: const float [[G2:t[0-9]+]] = in0[{{.*}}];
// CHECK-NEXT: const float [[X:t[0-9]+]] = in1[{{.*}}];
// CHECK-NEXT: const float [[P:t[0-9]+]] = [[G2]] * [[X]];
// CHECK-NEXT: part_1[j] += [[P]];
// CHECK-NEXT: }
// CHECK: for (int64_t j = 0; j < cn; ++j) acc[j] += part[j];
// CHECK-NEXT: for (int64_t j = 0; j < cn; ++j) acc_1[j] += part_1[j];
// CHECK: out0[o * 768 + c0 + j] = {{.*}};
// CHECK-NEXT: out1[o * 768 + c0 + j] = {{.*}};
func.func @two_column_sums(%dy: tensor<1024x768xf32>, %xhat: tensor<1024x768xf32>) -> (tensor<768xf32>, tensor<768xf32>) {
  %0:2 = graphopt.kernel (%dy, %xhat) : (tensor<1024x768xf32>, tensor<1024x768xf32>) -> (tensor<768xf32>, tensor<768xf32>) {
  ^bb0(%g: tensor<1024x768xf32>, %x: tensor<1024x768xf32>):
    %b = graphopt.reduce_sum %g [0] : tensor<1024x768xf32> to tensor<768xf32>
    %p = graphopt.mul %g, %x : (tensor<1024x768xf32>, tensor<1024x768xf32>) -> tensor<1024x768xf32>
    %w = graphopt.reduce_sum %p [0] : tensor<1024x768xf32> to tensor<768xf32>
    graphopt.yield %b, %w : tensor<768xf32>, tensor<768xf32>
  }
  return %0#0, %0#1 : tensor<768xf32>, tensor<768xf32>
}

// -----

// Two per-channel sums of one kernel (a BatchNorm backward's sum(dy) and
// sum(dy * (x - mean)), merged by graphopt-fuse-siblings) share the
// row-blocked loop nest: lanes of their own, dy loaded once per element for
// both, one double accumulator each.
// CHECK-LABEL: void graphopt_channel_sums_k0
// CHECK: double [[A:acc[0-9]+]] = 0;
// CHECK-NEXT: double [[B:acc[0-9]+]] = 0;
// CHECK: float [[LA:acc[0-9]+]][16] = {};
// CHECK-NEXT: float [[LB:acc[0-9]+]][16] = {};
// CHECK: #pragma omp simd
// CHECK-NEXT: for (int64_t [[L:l[0-9]+]] = 0; [[L]] < 16; ++[[L]]) {
// CHECK: [[LA]][[[L]]] +=
// CHECK: [[LB]][[[L]]] +=
// CHECK: [[A]] += [[LA]][
// CHECK-NEXT: [[B]] += [[LB]][
// CHECK-NOT: acc{{[0-9]+}} = 0;
// CHECK: out1[
func.func @channel_sums(%dy: tensor<4x16x32x32xf32>, %x: tensor<4x16x32x32xf32>, %mean: tensor<1x16x1x1xf32>) -> (tensor<16xf32>, tensor<16xf32>) {
  %0:2 = graphopt.kernel (%dy, %x, %mean) : (tensor<4x16x32x32xf32>, tensor<4x16x32x32xf32>, tensor<1x16x1x1xf32>) -> (tensor<16xf32>, tensor<16xf32>) {
  ^bb0(%g: tensor<4x16x32x32xf32>, %a: tensor<4x16x32x32xf32>, %m: tensor<1x16x1x1xf32>):
    %s = graphopt.reduce_sum %g [0, 2, 3] : tensor<4x16x32x32xf32> to tensor<16xf32>
    %d = graphopt.sub %a, %m : (tensor<4x16x32x32xf32>, tensor<1x16x1x1xf32>) -> tensor<4x16x32x32xf32>
    %p = graphopt.mul %g, %d : (tensor<4x16x32x32xf32>, tensor<4x16x32x32xf32>) -> tensor<4x16x32x32xf32>
    %t = graphopt.reduce_sum %p [0, 2, 3] : tensor<4x16x32x32xf32> to tensor<16xf32>
    graphopt.yield %s, %t : tensor<16xf32>, tensor<16xf32>
  }
  return %0#0, %0#1 : tensor<16xf32>, tensor<16xf32>
}

// -----

// Rows longer than a strip are cut into equal strips (6144 columns of two
// joint sums: two strips of 3072), and strips that fill the threads need no
// row ranges.
// CHECK-LABEL: void graphopt_wide_column_sums_k0
// CHECK-NOT: ranges
// CHECK: for (int64_t b = 0; b < 128; ++b) {
// CHECK-NEXT: const int64_t o = b / 2;
// CHECK-NEXT: const int64_t c0 = b % 2 * 3072;
// CHECK: double acc[3072];
// CHECK: double acc_1[3072];
func.func @wide_column_sums(%dy: tensor<64x512x6144xf32>, %x: tensor<64x512x6144xf32>) -> (tensor<64x6144xf32>, tensor<64x6144xf32>) {
  %0:2 = graphopt.kernel (%dy, %x) : (tensor<64x512x6144xf32>, tensor<64x512x6144xf32>) -> (tensor<64x6144xf32>, tensor<64x6144xf32>) {
  ^bb0(%g: tensor<64x512x6144xf32>, %a: tensor<64x512x6144xf32>):
    %b = graphopt.reduce_sum %g [1] : tensor<64x512x6144xf32> to tensor<64x6144xf32>
    %p = graphopt.mul %g, %a : (tensor<64x512x6144xf32>, tensor<64x512x6144xf32>) -> tensor<64x512x6144xf32>
    %w = graphopt.reduce_sum %p [1] : tensor<64x512x6144xf32> to tensor<64x6144xf32>
    graphopt.yield %b, %w : tensor<64x6144xf32>, tensor<64x6144xf32>
  }
  return %0#0, %0#1 : tensor<64x6144xf32>, tensor<64x6144xf32>
}

// -----

// Left alone: a float-blocked column sum of one block of rows is not split
// into ranges (a range inside a block would change its float partial); its
// row is cut into strips of 256 columns instead, one per thread's share.
// CHECK-LABEL: void graphopt_short_column_sum_k0
// CHECK-NOT: ranges
// CHECK: for (int64_t b = 0; b < 8; ++b) {
// CHECK: float part[256];
func.func @short_column_sum(%g: tensor<200x2048xf32>) -> tensor<2048xf32> {
  %0 = graphopt.kernel (%g) : (tensor<200x2048xf32>) -> tensor<2048xf32> {
  ^bb0(%a: tensor<200x2048xf32>):
    %s = graphopt.reduce_sum %a [0] : tensor<200x2048xf32> to tensor<2048xf32>
    graphopt.yield %s : tensor<2048xf32>
  }
  return %0 : tensor<2048xf32>
}

// -----

// A column sum with a pointwise epilogue (a mean, then a scale read from
// memory): the strip's sums are final after the row loop, and the epilogue
// runs on each of them there, writing both outputs.
// CHECK-LABEL: void graphopt_column_mean_k0
// CHECK: for (int64_t j = 0; j < cn; ++j) acc[j] += part[j];
// CHECK: acc[j] += ranges[u * 8 + s][j];
// CHECK: for (int64_t j = 0; j < cn; ++j) {
// CHECK-NEXT: const float [[S:t[0-9]+]] = (float)acc[j];
// CHECK-NEXT: const float [[M:t[0-9]+]] = [[S]] * (float)4.8828125000000000e-04;
// CHECK-NEXT: const float [[W:t[0-9]+]] = in1[(c0 + j)];
// CHECK-NEXT: const float [[Y:t[0-9]+]] = [[M]] * [[W]];
// CHECK-NEXT: out0[o * 4096 + c0 + j] = [[M]];
// CHECK-NEXT: out1[o * 4096 + c0 + j] = [[Y]];
// CHECK-NEXT: }
func.func @column_mean(%g: tensor<2048x4096xf32>, %w: tensor<4096xf32>) -> (tensor<4096xf32>, tensor<4096xf32>) {
  %0:2 = graphopt.kernel (%g, %w) : (tensor<2048x4096xf32>, tensor<4096xf32>) -> (tensor<4096xf32>, tensor<4096xf32>) {
  ^bb0(%a: tensor<2048x4096xf32>, %b: tensor<4096xf32>):
    %s = graphopt.reduce_sum %a [0] : tensor<2048x4096xf32> to tensor<4096xf32>
    %n = graphopt.constant dense<4.8828125E-4> : tensor<f32>
    %m = graphopt.mul %s, %n : (tensor<4096xf32>, tensor<f32>) -> tensor<4096xf32>
    %y = graphopt.mul %m, %b : (tensor<4096xf32>, tensor<4096xf32>) -> tensor<4096xf32>
    graphopt.yield %m, %y : tensor<4096xf32>, tensor<4096xf32>
  }
  return %0#0, %0#1 : tensor<4096xf32>, tensor<4096xf32>
}

// -----

// BatchNorm's variance with its epilogue: per channel, the sum of squared
// deviations (row-blocked, as @channel_sum), then var = sum / N and
// rstd = rsqrt(var + eps) once per channel, after the reduction's loops.
// CHECK-LABEL: void graphopt_channel_rstd_k0
// CHECK: #pragma omp parallel for
// CHECK-NEXT: for (int64_t o = 0; o < 16; ++o) {
// CHECK: double [[ACC:acc[0-9]+]] = 0;
// CHECK: float [[LANES:acc[0-9]+]][16] = {};
// CHECK: for (int64_t [[L:l[0-9]+]] = 0; [[L]] < 16; ++[[L]]) [[ACC]] += [[LANES]][[[L]]];
// CHECK-NEXT: }
// CHECK-NEXT: }
// CHECK-NEXT: const float [[S:t[0-9]+]] = (float)[[ACC]];
// CHECK-NEXT: const float [[V:t[0-9]+]] = [[S]] / (float)4.0960000000000000e+03;
// CHECK-NEXT: const float [[E:t[0-9]+]] = [[V]] + (float)9.9999997473787516e-06;
// CHECK-NEXT: const float [[R:t[0-9]+]] = (float)1 / graphopt_math::sqrt([[E]]);
// CHECK-NEXT: out0[o * 1 + i3] = [[V]];
// CHECK-NEXT: out1[o * 1 + i3] = [[R]];
func.func @channel_rstd(%x: tensor<4x16x32x32xf32>, %mean: tensor<1x16x1x1xf32>) -> (tensor<1x16x1x1xf32>, tensor<1x16x1x1xf32>) {
  %0:2 = graphopt.kernel (%x, %mean) : (tensor<4x16x32x32xf32>, tensor<1x16x1x1xf32>) -> (tensor<1x16x1x1xf32>, tensor<1x16x1x1xf32>) {
  ^bb0(%a: tensor<4x16x32x32xf32>, %m: tensor<1x16x1x1xf32>):
    %d = graphopt.sub %a, %m : (tensor<4x16x32x32xf32>, tensor<1x16x1x1xf32>) -> tensor<4x16x32x32xf32>
    %d2 = graphopt.mul %d, %d : (tensor<4x16x32x32xf32>, tensor<4x16x32x32xf32>) -> tensor<4x16x32x32xf32>
    %s = graphopt.reduce_sum %d2 [0, 2, 3] keepdim : tensor<4x16x32x32xf32> to tensor<1x16x1x1xf32>
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

// A permute inside a kernel is index math: the load swaps the indices.
// CHECK-LABEL: void graphopt_transpose_exp_k0
// CHECK: in0[i1 * 16 + i0]
// CHECK: graphopt_math::exp
func.func @transpose_exp(%x: tensor<8x16xf32>) -> tensor<16x8xf32> {
  %0 = graphopt.kernel (%x) : (tensor<8x16xf32>) -> tensor<16x8xf32> {
  ^bb0(%a: tensor<8x16xf32>):
    %p = graphopt.permute %a [1, 0] : tensor<8x16xf32> to tensor<16x8xf32>
    %e = graphopt.exp %p : tensor<16x8xf32>
    graphopt.yield %e : tensor<16x8xf32>
  }
  return %0 : tensor<16x8xf32>
}

// -----

// max reductions propagate NaN and start from -inf; a short one is one
// sequential accumulator.
// CHECK-LABEL: void graphopt_row_max_k0
// CHECK: float [[ACC:acc[0-9]+]] = -graphopt_math::infinity<float>();
// CHECK-NOT: omp simd reduction
// CHECK: [[ACC]] = ([[V:t[0-9]+]] != [[V]] || [[V]] > [[ACC]]) ? [[V]] : [[ACC]];
func.func @row_max(%x: tensor<4x8xf32>) -> tensor<4xf32> {
  %0 = graphopt.kernel (%x) : (tensor<4x8xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4x8xf32>):
    %m = graphopt.reduce_max %a [1] : tensor<4x8xf32> to tensor<4xf32>
    graphopt.yield %m : tensor<4xf32>
  }
  return %0 : tensor<4xf32>
}

// -----

// A softmax kernel: per row, the max and the sum of exponentials are
// computed in loops before the row's output loop, which reuses them. The
// max keeps 16 NaN-propagating lanes (one accumulator would be a serial
// chain); the sum pass stores each exponential in a row-long stash that the
// output loop loads instead of calling exp again.
// CHECK-LABEL: void graphopt_softmax_row_k0
// CHECK: for (int64_t o = 0; o < 64; ++o) {
// CHECK: alignas(64) float [[STASH:s[0-9]+]][512];
// CHECK: float [[LANES:acc[0-9]+]][16];
// CHECK-NEXT: for (int [[L:l[0-9]+]] = 0; [[L]] < 16; ++[[L]]) [[LANES]][[[L]]] = -graphopt_math::infinity<float>();
// CHECK-NEXT: for (int64_t [[STRIP:r[0-9]+]] = 0; [[STRIP]] < 512; [[STRIP]] += 16) {
// CHECK-NEXT: #pragma omp simd
// CHECK-NEXT: for (int64_t [[L]] = 0; [[L]] < 16; ++[[L]]) {
// CHECK-NEXT: const float [[X:t[0-9]+]] = in0[i0 * 512 + ([[STRIP]] + [[L]])];
// CHECK-NEXT: [[LANES]][[[L]]] = ([[X]] != [[X]] || [[X]] > [[LANES]][[[L]]]) ? [[X]] : [[LANES]][[[L]]];
// CHECK: float [[MAX:acc[0-9]+]] = [[LANES]][0];
// CHECK-NEXT: for (int [[L]] = 1; [[L]] < 16; ++[[L]]) [[MAX]] = ([[LANES]][[[L]]] != [[LANES]][[[L]]] || [[LANES]][[[L]]] > [[MAX]]) ? [[LANES]][[[L]]] : [[MAX]];
// CHECK: double [[SUM:acc[0-9]+]] = 0;
// CHECK: #pragma omp simd reduction(+ :
// CHECK-NEXT: for (int64_t [[R:r[0-9]+]] = {{r[0-9]+}}; [[R]] < ({{.*}}); ++[[R]]) {
// CHECK: const float [[E:t[0-9]+]] = graphopt_math::exp(
// CHECK-NEXT: [[STASH]][[[R]]] = [[E]];
// CHECK: const float [[S:t[0-9]+]] = (float)[[SUM]];
// CHECK: for (int64_t i1 = 0; i1 < 512; ++i1) {
// CHECK-NEXT: const float [[E2:t[0-9]+]] = [[STASH]][i1];
// CHECK-NOT: graphopt_math::exp
// CHECK: [[E2]] / [[S]];
func.func @softmax_row(%x: tensor<64x512xf32>) -> tensor<64x512xf32> {
  %0 = graphopt.kernel (%x) : (tensor<64x512xf32>) -> tensor<64x512xf32> {
  ^bb0(%a: tensor<64x512xf32>):
    %m = graphopt.reduce_max %a [1] keepdim : tensor<64x512xf32> to tensor<64x1xf32>
    %d = graphopt.sub %a, %m : (tensor<64x512xf32>, tensor<64x1xf32>) -> tensor<64x512xf32>
    %e = graphopt.exp %d : tensor<64x512xf32>
    %s = graphopt.reduce_sum %e [1] keepdim : tensor<64x512xf32> to tensor<64x1xf32>
    %y = graphopt.div %e, %s : (tensor<64x512xf32>, tensor<64x1xf32>) -> tensor<64x512xf32>
    graphopt.yield %y : tensor<64x512xf32>
  }
  return %0 : tensor<64x512xf32>
}

// -----

// A kernel with per-row outputs (a training LayerNorm's mean and rstd): they
// are computed once per row with the row reductions and stored before the
// row's loop; the rsqrt is no longer evaluated per element.
// CHECK-LABEL: void graphopt_layer_norm_saves_statistics_k0(const float *__restrict in0, float *__restrict out0, float *__restrict out1, float *__restrict out2)
// CHECK: for (int64_t o = 0; o < 8; ++o) {
// CHECK: [[MEAN:t[0-9]+]] = {{t[0-9]+}} * (float)3.1250000000000000e-02;
// CHECK: [[RSTD:t[0-9]+]] = (float)1 / graphopt_math::sqrt(
// CHECK-NEXT: out0[o] = [[MEAN]];
// CHECK-NEXT: out1[o] = [[RSTD]];
// CHECK-NEXT: for (int64_t i1 = 0; i1 < 32; ++i1) {
// CHECK-NOT: std::sqrt
// CHECK: out2[o * 32 + i1] =
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

// LayerNorm then softmax on rows of 40: the max pass stashes the LayerNorm
// output from its 16-lane strips and from its scalar remainder (32 + 8), and
// the sum pass loads it. x - mean (a load and a subtract) is cheaper to
// recompute than to store and load again: it is not stashed.
// CHECK-LABEL: void graphopt_norm_softmax_k0
// CHECK: alignas(64) float [[LN:s[0-9]+]][40];
// CHECK: alignas(64) float [[EXP:s[0-9]+]][40];
// CHECK-NOT: alignas
// CHECK: for (int64_t [[STRIP:r[0-9]+]] = 0; [[STRIP]] < 32; [[STRIP]] += 16) {
// CHECK: [[LN]][([[STRIP]] + [[L:l[0-9]+]])] = [[Y:t[0-9]+]];
// CHECK: for (int64_t [[REST:r[0-9]+]] = 32; [[REST]] < 40; ++[[REST]]) {
// CHECK: [[LN]][[[REST]]] = [[Y2:t[0-9]+]];
// CHECK: #pragma omp simd reduction(+ :
// CHECK-NEXT: for (int64_t [[R:r[0-9]+]] = 0; [[R]] < 40; ++[[R]]) {
// CHECK-NEXT: const float {{t[0-9]+}} = [[LN]][[[R]]];
// CHECK: [[EXP]][[[R]]] =
// CHECK: for (int64_t i1 = 0; i1 < 40; ++i1) {
// CHECK-NEXT: const float {{t[0-9]+}} = [[EXP]][i1];
func.func @norm_softmax(%x: tensor<4x40xf32>) -> tensor<4x40xf32> {
  %0 = graphopt.kernel (%x) : (tensor<4x40xf32>) -> tensor<4x40xf32> {
  ^bb0(%a: tensor<4x40xf32>):
    %n = graphopt.constant dense<4.000000e+01> : tensor<f32>
    %s = graphopt.reduce_sum %a [1] keepdim : tensor<4x40xf32> to tensor<4x1xf32>
    %mean = graphopt.div %s, %n : (tensor<4x1xf32>, tensor<f32>) -> tensor<4x1xf32>
    %c = graphopt.sub %a, %mean : (tensor<4x40xf32>, tensor<4x1xf32>) -> tensor<4x40xf32>
    %sq = graphopt.mul %c, %c : (tensor<4x40xf32>, tensor<4x40xf32>) -> tensor<4x40xf32>
    %ss = graphopt.reduce_sum %sq [1] keepdim : tensor<4x40xf32> to tensor<4x1xf32>
    %var = graphopt.div %ss, %n : (tensor<4x1xf32>, tensor<f32>) -> tensor<4x1xf32>
    %r = graphopt.rsqrt %var : tensor<4x1xf32>
    %y = graphopt.mul %c, %r : (tensor<4x40xf32>, tensor<4x1xf32>) -> tensor<4x40xf32>
    %m = graphopt.reduce_max %y [1] keepdim : tensor<4x40xf32> to tensor<4x1xf32>
    %d = graphopt.sub %y, %m : (tensor<4x40xf32>, tensor<4x1xf32>) -> tensor<4x40xf32>
    %e = graphopt.exp %d : tensor<4x40xf32>
    %z = graphopt.reduce_sum %e [1] keepdim : tensor<4x40xf32> to tensor<4x1xf32>
    %o = graphopt.div %e, %z : (tensor<4x40xf32>, tensor<4x1xf32>) -> tensor<4x40xf32>
    graphopt.yield %o : tensor<4x40xf32>
  }
  return %0 : tensor<4x40xf32>
}

// -----

// An output written in place of an input (graphopt.in_place): the pair is
// not restrict, and every output is computed before any is stored, so the
// second output's load of in0 comes before the first output overwrites it.
// CHECK-LABEL: extern "C" void graphopt_in_place_k0(const float *in0, const float *__restrict in1, float *out0, float *__restrict out1)
// CHECK: const float [[B:t[0-9]+]] = in1[
// CHECK: const float [[E:t[0-9]+]] = graphopt_math::exp([[B]]);
// CHECK: const float [[A:t[0-9]+]] = in0[
// CHECK: const float [[N:t[0-9]+]] = -[[A]];
// CHECK-NEXT: out0[o * 64 + i1] = [[E]];
// CHECK-NEXT: out1[o * 64 + i1] = [[N]];
func.func @in_place(%x: tensor<16x64xf32>, %y: tensor<16x64xf32>) -> (tensor<16x64xf32>, tensor<16x64xf32>) {
  %0:2 = graphopt.kernel (%x, %y) {graphopt.in_place = array<i64: 0, -1>} : (tensor<16x64xf32>, tensor<16x64xf32>) -> (tensor<16x64xf32>, tensor<16x64xf32>) {
  ^bb0(%a: tensor<16x64xf32>, %b: tensor<16x64xf32>):
    %e = graphopt.exp %b : tensor<16x64xf32>
    %n = graphopt.neg %a : tensor<16x64xf32>
    graphopt.yield %e, %n : tensor<16x64xf32>, tensor<16x64xf32>
  }
  return %0#0, %0#1 : tensor<16x64xf32>, tensor<16x64xf32>
}

// -----

// A flat pointwise kernel (one row) is split into chunks of 4096 elements
// that OpenMP shares out; a row of 100000 makes 25 chunks, the last short.
// CHECK-LABEL: void graphopt_flat_k0
// CHECK: #pragma omp parallel for schedule(static)
// CHECK-NEXT: for (int64_t b = 0; b < 25; ++b) {
// CHECK-NEXT: const int64_t o = b / 25;
// CHECK-NEXT: const int64_t lo = b % 25 * 4096;
// CHECK-NEXT: const int64_t hi = lo + 4096 < 100000 ? lo + 4096 : 100000;
// CHECK: for (int64_t i0 = lo; i0 < hi; ++i0) {
// CHECK: out0[o * 100000 + i0] =
func.func @flat(%x: tensor<100000xf32>) -> tensor<100000xf32> {
  %0 = graphopt.kernel (%x) : (tensor<100000xf32>) -> tensor<100000xf32> {
  ^bb0(%a: tensor<100000xf32>):
    %e = graphopt.exp %a : tensor<100000xf32>
    graphopt.yield %e : tensor<100000xf32>
  }
  return %0 : tensor<100000xf32>
}

// -----

// One row of independent reductions (a BatchNorm gradient's per-channel sum
// over N, H, W): the row's channels are shared out, not the single row.
// An image row (32 floats) is shorter than a float block (256), so a block
// is 8 rows summed in 16 float lanes (16 elements per lane, as in a block
// of one long row), and the lanes add into the double once per block.
// CHECK-LABEL: void graphopt_per_channel_k0
// CHECK-NOT: #pragma omp parallel
// CHECK: for (int64_t o = 0; o < 1; ++o) {
// CHECK-NEXT: #pragma omp parallel for schedule(static)
// CHECK-NEXT: for (int64_t i0 = 0; i0 < 64; ++i0) {
// CHECK-NEXT: double [[ACC:acc[0-9]+]] = 0;
// CHECK-NEXT: for (int64_t [[N:r[0-9]+]] = 0; [[N]] < 16; ++[[N]]) {
// CHECK-NEXT: for (int64_t [[B:r[0-9]+]] = 0; [[B]] < 32; [[B]] += 8) {
// CHECK-NEXT: float [[PART:acc[0-9]+]][16] = {};
// CHECK-NEXT: for (int64_t [[ROW:r[0-9]+]] = [[B]]; [[ROW]] < [[B]] + 8; ++[[ROW]]) {
// CHECK-NEXT: for (int64_t [[S:r[0-9]+]] = 0; [[S]] < 32; [[S]] += 16) {
// CHECK-NEXT: #pragma omp simd
// CHECK-NEXT: for (int64_t [[L:l[0-9]+]] = 0; [[L]] < 16; ++[[L]]) {
// CHECK-NEXT: const float [[X:t[0-9]+]] = in0[[[N]] * 65536 + i0 * 1024 + [[ROW]] * 32 + ([[S]] + [[L]])];
// CHECK-NEXT: [[PART]][[[L]]] += [[X]];
// CHECK: for (int64_t [[L]] = 0; [[L]] < 16; ++[[L]]) [[ACC]] += [[PART]][[[L]]];
func.func @per_channel(%x: tensor<16x64x32x32xf32>) -> tensor<64xf32> {
  %0 = graphopt.kernel (%x) : (tensor<16x64x32x32xf32>) -> tensor<64xf32> {
  ^bb0(%a: tensor<16x64x32x32xf32>):
    %s = graphopt.reduce_sum %a [0, 2, 3] : tensor<16x64x32x32xf32> to tensor<64xf32>
    graphopt.yield %s : tensor<64xf32>
  }
  return %0 : tensor<64xf32>
}

// -----

// A slice inside a kernel is an offset in the load's index: the kernel reads
// its part of the larger buffer in place.
// CHECK-LABEL: void graphopt_slice_in_kernel_k0
// CHECK: const float [[X:t[0-9]+]] = in0[i0 * 1536 + (i1 + 512)];
// CHECK-NEXT: graphopt_math::exp([[X]])
// CHECK-NEXT: out0[o * 512 + i1]
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

// Kernels with the same types, in-place outputs and body share one function
// (a model's repeated layers): k2 is k0 again and is not printed. Those that
// must keep their own: k1 (another shape), k3 (another op), k4 (another
// constant), k5 (k0 writing in place of its input: no restrict).
// CHECK: One function per distinct graphopt.kernel
// CHECK-LABEL: extern "C" void graphopt_shared_k0(const float *__restrict in0, float *__restrict out0)
// CHECK: graphopt_math::exp
// CHECK-LABEL: extern "C" void graphopt_shared_k1(const float *__restrict in0, float *__restrict out0)
// CHECK-NOT: graphopt_shared_k2
// CHECK-LABEL: extern "C" void graphopt_shared_k3(
// CHECK: graphopt_math::log
// CHECK-LABEL: extern "C" void graphopt_shared_k4(
// CHECK: (float)3.0
// CHECK-LABEL: extern "C" void graphopt_shared_k5(const float *in0, float *out0)
// CHECK-NOT: graphopt_shared_k
func.func @shared(%x: tensor<64x64xf32>, %y: tensor<32x64xf32>) -> (tensor<64x64xf32>, tensor<32x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>) {
  %0 = graphopt.kernel (%x) : (tensor<64x64xf32>) -> tensor<64x64xf32> {
  ^bb0(%a: tensor<64x64xf32>):
    %c = graphopt.constant dense<2.0> : tensor<f32>
    %m = graphopt.mul %a, %c : (tensor<64x64xf32>, tensor<f32>) -> tensor<64x64xf32>
    %e = graphopt.exp %m : tensor<64x64xf32>
    graphopt.yield %e : tensor<64x64xf32>
  }
  %1 = graphopt.kernel (%y) : (tensor<32x64xf32>) -> tensor<32x64xf32> {
  ^bb0(%a: tensor<32x64xf32>):
    %c = graphopt.constant dense<2.0> : tensor<f32>
    %m = graphopt.mul %a, %c : (tensor<32x64xf32>, tensor<f32>) -> tensor<32x64xf32>
    %e = graphopt.exp %m : tensor<32x64xf32>
    graphopt.yield %e : tensor<32x64xf32>
  }
  %2 = graphopt.kernel (%0) : (tensor<64x64xf32>) -> tensor<64x64xf32> {
  ^bb0(%a: tensor<64x64xf32>):
    %c = graphopt.constant dense<2.0> : tensor<f32>
    %m = graphopt.mul %a, %c : (tensor<64x64xf32>, tensor<f32>) -> tensor<64x64xf32>
    %e = graphopt.exp %m : tensor<64x64xf32>
    graphopt.yield %e : tensor<64x64xf32>
  }
  %3 = graphopt.kernel (%x) : (tensor<64x64xf32>) -> tensor<64x64xf32> {
  ^bb0(%a: tensor<64x64xf32>):
    %c = graphopt.constant dense<2.0> : tensor<f32>
    %m = graphopt.mul %a, %c : (tensor<64x64xf32>, tensor<f32>) -> tensor<64x64xf32>
    %e = graphopt.log %m : tensor<64x64xf32>
    graphopt.yield %e : tensor<64x64xf32>
  }
  %4 = graphopt.kernel (%x) : (tensor<64x64xf32>) -> tensor<64x64xf32> {
  ^bb0(%a: tensor<64x64xf32>):
    %c = graphopt.constant dense<3.0> : tensor<f32>
    %m = graphopt.mul %a, %c : (tensor<64x64xf32>, tensor<f32>) -> tensor<64x64xf32>
    %e = graphopt.exp %m : tensor<64x64xf32>
    graphopt.yield %e : tensor<64x64xf32>
  }
  %5 = graphopt.kernel (%2) {graphopt.in_place = array<i64: 0>} : (tensor<64x64xf32>) -> tensor<64x64xf32> {
  ^bb0(%a: tensor<64x64xf32>):
    %c = graphopt.constant dense<2.0> : tensor<f32>
    %m = graphopt.mul %a, %c : (tensor<64x64xf32>, tensor<f32>) -> tensor<64x64xf32>
    %e = graphopt.exp %m : tensor<64x64xf32>
    graphopt.yield %e : tensor<64x64xf32>
  }
  return %0, %1, %2, %3, %4, %5 : tensor<64x64xf32>, tensor<32x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>
}

// -----

// Bool tensors are bytes: a mask is read as uint8_t compared with 0, which
// GCC vectorizes next to float loads (read as `bool`, the loop stayed
// scalar); a bool result is stored as a byte.
// CHECK-LABEL: extern "C" void graphopt_masked_k0(const float *__restrict in0, const uint8_t *__restrict in1, float *__restrict out0, uint8_t *__restrict out1)
// CHECK: const bool [[M:t[0-9]+]] = (in1[i1] != 0);
// CHECK: [[M]] ? (float)0.0
// CHECK: out1[o * 256 + i1] =
func.func @masked(%x: tensor<64x256xf32>, %m: tensor<256xi1>) -> (tensor<64x256xf32>, tensor<64x256xi1>) {
  %0:2 = graphopt.kernel (%x, %m) : (tensor<64x256xf32>, tensor<256xi1>) -> (tensor<64x256xf32>, tensor<64x256xi1>) {
  ^bb0(%a: tensor<64x256xf32>, %b: tensor<256xi1>):
    %zero = graphopt.constant dense<0.0> : tensor<f32>
    %w = graphopt.where %b, %zero, %a : (tensor<256xi1>, tensor<f32>, tensor<64x256xf32>) -> tensor<64x256xf32>
    %c = graphopt.cmp "gt", %a, %zero : (tensor<64x256xf32>, tensor<f32>) -> tensor<64x256xi1>
    graphopt.yield %w, %c : tensor<64x256xf32>, tensor<64x256xi1>
  }
  return %0#0, %0#1 : tensor<64x256xf32>, tensor<64x256xi1>
}

// -----

// Under `#pragma omp simd` (the lanes of a max), a mask byte is read as a
// bool, which GCC blends with in fewer instructions than with a compare.
// CHECK-LABEL: extern "C" void graphopt_masked_max_k0(const float *__restrict in0, const uint8_t *__restrict in1, float *__restrict out0)
// CHECK: #pragma omp simd
// CHECK-NEXT: for (int64_t [[L:l[0-9]+]] = 0;
// CHECK-NEXT: const bool {{t[0-9]+}} = reinterpret_cast<const bool *>(in1)[(
func.func @masked_max(%x: tensor<64x256xf32>, %m: tensor<256xi1>) -> tensor<64x1xf32> {
  %0 = graphopt.kernel (%x, %m) : (tensor<64x256xf32>, tensor<256xi1>) -> tensor<64x1xf32> {
  ^bb0(%a: tensor<64x256xf32>, %b: tensor<256xi1>):
    %ninf = graphopt.constant dense<0xFF800000> : tensor<f32>
    %w = graphopt.where %b, %ninf, %a : (tensor<256xi1>, tensor<f32>, tensor<64x256xf32>) -> tensor<64x256xf32>
    %r = graphopt.reduce_max %w [1] keepdim : tensor<64x256xf32> to tensor<64x1xf32>
    graphopt.yield %r : tensor<64x1xf32>
  }
  return %0 : tensor<64x1xf32>
}
