module {
  func.func @backward_1(%arg0: tensor<32xf32>, %arg1: tensor<32x32xf32>, %arg2: tensor<4x8x64xf32>, %arg3: tensor<32x64xf32>, %arg4: tensor<64x32xf32>, %arg5: tensor<4x8x32xf32>, %arg6: tensor<4x8x1xf32>, %arg7: tensor<4x8x1xf32>, %arg8: tensor<4x8x32xf32>) -> (tensor<64x32xf32>, tensor<64xf32>, tensor<32x64xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32xf32>) attributes {graphopt.arena_size = 16384 : i64, graphopt.naive_size = 24576 : i64} {
    %0:2 = graphopt.kernel(%arg5, %arg6, %arg7, %arg8, %arg0) {graphopt.arena_offsets = array<i64: 0, 8192>} : (tensor<4x8x32xf32>, tensor<4x8x1xf32>, tensor<4x8x1xf32>, tensor<4x8x32xf32>, tensor<32xf32>) -> (tensor<4x8x32xf32>, tensor<4x8x32xf32>) {
    ^bb0(%arg9: tensor<4x8x32xf32>, %arg10: tensor<4x8x1xf32>, %arg11: tensor<4x8x1xf32>, %arg12: tensor<4x8x32xf32>, %arg13: tensor<32xf32>):
      %21 = graphopt.sub %arg9, %arg10 : (tensor<4x8x32xf32>, tensor<4x8x1xf32>) -> tensor<4x8x32xf32>
      %22 = graphopt.mul %21, %arg11 : (tensor<4x8x32xf32>, tensor<4x8x1xf32>) -> tensor<4x8x32xf32>
      %23 = graphopt.mul %arg12, %arg13 : (tensor<4x8x32xf32>, tensor<32xf32>) -> tensor<4x8x32xf32>
      %24 = graphopt.constant dense<3.200000e+01> : tensor<f32>
      %25 = graphopt.mul %23, %24 : (tensor<4x8x32xf32>, tensor<f32>) -> tensor<4x8x32xf32>
      %26 = graphopt.reduce_sum %23 [2] keepdim : tensor<4x8x32xf32> to tensor<4x8x1xf32>
      %27 = graphopt.mul %23, %22 : (tensor<4x8x32xf32>, tensor<4x8x32xf32>) -> tensor<4x8x32xf32>
      %28 = graphopt.reduce_sum %27 [2] keepdim : tensor<4x8x32xf32> to tensor<4x8x1xf32>
      %29 = graphopt.mul %22, %28 : (tensor<4x8x32xf32>, tensor<4x8x1xf32>) -> tensor<4x8x32xf32>
      %30 = graphopt.sub %25, %26 : (tensor<4x8x32xf32>, tensor<4x8x1xf32>) -> tensor<4x8x32xf32>
      %31 = graphopt.sub %30, %29 : (tensor<4x8x32xf32>, tensor<4x8x32xf32>) -> tensor<4x8x32xf32>
      %32 = graphopt.div %arg11, %24 : (tensor<4x8x1xf32>, tensor<f32>) -> tensor<4x8x1xf32>
      %33 = graphopt.mul %32, %31 : (tensor<4x8x1xf32>, tensor<4x8x32xf32>) -> tensor<4x8x32xf32>
      graphopt.yield %22, %33 : tensor<4x8x32xf32>, tensor<4x8x32xf32>
    }
    %1 = graphopt.kernel(%arg8, %0#0) {graphopt.arena_offsets = array<i64: -1>} : (tensor<4x8x32xf32>, tensor<4x8x32xf32>) -> tensor<32xf32> {
    ^bb0(%arg9: tensor<4x8x32xf32>, %arg10: tensor<4x8x32xf32>):
      %21 = graphopt.mul %arg9, %arg10 : (tensor<4x8x32xf32>, tensor<4x8x32xf32>) -> tensor<4x8x32xf32>
      %22 = graphopt.reduce_sum %21 [0, 1] : tensor<4x8x32xf32> to tensor<32xf32>
      graphopt.yield %22 : tensor<32xf32>
    }
    %2 = graphopt.kernel(%arg8) {graphopt.arena_offsets = array<i64: -1>} : (tensor<4x8x32xf32>) -> tensor<32xf32> {
    ^bb0(%arg9: tensor<4x8x32xf32>):
      %21 = graphopt.reduce_sum %arg9 [0, 1] : tensor<4x8x32xf32> to tensor<32xf32>
      graphopt.yield %21 : tensor<32xf32>
    }
    %3 = graphopt.reshape %0#1 : tensor<4x8x32xf32> to tensor<32x32xf32>
    %4 = graphopt.permute %arg4 [1, 0] : tensor<64x32xf32> to tensor<32x64xf32>
    %5 = graphopt.matmul %3, %4 {graphopt.arena_offsets = array<i64: 0>} : (tensor<32x32xf32>, tensor<32x64xf32>) -> tensor<32x64xf32>
    %6 = graphopt.permute %3 [1, 0] : tensor<32x32xf32> to tensor<32x32xf32>
    %7 = graphopt.matmul %6, %arg3 {graphopt.arena_offsets = array<i64: -1>} : (tensor<32x32xf32>, tensor<32x64xf32>) -> tensor<32x64xf32>
    %8 = graphopt.permute %7 [1, 0] : tensor<32x64xf32> to tensor<64x32xf32>
    %9 = graphopt.kernel(%3) {graphopt.arena_offsets = array<i64: -1>} : (tensor<32x32xf32>) -> tensor<1x32xf32> {
    ^bb0(%arg9: tensor<32x32xf32>):
      %21 = graphopt.reduce_sum %arg9 [0] keepdim : tensor<32x32xf32> to tensor<1x32xf32>
      graphopt.yield %21 : tensor<1x32xf32>
    }
    %10 = graphopt.reshape %9 : tensor<1x32xf32> to tensor<32xf32>
    %11 = graphopt.permute %8 [1, 0] : tensor<64x32xf32> to tensor<32x64xf32>
    %12 = graphopt.reshape %5 : tensor<32x64xf32> to tensor<4x8x64xf32>
    %13 = graphopt.kernel(%arg2, %12) {graphopt.arena_offsets = array<i64: 8192>} : (tensor<4x8x64xf32>, tensor<4x8x64xf32>) -> tensor<4x8x64xf32> {
    ^bb0(%arg9: tensor<4x8x64xf32>, %arg10: tensor<4x8x64xf32>):
      %21 = graphopt.constant dense<0.707106769> : tensor<f32>
      %22 = graphopt.mul %arg9, %21 : (tensor<4x8x64xf32>, tensor<f32>) -> tensor<4x8x64xf32>
      %23 = graphopt.erf %22 : tensor<4x8x64xf32>
      %24 = graphopt.constant dense<1.000000e+00> : tensor<f32>
      %25 = graphopt.add %23, %24 : (tensor<4x8x64xf32>, tensor<f32>) -> tensor<4x8x64xf32>
      %26 = graphopt.constant dense<5.000000e-01> : tensor<f32>
      %27 = graphopt.mul %25, %26 : (tensor<4x8x64xf32>, tensor<f32>) -> tensor<4x8x64xf32>
      %28 = graphopt.mul %arg9, %arg9 : (tensor<4x8x64xf32>, tensor<4x8x64xf32>) -> tensor<4x8x64xf32>
      %29 = graphopt.constant dense<-5.000000e-01> : tensor<f32>
      %30 = graphopt.mul %28, %29 : (tensor<4x8x64xf32>, tensor<f32>) -> tensor<4x8x64xf32>
      %31 = graphopt.exp %30 : tensor<4x8x64xf32>
      %32 = graphopt.constant dense<0.398942292> : tensor<f32>
      %33 = graphopt.mul %31, %32 : (tensor<4x8x64xf32>, tensor<f32>) -> tensor<4x8x64xf32>
      %34 = graphopt.mul %arg9, %33 : (tensor<4x8x64xf32>, tensor<4x8x64xf32>) -> tensor<4x8x64xf32>
      %35 = graphopt.add %27, %34 : (tensor<4x8x64xf32>, tensor<4x8x64xf32>) -> tensor<4x8x64xf32>
      %36 = graphopt.mul %arg10, %35 : (tensor<4x8x64xf32>, tensor<4x8x64xf32>) -> tensor<4x8x64xf32>
      graphopt.yield %36 : tensor<4x8x64xf32>
    }
    %14 = graphopt.reshape %13 : tensor<4x8x64xf32> to tensor<32x64xf32>
    %15 = graphopt.permute %14 [1, 0] : tensor<32x64xf32> to tensor<64x32xf32>
    %16 = graphopt.matmul %15, %arg1 {graphopt.arena_offsets = array<i64: -1>} : (tensor<64x32xf32>, tensor<32x32xf32>) -> tensor<64x32xf32>
    %17 = graphopt.permute %16 [1, 0] : tensor<64x32xf32> to tensor<32x64xf32>
    %18 = graphopt.kernel(%14) {graphopt.arena_offsets = array<i64: -1>} : (tensor<32x64xf32>) -> tensor<1x64xf32> {
    ^bb0(%arg9: tensor<32x64xf32>):
      %21 = graphopt.reduce_sum %arg9 [0] keepdim : tensor<32x64xf32> to tensor<1x64xf32>
      graphopt.yield %21 : tensor<1x64xf32>
    }
    %19 = graphopt.reshape %18 : tensor<1x64xf32> to tensor<64xf32>
    %20 = graphopt.permute %17 [1, 0] : tensor<32x64xf32> to tensor<64x32xf32>
    return %20, %19, %11, %10, %1, %2 : tensor<64x32xf32>, tensor<64xf32>, tensor<32x64xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32xf32>
  }
}
