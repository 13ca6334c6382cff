// RUN: graphopt-opt %s -split-input-file --graphopt-conv-epilogue | FileCheck %s

// An inference BatchNorm and a ReLU after a convolution: (y - mean) * r * w + b
// is y * a + s with a = r * w, s = -mean * r * w + b. The weight is scaled per
// output channel, the shift is the bias, the ReLU is the call's post-op; the
// chain's ops are gone.
// CHECK-LABEL: func.func @batch_norm_relu
// CHECK-DAG: %[[NEG:.*]] = graphopt.neg %[[MEAN:.*]] : tensor<1x1x1x8xf32>
// CHECK-DAG: %[[S1:.*]] = graphopt.mul %[[NEG]], %[[R:.*]] : (tensor<1x1x1x8xf32>, tensor<1x1x1x8xf32>) -> tensor<1x1x1x8xf32>
// CHECK-DAG: %[[A:.*]] = graphopt.mul %[[R]], %[[W:.*]] : (tensor<1x1x1x8xf32>, tensor<1x1x1x8xf32>) -> tensor<1x1x1x8xf32>
// CHECK-DAG: %[[S2:.*]] = graphopt.mul %[[S1]], %[[W]]
// CHECK-DAG: %[[S3:.*]] = graphopt.add %[[S2]], %[[B:.*]] :
// CHECK: %[[A4:.*]] = graphopt.reshape %[[A]] : tensor<1x1x1x8xf32> to tensor<8x1x1x1xf32>
// CHECK-NEXT: %[[WS:.*]] = graphopt.mul %arg1, %[[A4]] : (tensor<8x4x3x3xf32>, tensor<8x1x1x1xf32>) -> tensor<8x4x3x3xf32>
// CHECK-NEXT: %[[BIAS:.*]] = graphopt.reshape %[[S3]] : tensor<1x1x1x8xf32> to tensor<8xf32>
// CHECK-NEXT: %[[Y:[0-9]+]] = graphopt.extern "graphopt::convolution_pointwise_channels_last.default"(%arg0, %[[WS]], %[[BIAS]])
// CHECK-SAME: [1,1],[1,1],[1,1],1,null,\22relu\22]
// CHECK-SAME: graphopt.fresh_results
// CHECK-NOT: graphopt.relu
// CHECK: return %[[Y]]
func.func @batch_norm_relu(%x: tensor<2x6x6x4xf32>, %w: tensor<8x4x3x3xf32>, %mean: tensor<8xf32>, %var: tensor<8xf32>, %gamma: tensor<8xf32>, %beta: tensor<8xf32>) -> tensor<2x6x6x8xf32> {
  %y = graphopt.extern "graphopt::convolution_channels_last.default"(%x, %w) {args = "{\22args\22: [{\22t\22: 0}, {\22t\22: 1}, null, [1, 1], [1, 1], [1, 1], false, [0, 0], 1], \22kwargs\22: {}}", graphopt.fresh_results} : (tensor<2x6x6x4xf32>, tensor<8x4x3x3xf32>) -> tensor<2x6x6x8xf32>
  %m = graphopt.reshape %mean : tensor<8xf32> to tensor<1x1x1x8xf32>
  %c = graphopt.sub %y, %m : (tensor<2x6x6x8xf32>, tensor<1x1x1x8xf32>) -> tensor<2x6x6x8xf32>
  %eps = graphopt.constant dense<9.99999974E-6> : tensor<f32>
  %v = graphopt.reshape %var : tensor<8xf32> to tensor<1x1x1x8xf32>
  %ve = graphopt.add %v, %eps : (tensor<1x1x1x8xf32>, tensor<f32>) -> tensor<1x1x1x8xf32>
  %r = graphopt.rsqrt %ve : tensor<1x1x1x8xf32>
  %n = graphopt.mul %c, %r : (tensor<2x6x6x8xf32>, tensor<1x1x1x8xf32>) -> tensor<2x6x6x8xf32>
  %g = graphopt.reshape %gamma : tensor<8xf32> to tensor<1x1x1x8xf32>
  %s = graphopt.mul %n, %g : (tensor<2x6x6x8xf32>, tensor<1x1x1x8xf32>) -> tensor<2x6x6x8xf32>
  %b = graphopt.reshape %beta : tensor<8xf32> to tensor<1x1x1x8xf32>
  %t = graphopt.add %s, %b : (tensor<2x6x6x8xf32>, tensor<1x1x1x8xf32>) -> tensor<2x6x6x8xf32>
  %o = graphopt.relu %t : tensor<2x6x6x8xf32>
  return %o : tensor<2x6x6x8xf32>
}

// -----

