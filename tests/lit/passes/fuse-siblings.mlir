// RUN: graphopt-opt %s -split-input-file --graphopt-fuse-siblings | FileCheck %s

// A BatchNorm backward's two per-channel sums read dy: one kernel, dy passed
// once, the first kernel's result then the second's.
// CHECK-LABEL: func.func @batch_norm_backward_sums
// CHECK: %[[K:.*]]:2 = graphopt.kernel(%arg0, %arg1, %arg2) : (tensor<4x8x16x16xf32>, tensor<4x8x16x16xf32>, tensor<1x8x1x1xf32>) -> (tensor<8xf32>, tensor<8xf32>)
// CHECK-NEXT: ^bb0(%[[DY:.*]]: tensor<4x8x16x16xf32>, %[[X:.*]]: tensor<4x8x16x16xf32>, %[[M:.*]]: tensor<1x8x1x1xf32>):
// CHECK-NEXT: %[[S:.*]] = graphopt.reduce_sum %[[DY]] [0, 2, 3]
// CHECK-NEXT: %[[D:.*]] = graphopt.sub %[[X]], %[[M]]
// CHECK-NEXT: %[[P:.*]] = graphopt.mul %[[DY]], %[[D]]
// CHECK-NEXT: %[[T:.*]] = graphopt.reduce_sum %[[P]] [0, 2, 3]
// CHECK-NEXT: graphopt.constant
// CHECK-NEXT: %[[E:.*]] = graphopt.mul %[[T]]
// CHECK-NEXT: graphopt.yield %[[S]], %[[E]]
// CHECK-NOT: graphopt.kernel
// CHECK: return %[[K]]#0, %[[K]]#1
func.func @batch_norm_backward_sums(%dy: tensor<4x8x16x16xf32>, %x: tensor<4x8x16x16xf32>, %mean: tensor<1x8x1x1xf32>) -> (tensor<8xf32>, tensor<8xf32>) {
  %0 = graphopt.kernel(%dy) : (tensor<4x8x16x16xf32>) -> tensor<8xf32> {
  ^bb0(%a: tensor<4x8x16x16xf32>):
    %s = graphopt.reduce_sum %a [0, 2, 3] : tensor<4x8x16x16xf32> to tensor<8xf32>
    graphopt.yield %s : tensor<8xf32>
  }
  %1 = graphopt.kernel(%x, %mean, %dy) : (tensor<4x8x16x16xf32>, tensor<1x8x1x1xf32>, tensor<4x8x16x16xf32>) -> tensor<8xf32> {
  ^bb0(%a: tensor<4x8x16x16xf32>, %m: tensor<1x8x1x1xf32>, %g: tensor<4x8x16x16xf32>):
    %d = graphopt.sub %a, %m : (tensor<4x8x16x16xf32>, tensor<1x8x1x1xf32>) -> tensor<4x8x16x16xf32>
    %p = graphopt.mul %g, %d : (tensor<4x8x16x16xf32>, tensor<4x8x16x16xf32>) -> tensor<4x8x16x16xf32>
    %t = graphopt.reduce_sum %p [0, 2, 3] : tensor<4x8x16x16xf32> to tensor<8xf32>
    %c = graphopt.constant dense<2.0> : tensor<f32>
    %e = graphopt.mul %t, %c : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
    graphopt.yield %e : tensor<8xf32>
  }
  return %0, %1 : tensor<8xf32>, tensor<8xf32>
}

// -----

