// RUN: graphopt-opt %s -split-input-file --graphopt-fuse | FileCheck %s

// A chain of elementwise ops with a broadcast constant becomes one kernel;
// the constant is copied into it.
// CHECK-LABEL: func.func @chain
// CHECK: %[[K:.*]] = graphopt.kernel(%arg0, %arg1)
// CHECK-NEXT: ^bb0(%[[X:.*]]: tensor<8x16xf32>, %[[B:.*]]: tensor<16xf32>):
// CHECK-NEXT:   %[[C:.*]] = graphopt.constant dense<5.000000e-01>
// CHECK-NEXT:   %[[M:.*]] = graphopt.mul %[[X]], %[[C]]
// CHECK-NEXT:   %[[A:.*]] = graphopt.add %[[M]], %[[B]]
// CHECK-NEXT:   %[[E:.*]] = graphopt.erf %[[A]]
// CHECK-NEXT:   graphopt.yield %[[E]]
// CHECK: return %[[K]]
func.func @chain(%x: tensor<8x16xf32>, %b: tensor<16xf32>) -> tensor<8x16xf32> {
  %c = graphopt.constant dense<0.5> : tensor<f32>
  %0 = graphopt.mul %x, %c : (tensor<8x16xf32>, tensor<f32>) -> tensor<8x16xf32>
  %1 = graphopt.add %0, %b : (tensor<8x16xf32>, tensor<16xf32>) -> tensor<8x16xf32>
  %2 = graphopt.erf %1 : tensor<8x16xf32>
  return %2 : tensor<8x16xf32>
}

// -----

// A matmul splits two chains: one kernel before it, one after.
// CHECK-LABEL: func.func @around_matmul
// CHECK: graphopt.kernel
// CHECK: graphopt.tanh
// CHECK: graphopt.matmul
// CHECK: graphopt.kernel
// CHECK: graphopt.exp
// CHECK: graphopt.neg
// CHECK-NOT: graphopt.kernel
func.func @around_matmul(%x: tensor<4x8xf32>, %w: tensor<8x8xf32>) -> tensor<4x8xf32> {
  %0 = graphopt.tanh %x : tensor<4x8xf32>
  %1 = graphopt.matmul %0, %w : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  %2 = graphopt.exp %1 : tensor<4x8xf32>
  %3 = graphopt.neg %2 : tensor<4x8xf32>
  return %3 : tensor<4x8xf32>
}

// -----

// A value also needed outside the group, with the group's full shape, is
// written as a second output of the same kernel.
// CHECK-LABEL: func.func @escaping_value
// CHECK: %[[K:.*]]:2 = graphopt.kernel(%arg0)
// CHECK: graphopt.yield %{{.*}}, %{{.*}} : tensor<4x8xf32>, tensor<4x8xf32>
// CHECK: graphopt.matmul %[[K]]#0
// CHECK: return %{{.*}}, %[[K]]#1
func.func @escaping_value(%x: tensor<4x8xf32>, %w: tensor<8x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  %0 = graphopt.exp %x : tensor<4x8xf32>
  %1 = graphopt.neg %0 : tensor<4x8xf32>
  %2 = graphopt.matmul %0, %w : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  return %2, %1 : tensor<4x8xf32>, tensor<4x8xf32>
}

// -----

// Fusing %0 into the group of %3 would need the matmul, which itself needs
// %0, to run in the middle of the kernel: a cycle. The pass refuses it.
// CHECK-LABEL: func.func @no_cycle
// CHECK: %[[A:.*]] = graphopt.kernel(%arg0)
// CHECK: graphopt.exp
// CHECK: %[[M:.*]] = graphopt.matmul %[[A]]
// CHECK: graphopt.kernel(%[[A]], %[[M]])
// CHECK: graphopt.add
func.func @no_cycle(%x: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %0 = graphopt.exp %x : tensor<4x4xf32>
  %1 = graphopt.matmul %0, %0 : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %3 = graphopt.add %0, %1 : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  return %3 : tensor<4x4xf32>
}