// The convolution's own bias starts the shift; a residual add and a ReLU
// after a scale: the residual is the call's `other` operand; a scalar
// divisor scales the filter by 1 / d.
// CHECK-LABEL: func.func @bias_residual_relu
// CHECK: %[[ONE:.*]] = graphopt.constant dense<1.000000e+00> : tensor<f32>
// CHECK: %[[RECIP:.*]] = graphopt.div %{{.*}}, %{{.*}} : (tensor<1x1x1x1xf32>, tensor<1x1x1x1xf32>) -> tensor<1x1x1x1xf32>
// CHECK: %[[SH:.*]] = graphopt.div %{{.*}}, %{{.*}} : (tensor<1x1x1x8xf32>, tensor<1x1x1x1xf32>) -> tensor<1x1x1x8xf32>
// CHECK: graphopt.mul %arg1, %{{.*}} : (tensor<8x4x3x3xf32>, tensor<1x1x1x1xf32>) -> tensor<8x4x3x3xf32>
// CHECK: %[[Y:[0-9]+]] = graphopt.extern "graphopt::convolution_pointwise_channels_last.default"(%arg0, %{{[0-9]+}}, %{{[0-9]+}}, %arg3)
// CHECK-SAME: {\22t\22:2},[2,2],[1,1],[1,1],1,{\22t\22:3},\22relu\22]
// CHECK: return %[[Y]]
func.func @bias_residual_relu(%x: tensor<2x6x6x4xf32>, %w: tensor<8x4x3x3xf32>, %bias: tensor<8xf32>, %res: tensor<2x3x3x8xf32>, %d: tensor<f32>) -> tensor<2x3x3x8xf32> {
  %y = graphopt.extern "graphopt::convolution_channels_last.default"(%x, %w, %bias) {args = "{\22args\22: [{\22t\22: 0}, {\22t\22: 1}, {\22t\22: 2}, [2, 2], [1, 1], [1, 1], false, [0, 0], 1], \22kwargs\22: {}}"} : (tensor<2x6x6x4xf32>, tensor<8x4x3x3xf32>, tensor<8xf32>) -> tensor<2x3x3x8xf32>
  %s = graphopt.div %y, %d : (tensor<2x3x3x8xf32>, tensor<f32>) -> tensor<2x3x3x8xf32>
  %a = graphopt.add %res, %s : (tensor<2x3x3x8xf32>, tensor<2x3x3x8xf32>) -> tensor<2x3x3x8xf32>
  %o = graphopt.relu %a : tensor<2x3x3x8xf32>
  return %o : tensor<2x3x3x8xf32>
}

// -----

// Left alone: the convolution's result has a second user; a
// per-spatial-position operand; a constant minus the convolution; bf16. An
// affine op after a residual add stays an op of its own (mkldnn adds the
// residual after the bias), the add goes into the call.
// CHECK-LABEL: func.func @left_alone
// CHECK: %[[Y0:.*]] = graphopt.extern "graphopt::convolution_channels_last.default"
// CHECK-NEXT: graphopt.relu %[[Y0]]
// CHECK-NEXT: %[[Y1:[0-9]+]] = graphopt.extern "graphopt::convolution_pointwise_channels_last.default"(%arg0, %arg1, %arg3)
// CHECK-SAME: null,[1,1],[1,1],[1,1],1,{\22t\22:2},\22none\22]
// CHECK-NEXT: graphopt.mul %[[Y1]], %arg2
// CHECK-COUNT-3: graphopt::convolution_channels_last.default
// CHECK-NOT: convolution_pointwise
func.func @left_alone(%x: tensor<2x6x6x4xf32>, %w: tensor<8x4x3x3xf32>, %c: tensor<1x1x1x8xf32>, %res: tensor<2x6x6x8xf32>, %p: tensor<1x6x6x1xf32>, %xb: tensor<2x6x6x4xbf16>, %wb: tensor<8x4x3x3xbf16>) -> (tensor<2x6x6x8xf32>, tensor<2x6x6x8xf32>, tensor<2x6x6x8xf32>, tensor<2x6x6x8xf32>, tensor<2x6x6x8xf32>, tensor<2x6x6x8xbf16>) {
  %y0 = graphopt.extern "graphopt::convolution_channels_last.default"(%x, %w) {args = "{\22args\22: [{\22t\22: 0}, {\22t\22: 1}, null, [1, 1], [1, 1], [1, 1], false, [0, 0], 1], \22kwargs\22: {}}"} : (tensor<2x6x6x4xf32>, tensor<8x4x3x3xf32>) -> tensor<2x6x6x8xf32>
  %r0 = graphopt.relu %y0 : tensor<2x6x6x8xf32>
  %y1 = graphopt.extern "graphopt::convolution_channels_last.default"(%x, %w) {args = "{\22args\22: [{\22t\22: 0}, {\22t\22: 1}, null, [1, 1], [1, 1], [1, 1], false, [0, 0], 1], \22kwargs\22: {}}"} : (tensor<2x6x6x4xf32>, tensor<8x4x3x3xf32>) -> tensor<2x6x6x8xf32>
  %a1 = graphopt.add %res, %y1 : (tensor<2x6x6x8xf32>, tensor<2x6x6x8xf32>) -> tensor<2x6x6x8xf32>
  %m1 = graphopt.mul %a1, %c : (tensor<2x6x6x8xf32>, tensor<1x1x1x8xf32>) -> tensor<2x6x6x8xf32>
  %y2 = graphopt.extern "graphopt::convolution_channels_last.default"(%x, %w) {args = "{\22args\22: [{\22t\22: 0}, {\22t\22: 1}, null, [1, 1], [1, 1], [1, 1], false, [0, 0], 1], \22kwargs\22: {}}"} : (tensor<2x6x6x4xf32>, tensor<8x4x3x3xf32>) -> tensor<2x6x6x8xf32>
  %m2 = graphopt.mul %y2, %p : (tensor<2x6x6x8xf32>, tensor<1x6x6x1xf32>) -> tensor<2x6x6x8xf32>
  %y3 = graphopt.extern "graphopt::convolution_channels_last.default"(%x, %w) {args = "{\22args\22: [{\22t\22: 0}, {\22t\22: 1}, null, [1, 1], [1, 1], [1, 1], false, [0, 0], 1], \22kwargs\22: {}}"} : (tensor<2x6x6x4xf32>, tensor<8x4x3x3xf32>) -> tensor<2x6x6x8xf32>
  %s3 = graphopt.sub %c, %y3 : (tensor<1x1x1x8xf32>, tensor<2x6x6x8xf32>) -> tensor<2x6x6x8xf32>
  %y4 = graphopt.extern "graphopt::convolution_channels_last.default"(%xb, %wb) {args = "{\22args\22: [{\22t\22: 0}, {\22t\22: 1}, null, [1, 1], [1, 1], [1, 1], false, [0, 0], 1], \22kwargs\22: {}}"} : (tensor<2x6x6x4xbf16>, tensor<8x4x3x3xbf16>) -> tensor<2x6x6x8xbf16>
  %r4 = graphopt.relu %y4 : tensor<2x6x6x8xbf16>
  return %r0, %y0, %m1, %m2, %s3, %r4 : tensor<2x6x6x8xf32>, tensor<2x6x6x8xf32>, tensor<2x6x6x8xf32>, tensor<2x6x6x8xf32>, tensor<2x6x6x8xf32>, tensor<2x6x6x8xbf16>
}