// The merged kernel goes where the later one was; a user of the earlier
// kernel's result that sat between them now follows it. A third sibling
// joins the merged kernel. (The exp kernel is too large to count as tiny.)
// CHECK-LABEL: func.func @three_column_sums
// CHECK: %[[K:.*]]:3 = graphopt.kernel(%arg0, %arg1)
// CHECK-COUNT-3: graphopt.reduce_sum %{{.*}} [0]
// CHECK: graphopt.kernel(%[[K]]#0)
// CHECK-NEXT: ^bb0
// CHECK-NEXT: graphopt.exp
// CHECK-NOT: graphopt.kernel
// CHECK: return
func.func @three_column_sums(%dy: tensor<64x8192xf32>, %h: tensor<64x8192xf32>) -> (tensor<8192xf32>, tensor<8192xf32>, tensor<8192xf32>) {
  %0 = graphopt.kernel(%dy) : (tensor<64x8192xf32>) -> tensor<8192xf32> {
  ^bb0(%a: tensor<64x8192xf32>):
    %s = graphopt.reduce_sum %a [0] : tensor<64x8192xf32> to tensor<8192xf32>
    graphopt.yield %s : tensor<8192xf32>
  }
  %1 = graphopt.kernel(%0) : (tensor<8192xf32>) -> tensor<8192xf32> {
  ^bb0(%a: tensor<8192xf32>):
    %e = graphopt.exp %a : tensor<8192xf32>
    graphopt.yield %e : tensor<8192xf32>
  }
  %2 = graphopt.kernel(%dy, %h) : (tensor<64x8192xf32>, tensor<64x8192xf32>) -> tensor<8192xf32> {
  ^bb0(%a: tensor<64x8192xf32>, %b: tensor<64x8192xf32>):
    %p = graphopt.mul %a, %b : (tensor<64x8192xf32>, tensor<64x8192xf32>) -> tensor<64x8192xf32>
    %s = graphopt.reduce_sum %p [0] : tensor<64x8192xf32> to tensor<8192xf32>
    graphopt.yield %s : tensor<8192xf32>
  }
  %3 = graphopt.kernel(%h) : (tensor<64x8192xf32>) -> tensor<8192xf32> {
  ^bb0(%a: tensor<64x8192xf32>):
    %s = graphopt.reduce_sum %a [0] : tensor<64x8192xf32> to tensor<8192xf32>
    graphopt.yield %s : tensor<8192xf32>
  }
  return %1, %2, %3 : tensor<8192xf32>, tensor<8192xf32>, tensor<8192xf32>
}

// -----

// Left alone: a sum that depends on the other (BatchNorm's variance reads
// the mean), sums over other dims, sums of inputs they do not share, and a
// pointwise kernel reading the same input.
// CHECK-LABEL: func.func @not_siblings
// CHECK-COUNT-5: graphopt.kernel
// CHECK-NOT: graphopt.kernel
func.func @not_siblings(%x: tensor<4x8x16x16xf32>, %y: tensor<4x8x16x16xf32>) -> (tensor<1x8x1x1xf32>, tensor<1x8x1x1xf32>, tensor<4x1x1x1xf32>, tensor<1x8x1x1xf32>, tensor<4x8x16x16xf32>) {
  %m = graphopt.kernel(%x) : (tensor<4x8x16x16xf32>) -> tensor<1x8x1x1xf32> {
  ^bb0(%a: tensor<4x8x16x16xf32>):
    %s = graphopt.reduce_sum %a [0, 2, 3] keepdim : tensor<4x8x16x16xf32> to tensor<1x8x1x1xf32>
    graphopt.yield %s : tensor<1x8x1x1xf32>
  }
  %v = graphopt.kernel(%x, %m) : (tensor<4x8x16x16xf32>, tensor<1x8x1x1xf32>) -> tensor<1x8x1x1xf32> {
  ^bb0(%a: tensor<4x8x16x16xf32>, %b: tensor<1x8x1x1xf32>):
    %d = graphopt.sub %a, %b : (tensor<4x8x16x16xf32>, tensor<1x8x1x1xf32>) -> tensor<4x8x16x16xf32>
    %s = graphopt.reduce_sum %d [0, 2, 3] keepdim : tensor<4x8x16x16xf32> to tensor<1x8x1x1xf32>
    graphopt.yield %s : tensor<1x8x1x1xf32>
  }
  %n = graphopt.kernel(%x) : (tensor<4x8x16x16xf32>) -> tensor<4x1x1x1xf32> {
  ^bb0(%a: tensor<4x8x16x16xf32>):
    %s = graphopt.reduce_sum %a [1, 2, 3] keepdim : tensor<4x8x16x16xf32> to tensor<4x1x1x1xf32>
    graphopt.yield %s : tensor<4x1x1x1xf32>
  }
  %o = graphopt.kernel(%y) : (tensor<4x8x16x16xf32>) -> tensor<1x8x1x1xf32> {
  ^bb0(%a: tensor<4x8x16x16xf32>):
    %s = graphopt.reduce_sum %a [0, 2, 3] keepdim : tensor<4x8x16x16xf32> to tensor<1x8x1x1xf32>
    graphopt.yield %s : tensor<1x8x1x1xf32>
  }
  %p = graphopt.kernel(%x) : (tensor<4x8x16x16xf32>) -> tensor<4x8x16x16xf32> {
  ^bb0(%a: tensor<4x8x16x16xf32>):
    %e = graphopt.exp %a : tensor<4x8x16x16xf32>
    graphopt.yield %e : tensor<4x8x16x16xf32>
  }
  return %v, %m, %n, %o, %p : tensor<1x8x1x1xf32>, tensor<1x8x1x1xf32>, tensor<4x1x1x1xf32>, tensor<1x8x1x1xf32>, tensor<4x8x16x16xf32>
}

