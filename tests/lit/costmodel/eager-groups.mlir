// RUN: graphopt-opt %s --graphopt-cost=target=h100-sxm -o /dev/null | FileCheck %s

// Views launch nothing and are not listed; a splat constant is folded into
// its user. (Grouping of decomposed ATen ops is the eager baseline's job and
// is tested through compile(); this pass costs the IR it is given.)
// CHECK-LABEL: // @views
// CHECK-NEXT: cost on h100-sxm
// CHECK-NEXT: step  kernel
// CHECK-NEXT: 2  mul 4.1 K 32.8 KB
// CHECK-NEXT: total: 1 launches
func.func @views(%x: tensor<64x64xf32>) -> tensor<64x64xf32> {
  %p = graphopt.permute %x [1, 0] : tensor<64x64xf32> to tensor<64x64xf32>
  %c = graphopt.constant dense<2.0> : tensor<f32>
  %m = graphopt.mul %p, %c : (tensor<64x64xf32>, tensor<f32>) -> tensor<64x64xf32>
  return %m : tensor<64x64xf32>
}
