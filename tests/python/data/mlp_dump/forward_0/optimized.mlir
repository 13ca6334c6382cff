module {
  func.func @forward_0(%arg0: tensor<64x32xf32>, %arg1: tensor<64xf32>, %arg2: tensor<4x8x32xf32>, %arg3: tensor<32x64xf32>, %arg4: tensor<32xf32>, %arg5: tensor<32xf32>, %arg6: tensor<32xf32>) -> (tensor<4x8x32xf32>, tensor<32xf32>, tensor<32x32xf32>, tensor<4x8x64xf32>, tensor<32x64xf32>, tensor<64x32xf32>, tensor<4x8x32xf32>, tensor<4x8x1xf32>, tensor<4x8x1xf32>) attributes {graphopt.arena_size = 4224 : i64, graphopt.naive_size = 8448 : i64} {
    %0 = graphopt.reshape %arg2 : tensor<4x8x32xf32> to tensor<32x32xf32>
    %1 = graphopt.permute %arg0 [1, 0] : tensor<64x32xf32> to tensor<32x64xf32>
    %2 = graphopt.addmm %arg1, %0, %1 {graphopt.arena_offsets = array<i64: -1>} : (tensor<64xf32>, tensor<32x32xf32>, tensor<32x64xf32>) -> tensor<32x64xf32>
    %3 = graphopt.reshape %2 : tensor<32x64xf32> to tensor<4x8x64xf32>
    %4 = graphopt.kernel(%3) {graphopt.arena_offsets = array<i64: -1>} : (tensor<4x8x64xf32>) -> tensor<4x8x64xf32> {
    ^bb0(%arg7: tensor<4x8x64xf32>):
      %16 = graphopt.constant dense<5.000000e-01> : tensor<f32>
      %17 = graphopt.mul %arg7, %16 : (tensor<4x8x64xf32>, tensor<f32>) -> tensor<4x8x64xf32>
      %18 = graphopt.constant dense<0.707106769> : tensor<f32>
      %19 = graphopt.mul %arg7, %18 : (tensor<4x8x64xf32>, tensor<f32>) -> tensor<4x8x64xf32>
      %20 = graphopt.erf %19 : tensor<4x8x64xf32>
      %21 = graphopt.constant dense<1.000000e+00> : tensor<f32>
      %22 = graphopt.add %20, %21 : (tensor<4x8x64xf32>, tensor<f32>) -> tensor<4x8x64xf32>
      %23 = graphopt.mul %17, %22 : (tensor<4x8x64xf32>, tensor<4x8x64xf32>) -> tensor<4x8x64xf32>
      graphopt.yield %23 : tensor<4x8x64xf32>
    }
    %5 = graphopt.reshape %4 : tensor<4x8x64xf32> to tensor<32x64xf32>
    %6 = graphopt.permute %arg3 [1, 0] : tensor<32x64xf32> to tensor<64x32xf32>
    %7 = graphopt.addmm %arg4, %5, %6 {graphopt.arena_offsets = array<i64: 0>} : (tensor<32xf32>, tensor<32x64xf32>, tensor<64x32xf32>) -> tensor<32x32xf32>
    %8 = graphopt.reshape %7 : tensor<32x32xf32> to tensor<4x8x32xf32>
    %9 = graphopt.kernel(%arg2, %8) {graphopt.arena_offsets = array<i64: -1>} : (tensor<4x8x32xf32>, tensor<4x8x32xf32>) -> tensor<4x8x32xf32> {
    ^bb0(%arg7: tensor<4x8x32xf32>, %arg8: tensor<4x8x32xf32>):
      %16 = graphopt.add %arg7, %arg8 : (tensor<4x8x32xf32>, tensor<4x8x32xf32>) -> tensor<4x8x32xf32>
      graphopt.yield %16 : tensor<4x8x32xf32>
    }
    %10 = graphopt.kernel(%9) {graphopt.arena_offsets = array<i64: 0>} : (tensor<4x8x32xf32>) -> tensor<4x8x1xf32> {
    ^bb0(%arg7: tensor<4x8x32xf32>):
      %16 = graphopt.reduce_sum %arg7 [2] keepdim : tensor<4x8x32xf32> to tensor<4x8x1xf32>
      graphopt.yield %16 : tensor<4x8x1xf32>
    }
    %11 = graphopt.kernel(%10) {graphopt.arena_offsets = array<i64: -1>} : (tensor<4x8x1xf32>) -> tensor<4x8x1xf32> {
    ^bb0(%arg7: tensor<4x8x1xf32>):
      %16 = graphopt.constant dense<3.200000e+01> : tensor<f32>
      %17 = graphopt.div %arg7, %16 : (tensor<4x8x1xf32>, tensor<f32>) -> tensor<4x8x1xf32>
      graphopt.yield %17 : tensor<4x8x1xf32>
    }
    %12 = graphopt.kernel(%9, %11) {graphopt.arena_offsets = array<i64: 0>} : (tensor<4x8x32xf32>, tensor<4x8x1xf32>) -> tensor<4x8x32xf32> {
    ^bb0(%arg7: tensor<4x8x32xf32>, %arg8: tensor<4x8x1xf32>):
      %16 = graphopt.sub %arg7, %arg8 : (tensor<4x8x32xf32>, tensor<4x8x1xf32>) -> tensor<4x8x32xf32>
      graphopt.yield %16 : tensor<4x8x32xf32>
    }
    %13 = graphopt.kernel(%12) {graphopt.arena_offsets = array<i64: 4096>} : (tensor<4x8x32xf32>) -> tensor<4x8x1xf32> {
    ^bb0(%arg7: tensor<4x8x32xf32>):
      %16 = graphopt.mul %arg7, %arg7 : (tensor<4x8x32xf32>, tensor<4x8x32xf32>) -> tensor<4x8x32xf32>
      %17 = graphopt.reduce_sum %16 [2] keepdim : tensor<4x8x32xf32> to tensor<4x8x1xf32>
      graphopt.yield %17 : tensor<4x8x1xf32>
    }
    %14 = graphopt.kernel(%13) {graphopt.arena_offsets = array<i64: -1>} : (tensor<4x8x1xf32>) -> tensor<4x8x1xf32> {
    ^bb0(%arg7: tensor<4x8x1xf32>):
      %16 = graphopt.constant dense<3.200000e+01> : tensor<f32>
      %17 = graphopt.div %arg7, %16 : (tensor<4x8x1xf32>, tensor<f32>) -> tensor<4x8x1xf32>
      %18 = graphopt.constant dense<9.99999974E-6> : tensor<f32>
      %19 = graphopt.add %17, %18 : (tensor<4x8x1xf32>, tensor<f32>) -> tensor<4x8x1xf32>
      %20 = graphopt.rsqrt %19 : tensor<4x8x1xf32>
      graphopt.yield %20 : tensor<4x8x1xf32>
    }
    %15 = graphopt.kernel(%12, %14, %arg5, %arg6) {graphopt.arena_offsets = array<i64: -1>} : (tensor<4x8x32xf32>, tensor<4x8x1xf32>, tensor<32xf32>, tensor<32xf32>) -> tensor<4x8x32xf32> {
    ^bb0(%arg7: tensor<4x8x32xf32>, %arg8: tensor<4x8x1xf32>, %arg9: tensor<32xf32>, %arg10: tensor<32xf32>):
      %16 = graphopt.mul %arg7, %arg8 : (tensor<4x8x32xf32>, tensor<4x8x1xf32>) -> tensor<4x8x32xf32>
      %17 = graphopt.mul %16, %arg9 : (tensor<4x8x32xf32>, tensor<32xf32>) -> tensor<4x8x32xf32>
      %18 = graphopt.add %17, %arg10 : (tensor<4x8x32xf32>, tensor<32xf32>) -> tensor<4x8x32xf32>
      graphopt.yield %18 : tensor<4x8x32xf32>
    }
    return %15, %arg5, %0, %3, %5, %6, %9, %11, %14 : tensor<4x8x32xf32>, tensor<32xf32>, tensor<32x32xf32>, tensor<4x8x64xf32>, tensor<32x64xf32>, tensor<64x32xf32>, tensor<4x8x32xf32>, tensor<4x8x1xf32>, tensor<4x8x1xf32>
  }
}