// -----

// Tiny kernels of one iteration shape: a BatchNorm backward's second
// epilogue of the weight-gradient sum (sum * (1/N) * rstd^2, which
// graphopt-fuse could not give the sum's kernel, as the other epilogue
// took it) joins the sum's kernel, and so does rstd * weight, which reads
// neither. The sum is still an output: the return needs it.
// CHECK-LABEL: func.func @tiny_kernels_join
// CHECK: %[[K:.*]]:3 = graphopt.kernel(%arg0, %arg1, %arg2)
// CHECK: graphopt.reduce_sum
// CHECK: graphopt.yield
// CHECK-NOT: graphopt.kernel
// CHECK: return %[[K]]#0, %[[K]]#1, %[[K]]#2
func.func @tiny_kernels_join(%dy: tensor<4x64x8x8xf32>, %rstd: tensor<64xf32>, %w: tensor<64xf32>) -> (tensor<64xf32>, tensor<64xf32>, tensor<64xf32>) {
  %s = graphopt.kernel(%dy) : (tensor<4x64x8x8xf32>) -> tensor<64xf32> {
  ^bb0(%a: tensor<4x64x8x8xf32>):
    %r = graphopt.reduce_sum %a [0, 2, 3] : tensor<4x64x8x8xf32> to tensor<64xf32>
    graphopt.yield %r : tensor<64xf32>
  }
  %e = graphopt.kernel(%s, %rstd) : (tensor<64xf32>, tensor<64xf32>) -> tensor<64xf32> {
  ^bb0(%a: tensor<64xf32>, %b: tensor<64xf32>):
    %c = graphopt.constant dense<3.9e-3> : tensor<f32>
    %m = graphopt.mul %a, %c : (tensor<64xf32>, tensor<f32>) -> tensor<64xf32>
    %b2 = graphopt.mul %b, %b : (tensor<64xf32>, tensor<64xf32>) -> tensor<64xf32>
    %y = graphopt.mul %m, %b2 : (tensor<64xf32>, tensor<64xf32>) -> tensor<64xf32>
    graphopt.yield %y : tensor<64xf32>
  }
  %g = graphopt.kernel(%rstd, %w) : (tensor<64xf32>, tensor<64xf32>) -> tensor<64xf32> {
  ^bb0(%a: tensor<64xf32>, %b: tensor<64xf32>):
    %y = graphopt.mul %a, %b : (tensor<64xf32>, tensor<64xf32>) -> tensor<64xf32>
    graphopt.yield %y : tensor<64xf32>
  }
  return %s, %e, %g : tensor<64xf32>, tensor<64xf32>, tensor<64xf32>
}

// -----

// A result the later kernel alone reads is no longer an output.
// CHECK-LABEL: func.func @consumed_inside
// CHECK: %[[K:.*]] = graphopt.kernel(%arg0) : (tensor<4x64xf32>) -> tensor<64xf32>
// CHECK: graphopt.reduce_sum
// CHECK-NEXT: graphopt.exp
// CHECK-NEXT: graphopt.yield
// CHECK: return %[[K]]
func.func @consumed_inside(%x: tensor<4x64xf32>) -> tensor<64xf32> {
  %s = graphopt.kernel(%x) : (tensor<4x64xf32>) -> tensor<64xf32> {
  ^bb0(%a: tensor<4x64xf32>):
    %r = graphopt.reduce_sum %a [0] : tensor<4x64xf32> to tensor<64xf32>
    graphopt.yield %r : tensor<64xf32>
  }
  %e = graphopt.kernel(%s) : (tensor<64xf32>) -> tensor<64xf32> {
  ^bb0(%a: tensor<64xf32>):
    %y = graphopt.exp %a : tensor<64xf32>
    graphopt.yield %y : tensor<64xf32>
  }
  return %e : tensor<64xf32>
}