// -----

// A reduction takes its private elementwise prologue, and its pointwise
// consumer of the reduced shape takes the reduction: one kernel, prologue,
// reduction and epilogue.
// CHECK-LABEL: func.func @reduction_prologue
// CHECK: %[[R:.*]] = graphopt.kernel(%arg0)
// CHECK-NEXT: ^bb0
// CHECK-NEXT: graphopt.mul
// CHECK-NEXT: graphopt.reduce_sum
// CHECK-NEXT: graphopt.sqrt
// CHECK-NEXT: graphopt.yield
// CHECK-NOT: graphopt.kernel
// CHECK: return %[[R]]
func.func @reduction_prologue(%x: tensor<4x8xf32>) -> tensor<4xf32> {
  %0 = graphopt.mul %x, %x : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %1 = graphopt.reduce_sum %0 [1] : tensor<4x8xf32> to tensor<4xf32>
  %2 = graphopt.sqrt %1 : tensor<4xf32>
  return %2 : tensor<4xf32>
}

// -----

// A permute feeding a matmul stays outside (a zero-copy view); its copy
// feeding the elementwise op is fused as index math.
// CHECK-LABEL: func.func @permute_split
// CHECK: %[[P:.*]] = graphopt.permute %arg0 [1, 0]
// CHECK: graphopt.kernel(%arg0)
// CHECK: graphopt.permute
// CHECK: graphopt.exp
// CHECK: graphopt.matmul %[[P]]
func.func @permute_split(%x: tensor<4x8xf32>, %w: tensor<4x2xf32>) -> (tensor<8x4xf32>, tensor<8x2xf32>) {
  %p = graphopt.permute %x [1, 0] : tensor<4x8xf32> to tensor<8x4xf32>
  %0 = graphopt.exp %p : tensor<8x4xf32>
  %1 = graphopt.matmul %p, %w : (tensor<8x4xf32>, tensor<4x2xf32>) -> tensor<8x2xf32>
  return %0, %1 : tensor<8x4xf32>, tensor<8x2xf32>
}

// -----

// Externs are never fused and keep their place.
// CHECK-LABEL: func.func @extern_barrier
// CHECK: graphopt.kernel
// CHECK: graphopt.extern "aten::foo"
// CHECK: graphopt.kernel
func.func @extern_barrier(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = graphopt.exp %x : tensor<4xf32>
  %1 = graphopt.extern "aten::foo"(%0) {args = "[{\"t\": 0}]"} : (tensor<4xf32>) -> tensor<4xf32>
  %2 = graphopt.neg %1 : tensor<4xf32>
  return %2 : tensor<4xf32>
}

// -----

// Views and constants alone make no kernel.
// CHECK-LABEL: func.func @views_only
// CHECK-NOT: graphopt.kernel
func.func @views_only(%x: tensor<4x8xf32>) -> (tensor<8x4xf32>, tensor<2x4x8xf32>) {
  %0 = graphopt.permute %x [1, 0] : tensor<4x8xf32> to tensor<8x4xf32>
  %1 = graphopt.broadcast %x : tensor<4x8xf32> to tensor<2x4x8xf32>
  return %0, %1 : tensor<8x4xf32>, tensor<2x4x8xf32>
}

// -----