// -----

// A value inside the chain that has another user (here: returned) ends the
// chain there: the bias is folded, the ReLU stays a separate op.
// CHECK-LABEL: func.func @chain_ends_at_a_shared_value
// CHECK: %[[Y:[0-9]+]] = graphopt.extern "graphopt::convolution_pointwise_channels_last.default"(%arg0, %arg1, %{{[0-9]+}})
// CHECK-SAME: null,\22none\22]
// CHECK-NEXT: %[[R:.*]] = graphopt.relu %[[Y]]
// CHECK-NEXT: return %[[R]], %[[Y]]
func.func @chain_ends_at_a_shared_value(%x: tensor<2x6x6x4xf32>, %w: tensor<8x4x3x3xf32>, %c: tensor<8xf32>) -> (tensor<2x6x6x8xf32>, tensor<2x6x6x8xf32>) {
  %y = graphopt.extern "graphopt::convolution_channels_last.default"(%x, %w) {args = "{\22args\22: [{\22t\22: 0}, {\22t\22: 1}, null, [1, 1], [1, 1], [1, 1], false, [0, 0], 1], \22kwargs\22: {}}"} : (tensor<2x6x6x4xf32>, tensor<8x4x3x3xf32>) -> tensor<2x6x6x8xf32>
  %t = graphopt.add %y, %c : (tensor<2x6x6x8xf32>, tensor<8xf32>) -> tensor<2x6x6x8xf32>
  %r = graphopt.relu %t : tensor<2x6x6x8xf32>
  return %r, %t : tensor<2x6x6x8xf32>, tensor<2x6x6x8xf32>
}

// -----

// Kernels that run on CUDA keep the convolution and its epilogue apart.
// CHECK-LABEL: func.func @cuda_left_alone
// CHECK: graphopt::convolution_channels_last.default
// CHECK: graphopt.relu
func.func @cuda_left_alone(%x: tensor<2x6x6x4xf32>, %w: tensor<8x4x3x3xf32>) -> tensor<2x6x6x8xf32> attributes {graphopt.kernels = "cuda"} {
  %y = graphopt.extern "graphopt::convolution_channels_last.default"(%x, %w) {args = "{\22args\22: [{\22t\22: 0}, {\22t\22: 1}, null, [1, 1], [1, 1], [1, 1], false, [0, 0], 1], \22kwargs\22: {}}"} : (tensor<2x6x6x4xf32>, tensor<8x4x3x3xf32>) -> tensor<2x6x6x8xf32>
  %o = graphopt.relu %y : tensor<2x6x6x8xf32>
  return %o : tensor<2x6x6x8xf32>
}
