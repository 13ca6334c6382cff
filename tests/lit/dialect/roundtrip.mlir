// RUN: graphopt-opt %s -split-input-file | graphopt-opt -split-input-file | FileCheck %s
// Every op prints in a form the parser reads back unchanged.

// CHECK-LABEL: func.func @elementwise
func.func @elementwise(%a: tensor<4x8xf32>, %b: tensor<8xf32>, %m: tensor<4x8xi1>) -> tensor<4x8xf32> {
  // CHECK: graphopt.add %{{.*}}, %{{.*}} : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %0 = graphopt.add %a, %b : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %1 = graphopt.sub %0, %a : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %2 = graphopt.mul %1, %b : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %3 = graphopt.div %2, %a : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %4 = graphopt.pow %3, %b : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %5 = graphopt.max %4, %a : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %6 = graphopt.min %5, %a : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  // CHECK: graphopt.neg
  %7 = graphopt.neg %6 : tensor<4x8xf32>
  %8 = graphopt.exp %7 : tensor<4x8xf32>
  %9 = graphopt.log %8 : tensor<4x8xf32>
  %10 = graphopt.tanh %9 : tensor<4x8xf32>
  %11 = graphopt.erf %10 : tensor<4x8xf32>
  %12 = graphopt.sqrt %11 : tensor<4x8xf32>
  %13 = graphopt.rsqrt %12 : tensor<4x8xf32>
  %14 = graphopt.relu %13 : tensor<4x8xf32>
  %15 = graphopt.sigmoid %14 : tensor<4x8xf32>
  %16 = graphopt.abs %15 : tensor<4x8xf32>
  // CHECK: graphopt.cmp "lt", %{{.*}}, %{{.*}} : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xi1>
  %17 = graphopt.cmp "lt", %16, %b : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xi1>
  // CHECK: graphopt.where
  %18 = graphopt.where %17, %16, %a : (tensor<4x8xi1>, tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  // CHECK: graphopt.cast %{{.*}} : tensor<4x8xf32> to tensor<4x8xi64>
  %19 = graphopt.cast %18 : tensor<4x8xf32> to tensor<4x8xi64>
  %20 = graphopt.cast %19 : tensor<4x8xi64> to tensor<4x8xf32>
  return %20 : tensor<4x8xf32>
}

// -----

// CHECK-LABEL: func.func @shapes
func.func @shapes(%a: tensor<4x8xf32>, %b: tensor<8xf32>) -> (tensor<8x4xf32>, tensor<2x16xf32>, tensor<3x8xf32>, tensor<4xf32>, tensor<1x8xf32>) {
  // CHECK: graphopt.permute %{{.*}} [1, 0] : tensor<4x8xf32> to tensor<8x4xf32>
  %0 = graphopt.permute %a [1, 0] : tensor<4x8xf32> to tensor<8x4xf32>
  // CHECK: graphopt.reshape
  %1 = graphopt.reshape %a : tensor<4x8xf32> to tensor<2x16xf32>
  // CHECK: graphopt.broadcast
  %2 = graphopt.broadcast %b : tensor<8xf32> to tensor<3x8xf32>
  // CHECK: graphopt.reduce_sum %{{.*}} [1] : tensor<4x8xf32> to tensor<4xf32>
  %3 = graphopt.reduce_sum %a [1] : tensor<4x8xf32> to tensor<4xf32>
  // CHECK: graphopt.reduce_max %{{.*}} [0] keepdim : tensor<4x8xf32> to tensor<1x8xf32>
  %4 = graphopt.reduce_max %a [0] keepdim : tensor<4x8xf32> to tensor<1x8xf32>
  return %0, %1, %2, %3, %4 : tensor<8x4xf32>, tensor<2x16xf32>, tensor<3x8xf32>, tensor<4xf32>, tensor<1x8xf32>
}

// -----

// CHECK-LABEL: func.func @contractions_extern_kernel
func.func @contractions_extern_kernel(%a: tensor<4x8xf32>, %w: tensor<8x16xf32>, %bias: tensor<16xf32>, %x: tensor<2x4x8xf32>, %y: tensor<2x8x3xf32>) -> (tensor<4x16xf32>, tensor<2x4x3xf32>, tensor<4x8xf32>) {
  // CHECK: graphopt.matmul
  %0 = graphopt.matmul %a, %w : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  // CHECK: graphopt.addmm {{.*}}beta = 5.000000e-01
  %1 = graphopt.addmm %bias, %a, %w {beta = 0.5 : f64} : (tensor<16xf32>, tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  // CHECK: graphopt.bmm
  %2 = graphopt.bmm %x, %y : (tensor<2x4x8xf32>, tensor<2x8x3xf32>) -> tensor<2x4x3xf32>
  // CHECK: graphopt.extern "aten::native_dropout.default"
  %3:2 = graphopt.extern "aten::native_dropout.default"(%a) {args = "[{\"t\": 0}, 0.1, true]"} : (tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xi1>)
  // CHECK: graphopt.kernel
  // CHECK: graphopt.yield
  %4 = graphopt.kernel (%3#0) : (tensor<4x8xf32>) -> tensor<4x8xf32> {
  ^bb0(%arg: tensor<4x8xf32>):
    %c = graphopt.constant dense<2.0> : tensor<f32>
    %m = graphopt.mul %arg, %c : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
    graphopt.yield %m : tensor<4x8xf32>
  }
  return %1, %2, %4 : tensor<4x16xf32>, tensor<2x4x3xf32>, tensor<4x8xf32>
}

// -----

// CHECK-LABEL: func.func @slice
func.func @slice(%a: tensor<4x2304xf32>) -> tensor<4x768xf32> {
  // CHECK: graphopt.slice %{{.*}} [0, 768] : tensor<4x2304xf32> to tensor<4x768xf32>
  %0 = graphopt.slice %a [0, 768] : tensor<4x2304xf32> to tensor<4x768xf32>
  return %0 : tensor<4x768xf32>
}
