// RUN: graphopt-opt --graphopt-pipeline %s | FileCheck %s
// The full pipeline (what torch.compile runs) on a GELU-style MLP tail:
// elementwise ops fuse around the matmul and the arena is planned.

// CHECK-LABEL: func.func @mlp_tail
// CHECK-SAME: graphopt.arena_size
// CHECK: graphopt.addmm
// CHECK: graphopt.kernel
// CHECK: graphopt.erf
// CHECK: graphopt.matmul
// CHECK-NOT: graphopt.erf
func.func @mlp_tail(%x: tensor<8x16xf32>, %w1: tensor<16x32xf32>, %b1: tensor<32xf32>, %w2: tensor<32x16xf32>) -> tensor<8x16xf32> {
  %h = graphopt.addmm %b1, %x, %w1 : (tensor<32xf32>, tensor<8x16xf32>, tensor<16x32xf32>) -> tensor<8x32xf32>
  %c = graphopt.constant dense<0.70710678> : tensor<f32>
  %h1 = graphopt.mul %h, %c : (tensor<8x32xf32>, tensor<f32>) -> tensor<8x32xf32>
  %e = graphopt.erf %h1 : tensor<8x32xf32>
  %g = graphopt.mul %h, %e : (tensor<8x32xf32>, tensor<8x32xf32>) -> tensor<8x32xf32>
  %y = graphopt.matmul %g, %w2 : (tensor<8x32xf32>, tensor<32x16xf32>) -> tensor<8x16xf32>
  return %y : tensor<8x16xf32>
}