// -----

// Left alone: tiny kernels of different shapes, one that reads the other
// through an extern (merged, it would come before the extern it needs), and
// two pointwise kernels over more than 4096 elements.
// CHECK-LABEL: func.func @tiny_kernels_left_alone
// CHECK-COUNT-5: graphopt.kernel
// CHECK-NOT: graphopt.kernel
func.func @tiny_kernels_left_alone(%a: tensor<64xf32>, %b: tensor<32xf32>, %big: tensor<8192xf32>) -> (tensor<64xf32>, tensor<32xf32>, tensor<64xf32>, tensor<8192xf32>, tensor<8192xf32>) {
  %0 = graphopt.kernel(%a) : (tensor<64xf32>) -> tensor<64xf32> {
  ^bb0(%x: tensor<64xf32>):
    %y = graphopt.exp %x : tensor<64xf32>
    graphopt.yield %y : tensor<64xf32>
  }
  %1 = graphopt.kernel(%b) : (tensor<32xf32>) -> tensor<32xf32> {
  ^bb0(%x: tensor<32xf32>):
    %y = graphopt.exp %x : tensor<32xf32>
    graphopt.yield %y : tensor<32xf32>
  }
  %2 = graphopt.extern "aten::cumsum"(%0) {args = "[]"} : (tensor<64xf32>) -> tensor<64xf32>
  %3 = graphopt.kernel(%2) : (tensor<64xf32>) -> tensor<64xf32> {
  ^bb0(%x: tensor<64xf32>):
    %y = graphopt.neg %x : tensor<64xf32>
    graphopt.yield %y : tensor<64xf32>
  }
  %4 = graphopt.kernel(%big) : (tensor<8192xf32>) -> tensor<8192xf32> {
  ^bb0(%x: tensor<8192xf32>):
    %y = graphopt.exp %x : tensor<8192xf32>
    graphopt.yield %y : tensor<8192xf32>
  }
  %5 = graphopt.kernel(%big) : (tensor<8192xf32>) -> tensor<8192xf32> {
  ^bb0(%x: tensor<8192xf32>):
    %y = graphopt.neg %x : tensor<8192xf32>
    graphopt.yield %y : tensor<8192xf32>
  }
  return %0, %1, %3, %4, %5 : tensor<64xf32>, tensor<32xf32>, tensor<64xf32>, tensor<8192xf32>, tensor<8192xf32>
}

// -----

// A merged kernel takes the later kernel's place, so the kernels between
// the two may now read it: %k reads %0 through an extern, and once %0 has
// merged with %2, %k must not merge with them (the kernel would read its
// own result through the extern).
// CHECK-LABEL: func.func @no_merge_with_a_reader_of_an_earlier_merge
// CHECK: %[[M:.*]]:2 = graphopt.kernel(%arg0, %arg1)
// CHECK: %[[E:.*]] = graphopt.extern "aten::cumsum"(%[[M]]#0)
// CHECK: graphopt.kernel(%[[E]])
// CHECK-NEXT: ^bb0
// CHECK-NEXT: graphopt.neg
func.func @no_merge_with_a_reader_of_an_earlier_merge(%a: tensor<32xf32>, %b: tensor<32xf32>) -> (tensor<32xf32>, tensor<32xf32>) {
  %0 = graphopt.kernel(%a) : (tensor<32xf32>) -> tensor<32xf32> {
  ^bb0(%x: tensor<32xf32>):
    %y = graphopt.exp %x : tensor<32xf32>
    graphopt.yield %y : tensor<32xf32>
  }
  %e = graphopt.extern "aten::cumsum"(%0) {args = "[]"} : (tensor<32xf32>) -> tensor<32xf32>
  %k = graphopt.kernel(%e) : (tensor<32xf32>) -> tensor<32xf32> {
  ^bb0(%x: tensor<32xf32>):
    %y = graphopt.neg %x : tensor<32xf32>
    graphopt.yield %y : tensor<32xf32>
  }
  %2 = graphopt.kernel(%b) : (tensor<32xf32>) -> tensor<32xf32> {
  ^bb0(%x: tensor<32xf32>):
    %y = graphopt.exp %x : tensor<32xf32>
    graphopt.yield %y : tensor<32xf32>
  }
  return %k, %2 : tensor<32xf32>, tensor<32xf32>
}
