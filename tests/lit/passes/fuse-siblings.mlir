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
// joins the merged kernel.
// CHECK-LABEL: func.func @three_column_sums
// CHECK: %[[K:.*]]:3 = graphopt.kernel(%arg0, %arg1)
// CHECK-COUNT-3: graphopt.reduce_sum %{{.*}} [0]
// CHECK: graphopt.kernel(%[[K]]#0)
// CHECK-NEXT: ^bb0
// CHECK-NEXT: graphopt.exp
// CHECK-NOT: graphopt.kernel
// CHECK: return
func.func @three_column_sums(%dy: tensor<64x32xf32>, %h: tensor<64x32xf32>) -> (tensor<32xf32>, tensor<32xf32>, tensor<32xf32>) {
  %0 = graphopt.kernel(%dy) : (tensor<64x32xf32>) -> tensor<32xf32> {
  ^bb0(%a: tensor<64x32xf32>):
    %s = graphopt.reduce_sum %a [0] : tensor<64x32xf32> to tensor<32xf32>
    graphopt.yield %s : tensor<32xf32>
  }
  %1 = graphopt.kernel(%0) : (tensor<32xf32>) -> tensor<32xf32> {
  ^bb0(%a: tensor<32xf32>):
    %e = graphopt.exp %a : tensor<32xf32>
    graphopt.yield %e : tensor<32xf32>
  }
  %2 = graphopt.kernel(%dy, %h) : (tensor<64x32xf32>, tensor<64x32xf32>) -> tensor<32xf32> {
  ^bb0(%a: tensor<64x32xf32>, %b: tensor<64x32xf32>):
    %p = graphopt.mul %a, %b : (tensor<64x32xf32>, tensor<64x32xf32>) -> tensor<64x32xf32>
    %s = graphopt.reduce_sum %p [0] : tensor<64x32xf32> to tensor<32xf32>
    graphopt.yield %s : tensor<32xf32>
  }
  %3 = graphopt.kernel(%h) : (tensor<64x32xf32>) -> tensor<32xf32> {
  ^bb0(%a: tensor<64x32xf32>):
    %s = graphopt.reduce_sum %a [0] : tensor<64x32xf32> to tensor<32xf32>
    graphopt.yield %s : tensor<32xf32>
  }
  return %1, %2, %3 : tensor<32xf32>, tensor<32xf32>, tensor<32xf32>
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