// Earlier groups become one kernel each, so cycles through them count:
// group B = {%b2, %b1, %broot} is formed first. Taking %a1 into %a2's group
// would give A -> B (through %b1) -> extern -> A. The pass leaves %a1 in a
// kernel of its own.
// CHECK-LABEL: func.func @cycle_through_earlier_group
// CHECK: %[[A1:.*]] = graphopt.kernel(%arg0)
// CHECK-NEXT: ^bb0
// CHECK-NEXT: graphopt.exp
// CHECK-NEXT: graphopt.yield
// CHECK: %[[B:.*]]:2 = graphopt.kernel(%arg1, %[[A1]], %arg2)
// CHECK: %[[E:.*]] = graphopt.extern "aten::foo"(%[[B]]#0)
// CHECK: graphopt.kernel(%[[A1]], %[[E]])
// CHECK-NEXT: ^bb0
// CHECK-NEXT: graphopt.add
// CHECK-NEXT: graphopt.yield
func.func @cycle_through_earlier_group(%x: tensor<4x8xf32>, %y: tensor<2x4x8xf32>, %z: tensor<2x4x8xf32>) -> (tensor<4x8xf32>, tensor<2x4x8xf32>) {
  %b2 = graphopt.tanh %y : tensor<2x4x8xf32>
  %e = graphopt.extern "aten::foo"(%b2) {args = "[]"} : (tensor<2x4x8xf32>) -> tensor<4x8xf32>
  %a1 = graphopt.exp %x : tensor<4x8xf32>
  %b1 = graphopt.mul %a1, %z : (tensor<4x8xf32>, tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  %a2 = graphopt.add %a1, %e : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %broot = graphopt.add %b1, %b2 : (tensor<2x4x8xf32>, tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  return %a2, %broot : tensor<4x8xf32>, tensor<2x4x8xf32>
}

// -----

// Two functions in one module: the pass keeps no state from the first one
// (under ASan, stale state was a use-after-free found by the fuzzer).
// CHECK-LABEL: func.func @first
// CHECK: graphopt.kernel
// CHECK-LABEL: func.func @second
// CHECK: graphopt.kernel
// CHECK: graphopt.kernel
func.func @first(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = graphopt.exp %x : tensor<4xf32>
  %1 = graphopt.neg %0 : tensor<4xf32>
  return %1 : tensor<4xf32>
}
func.func @second(%x: tensor<4xf32>, %w: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %r = graphopt.reshape %x : tensor<4xf32> to tensor<1x4xf32>
  %0 = graphopt.tanh %r : tensor<1x4xf32>
  %1 = graphopt.matmul %0, %w : (tensor<1x4xf32>, tensor<4x4xf32>) -> tensor<1x4xf32>
  %2 = graphopt.exp %1 : tensor<1x4xf32>
  %3 = graphopt.mul %2, %w : (tensor<1x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  return %3 : tensor<4x4xf32>
}

// -----

// Softmax over the last dim is one kernel: the row max and the row sum are
// private keepdim reductions of the rows the root computes.
// CHECK-LABEL: func.func @softmax_one_kernel
// CHECK: %[[K:.*]] = graphopt.kernel(%arg0)
// CHECK: graphopt.reduce_max
// CHECK: graphopt.exp
// CHECK: graphopt.reduce_sum
// CHECK: graphopt.div
// CHECK: graphopt.yield
// CHECK-NOT: graphopt.kernel
// CHECK: return %[[K]]
func.func @softmax_one_kernel(%x: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %m = graphopt.reduce_max %x [1] keepdim : tensor<4x16xf32> to tensor<4x1xf32>
  %d = graphopt.sub %x, %m : (tensor<4x16xf32>, tensor<4x1xf32>) -> tensor<4x16xf32>
  %e = graphopt.exp %d : tensor<4x16xf32>
  %s = graphopt.reduce_sum %e [1] keepdim : tensor<4x16xf32> to tensor<4x1xf32>
  %y = graphopt.div %e, %s : (tensor<4x16xf32>, tensor<4x1xf32>) -> tensor<4x16xf32>
  return %y : tensor<4x16xf32>
}

// -----

// A row reduction whose result is also needed outside (saved for backward)
// joins the pointwise kernel as a second, per-row output; a reduction over a
// non-innermost dim stays its own kernel.
// CHECK-LABEL: func.func @reductions_that_stay_out
// CHECK: %[[C:.*]] = graphopt.kernel
// CHECK-NEXT: ^bb0
// CHECK-NEXT: graphopt.reduce_sum %{{.*}} [0] keepdim
// CHECK-NEXT: graphopt.yield
// CHECK: %[[K:.*]]:2 = graphopt.kernel(%{{.*}}, %[[C]]) : (tensor<4x16xf32>, tensor<1x16xf32>) -> (tensor<4x1xf32>, tensor<4x16xf32>)
// CHECK-NEXT: ^bb0
// CHECK-NEXT: %[[R:.*]] = graphopt.reduce_sum %{{.*}} [1] keepdim
// CHECK-NEXT: graphopt.sub
// CHECK-NEXT: %[[B:.*]] = graphopt.mul
// CHECK-NEXT: graphopt.yield %[[R]], %[[B]]
// CHECK: return %[[K]]#1, %[[K]]#0
func.func @reductions_that_stay_out(%x: tensor<4x16xf32>) -> (tensor<4x16xf32>, tensor<4x1xf32>) {
  %r = graphopt.reduce_sum %x [1] keepdim : tensor<4x16xf32> to tensor<4x1xf32>
  %c = graphopt.reduce_sum %x [0] keepdim : tensor<4x16xf32> to tensor<1x16xf32>
  %a = graphopt.sub %x, %r : (tensor<4x16xf32>, tensor<4x1xf32>) -> tensor<4x16xf32>
  %b = graphopt.mul %a, %c : (tensor<4x16xf32>, tensor<1x16xf32>) -> tensor<4x16xf32>
  return %b, %r : tensor<4x16xf32>, tensor<4x1xf32>
}

// -----

// The forward of a training LayerNorm: the mean and the reciprocal standard
// deviation are saved for backward. They are per-row values of the
// normalized output's kernel, so the whole LayerNorm is one kernel with
// three outputs (the row-shaped ones written once per row).
// CHECK-LABEL: func.func @layer_norm_saves_statistics
// CHECK: %[[K:.*]]:3 = graphopt.kernel(%{{.*}}) : (tensor<8x32xf32>) -> (tensor<8x1xf32>, tensor<8x1xf32>, tensor<8x32xf32>)
// CHECK-NOT: graphopt.kernel
// CHECK: return %[[K]]#2, %[[K]]#0, %[[K]]#1
func.func @layer_norm_saves_statistics(%x: tensor<8x32xf32>) -> (tensor<8x32xf32>, tensor<8x1xf32>, tensor<8x1xf32>) {
  %n = graphopt.constant dense<3.125e-02> : tensor<f32>
  %eps = graphopt.constant dense<1.0e-05> : tensor<f32>
  %s = graphopt.reduce_sum %x [1] keepdim : tensor<8x32xf32> to tensor<8x1xf32>
  %mean = graphopt.mul %s, %n : (tensor<8x1xf32>, tensor<f32>) -> tensor<8x1xf32>
  %d = graphopt.sub %x, %mean : (tensor<8x32xf32>, tensor<8x1xf32>) -> tensor<8x32xf32>
  %d2 = graphopt.mul %d, %d : (tensor<8x32xf32>, tensor<8x32xf32>) -> tensor<8x32xf32>
  %v = graphopt.reduce_sum %d2 [1] keepdim : tensor<8x32xf32> to tensor<8x1xf32>
  %var = graphopt.mul %v, %n : (tensor<8x1xf32>, tensor<f32>) -> tensor<8x1xf32>
  %ve = graphopt.add %var, %eps : (tensor<8x1xf32>, tensor<f32>) -> tensor<8x1xf32>
  %rstd = graphopt.rsqrt %ve : tensor<8x1xf32>
  %y = graphopt.mul %d, %rstd : (tensor<8x32xf32>, tensor<8x1xf32>) -> tensor<8x32xf32>
  return %y, %mean, %rstd : tensor<8x32xf32>, tensor<8x1xf32>, tensor<8x1xf32>
}

// -----

// Left alone: a row sum that escapes a group rooted at a reduction (a
// reduction kernel has one output), and a value of another shape than the
// group's rows ([1x32] is a column shape) that is needed outside.
// CHECK-LABEL: func.func @other_shapes_stay_out
// CHECK-COUNT-4: graphopt.kernel
// CHECK-NOT: graphopt.kernel
func.func @other_shapes_stay_out(%x: tensor<8x32xf32>, %c: tensor<1x32xf32>) -> (tensor<8x1xf32>, tensor<1xf32>, tensor<1x32xf32>, tensor<8x32xf32>) {
  %r = graphopt.reduce_sum %x [1] keepdim : tensor<8x32xf32> to tensor<8x1xf32>
  %t = graphopt.reduce_sum %r [0] : tensor<8x1xf32> to tensor<1xf32>
  %e = graphopt.exp %c : tensor<1x32xf32>
  %y = graphopt.mul %x, %e : (tensor<8x32xf32>, tensor<1x32xf32>) -> tensor<8x32xf32>
  return %r, %t, %e, %y : tensor<8x1xf32>, tensor<1xf32>, tensor<1x32xf32>, tensor<8x32xf32>
}

// -----

// BatchNorm's x - mean feeds both the variance and the normalization. It
// costs one FLOP per element, so each kernel recomputes it from x rather
// than reading it back from memory: three kernels, none of them the sub.
// CHECK-LABEL: func.func @recompute_cheap_shared_values
// CHECK-COUNT-3: graphopt.kernel
// CHECK-NOT: graphopt.kernel
// CHECK: return
func.func @recompute_cheap_shared_values(%x: tensor<4x8x16x16xf32>) -> (tensor<4x8x16x16xf32>, tensor<1x8x1x1xf32>) {
  %m = graphopt.reduce_sum %x [0, 2, 3] keepdim : tensor<4x8x16x16xf32> to tensor<1x8x1x1xf32>
  %d = graphopt.sub %x, %m : (tensor<4x8x16x16xf32>, tensor<1x8x1x1xf32>) -> tensor<4x8x16x16xf32>
  %sq = graphopt.mul %d, %d : (tensor<4x8x16x16xf32>, tensor<4x8x16x16xf32>) -> tensor<4x8x16x16xf32>
  %v = graphopt.reduce_sum %sq [0, 2, 3] keepdim : tensor<4x8x16x16xf32> to tensor<1x8x1x1xf32>
  %y = graphopt.mul %d, %v : (tensor<4x8x16x16xf32>, tensor<1x8x1x1xf32>) -> tensor<4x8x16x16xf32>
  return %y, %v : tensor<4x8x16x16xf32>, tensor<1x8x1x1xf32>
}

// -----

// Left alone: a cheap op over a value that is itself computed elementwise
// (recomputing it would recompute the chain), and one a matmul also needs
// (it is written to memory anyway).
// CHECK-LABEL: func.func @shared_values_that_stay_materialized
// CHECK: graphopt.kernel
// CHECK: graphopt.exp
// CHECK-NEXT: %[[D:.*]] = graphopt.sub
// CHECK-NEXT: graphopt.neg
// CHECK-NEXT: graphopt.yield %[[D]],
// CHECK: %[[S:.*]]:2 = graphopt.kernel
// CHECK: graphopt.add
// CHECK: graphopt.matmul %[[S]]#0
func.func @shared_values_that_stay_materialized(%x: tensor<8x8xf32>, %c: tensor<8x1xf32>) -> (tensor<8x1xf32>, tensor<8x8xf32>, tensor<8x8xf32>) {
  %e = graphopt.exp %x : tensor<8x8xf32>
  %d = graphopt.sub %e, %c : (tensor<8x8xf32>, tensor<8x1xf32>) -> tensor<8x8xf32>
  %r = graphopt.reduce_sum %d [1] keepdim : tensor<8x8xf32> to tensor<8x1xf32>
  %n = graphopt.neg %d : tensor<8x8xf32>
  %s = graphopt.add %x, %c : (tensor<8x8xf32>, tensor<8x1xf32>) -> tensor<8x8xf32>
  %t = graphopt.relu %s : tensor<8x8xf32>
  %mm = graphopt.matmul %s, %t : (tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<8x8xf32>
  return %r, %n, %mm : tensor<8x1xf32>, tensor<8x8xf32>, tensor<8x8xf32>
}

// -----

// Each head-split kernel takes its slice of the projection output as index
// math, so it reads the shared buffer in place; the slice feeding the
// matmul stays a view outside any kernel (a slice alone roots no kernel).
// CHECK-LABEL: func.func @slices_into_kernels
// CHECK: %[[Q:.*]] = graphopt.kernel(%arg0)
// CHECK-NEXT: ^bb0(%[[X:.*]]: tensor<4x256x36x64xf32>):
// CHECK-NEXT:   %[[S:.*]] = graphopt.slice %[[X]] [0, 0, 0, 0]
// CHECK-NEXT:   %[[P:.*]] = graphopt.permute %[[S]] [0, 2, 1, 3]
// CHECK-NEXT:   %[[C:.*]] = graphopt.cast %[[P]]
// CHECK-NEXT:   graphopt.yield %[[C]]
// CHECK: %[[K:.*]] = graphopt.kernel(%arg0)
// CHECK-NEXT: ^bb0(%[[X2:.*]]: tensor<4x256x36x64xf32>):
// CHECK-NEXT:   graphopt.slice %[[X2]] [0, 0, 12, 0]
// CHECK: %[[V:.*]] = graphopt.slice %arg1 [0, 64]
// CHECK-NEXT: graphopt.matmul %[[V]], %arg2
// CHECK-NOT: graphopt.kernel
func.func @slices_into_kernels(%qkv: tensor<4x256x36x64xf32>, %x: tensor<8x128xf32>, %w: tensor<64x8xf32>) -> (tensor<4x12x256x64xf32>, tensor<4x12x256x64xf32>, tensor<8x8xf32>) {
  %q = graphopt.slice %qkv [0, 0, 0, 0] : tensor<4x256x36x64xf32> to tensor<4x256x12x64xf32>
  %k = graphopt.slice %qkv [0, 0, 12, 0] : tensor<4x256x36x64xf32> to tensor<4x256x12x64xf32>
  %qp = graphopt.permute %q [0, 2, 1, 3] : tensor<4x256x12x64xf32> to tensor<4x12x256x64xf32>
  %kp = graphopt.permute %k [0, 2, 1, 3] : tensor<4x256x12x64xf32> to tensor<4x12x256x64xf32>
  %qc = graphopt.cast %qp : tensor<4x12x256x64xf32> to tensor<4x12x256x64xf32>
  %kc = graphopt.cast %kp : tensor<4x12x256x64xf32> to tensor<4x12x256x64xf32>
  %v = graphopt.slice %x [0, 64] : tensor<8x128xf32> to tensor<8x64xf32>
  %m = graphopt.matmul %v, %w : (tensor<8x64xf32>, tensor<64x8xf32>) -> tensor<8x8xf32>
  return %qc, %kc, %m : tensor<4x12x256x64xf32>, tensor<4x12x256x64xf32>, tensor<8x8xf32>
}

// -----

// BatchNorm's training statistics: the mean is sum / N, the variance's sum
// reads x - mean, and rstd = rsqrt(var / N + eps). The variance's sum takes
// its epilogue (var, rstd) and its prologue, with the mean's division, a
// value of its shape, as a third output. It does not take the mean's sum:
// its prologue reads the mean inside the loop over x, where the sum would be
// redone per element. Two kernels, where there were four.
// CHECK-LABEL: func.func @batch_norm_statistics
// CHECK: %[[S:.*]] = graphopt.kernel(%arg0) : (tensor<4x8x16x16xf32>) -> tensor<1x8x1x1xf32>
// CHECK-NEXT: ^bb0
// CHECK-NEXT: graphopt.reduce_sum
// CHECK-NEXT: graphopt.yield
// CHECK: %[[V:.*]]:3 = graphopt.kernel(%[[S]], %arg0)
// CHECK-NEXT: ^bb0
// CHECK: %[[MEAN:.*]] = graphopt.div
// CHECK: graphopt.sub %{{.*}}, %[[MEAN]]
// CHECK: graphopt.reduce_sum
// CHECK-NEXT: %[[VAR:.*]] = graphopt.div
// CHECK-NEXT: graphopt.add
// CHECK-NEXT: %[[RSTD:.*]] = graphopt.rsqrt
// CHECK-NEXT: graphopt.yield %[[MEAN]], %[[VAR]], %[[RSTD]]
// CHECK-NOT: graphopt.kernel
// CHECK: return %[[V]]#0, %[[V]]#1, %[[V]]#2
func.func @batch_norm_statistics(%x: tensor<4x8x16x16xf32>) -> (tensor<1x8x1x1xf32>, tensor<1x8x1x1xf32>, tensor<1x8x1x1xf32>) {
  %n = graphopt.constant dense<1.024000e+03> : tensor<f32>
  %eps = graphopt.constant dense<1.0e-05> : tensor<f32>
  %s = graphopt.reduce_sum %x [0, 2, 3] keepdim : tensor<4x8x16x16xf32> to tensor<1x8x1x1xf32>
  %mean = graphopt.div %s, %n : (tensor<1x8x1x1xf32>, tensor<f32>) -> tensor<1x8x1x1xf32>
  %d = graphopt.sub %x, %mean : (tensor<4x8x16x16xf32>, tensor<1x8x1x1xf32>) -> tensor<4x8x16x16xf32>
  %d2 = graphopt.mul %d, %d : (tensor<4x8x16x16xf32>, tensor<4x8x16x16xf32>) -> tensor<4x8x16x16xf32>
  %v = graphopt.reduce_sum %d2 [0, 2, 3] keepdim : tensor<4x8x16x16xf32> to tensor<1x8x1x1xf32>
  %var = graphopt.div %v, %n : (tensor<1x8x1x1xf32>, tensor<f32>) -> tensor<1x8x1x1xf32>
  %ve = graphopt.add %var, %eps : (tensor<1x8x1x1xf32>, tensor<f32>) -> tensor<1x8x1x1xf32>
  %rstd = graphopt.rsqrt %ve : tensor<1x8x1x1xf32>
  return %mean, %var, %rstd : tensor<1x8x1x1xf32>, tensor<1x8x1x1xf32>, tensor<1x8x1x1xf32>
}

// -----

// Left alone: a reduction of the group's shape in a group that already
// reduces its rows, or the other way round (computed in the same loops, one
// would be redone for each element the other reads), and a second reduction
// feeding one epilogue (it would run inside the first's kernel with a loop
// of its own per output: each reduction stays a kernel, the epilogue joins
// the later one).
// CHECK-LABEL: func.func @reductions_an_epilogue_leaves_out
// CHECK-COUNT-4: graphopt.kernel
// CHECK-NOT: graphopt.kernel
// CHECK: return
func.func @reductions_an_epilogue_leaves_out(%x: tensor<4x16xf32>, %z: tensor<2x4x16xf32>, %a: tensor<2x8x4xf32>, %b: tensor<2x8x4xf32>) -> (tensor<4x16xf32>, tensor<8xf32>) {
  %r = graphopt.reduce_sum %x [1] keepdim : tensor<4x16xf32> to tensor<4x1xf32>
  %t = graphopt.reduce_sum %z [0] : tensor<2x4x16xf32> to tensor<4x16xf32>
  %y = graphopt.sub %t, %r : (tensor<4x16xf32>, tensor<4x1xf32>) -> tensor<4x16xf32>
  %sa = graphopt.reduce_sum %a [0, 2] : tensor<2x8x4xf32> to tensor<8xf32>
  %sb = graphopt.reduce_sum %b [0, 2] : tensor<2x8x4xf32> to tensor<8xf32>
  %p = graphopt.mul %sa, %sb : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  return %y, %p : tensor<4x16xf32>, tensor<8xf32>
}
