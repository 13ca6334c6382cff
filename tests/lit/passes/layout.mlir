// RUN: graphopt-opt %s -split-input-file --graphopt-layout --cse | FileCheck %s

// conv -> per-channel scale and shift -> relu -> conv: both convolutions run
// channels-last, the ops between them compute in NHWC (the [1,C,1,1]
// parameter becomes a [1,1,1,C] reshape, and BatchNorm's rsqrt(var + eps)
// on it stays elementwise, fusible), and the permutes between the
// convolutions cancel: one permute in (of the graph input), one out.
// CHECK-LABEL: func.func @conv_bn_relu_conv
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x8x8xf32>, %[[W1:.*]]: tensor<4x3x3x3xf32>, %[[S:.*]]: tensor<4xf32>, %[[W2:.*]]: tensor<4x4x3x3xf32>)
// CHECK: %[[XN:.*]] = graphopt.permute %[[X]] [0, 2, 3, 1] : tensor<2x3x8x8xf32> to tensor<2x8x8x3xf32>
// CHECK: %[[Y:.*]] = graphopt.extern "graphopt::convolution_channels_last.default"(%[[XN]], %[[W1]]) {{.*}} -> tensor<2x8x8x4xf32>
// CHECK: %[[SN:.*]] = graphopt.reshape %[[S]] : tensor<4xf32> to tensor<1x1x1x4xf32>
// CHECK: %[[VAR:.*]] = graphopt.add %[[SN]], %{{.*}} : (tensor<1x1x1x4xf32>, tensor<f32>) -> tensor<1x1x1x4xf32>
// CHECK: %[[RSTD:.*]] = graphopt.rsqrt %[[VAR]] : tensor<1x1x1x4xf32>
// CHECK: %[[M:.*]] = graphopt.mul %[[Y]], %[[RSTD]] : (tensor<2x8x8x4xf32>, tensor<1x1x1x4xf32>) -> tensor<2x8x8x4xf32>
// CHECK: %[[R:.*]] = graphopt.relu %[[M]] : tensor<2x8x8x4xf32>
// CHECK-NOT: graphopt.permute
// CHECK: %[[Z:.*]] = graphopt.extern "graphopt::convolution_channels_last.default"(%[[R]], %[[W2]])
// CHECK: %[[OUT:.*]] = graphopt.permute %[[Z]] [0, 3, 1, 2] : tensor<2x8x8x4xf32> to tensor<2x4x8x8xf32>
// The caller gets contiguous NCHW, as from eager: a copy (a same-type cast).
// CHECK: %[[COPY:.*]] = graphopt.cast %[[OUT]] : tensor<2x4x8x8xf32> to tensor<2x4x8x8xf32>
// CHECK: return %[[COPY]]
func.func @conv_bn_relu_conv(%x: tensor<2x3x8x8xf32>, %w1: tensor<4x3x3x3xf32>, %s: tensor<4xf32>, %w2: tensor<4x4x3x3xf32>) -> tensor<2x4x8x8xf32> {
  %y = graphopt.extern "aten::convolution.default"(%x, %w1) {args = "{\22args\22: [{\22t\22: 0}, {\22t\22: 1}, null, [1, 1], [1, 1], [1, 1], false, [0, 0], 1], \22kwargs\22: {}}"} : (tensor<2x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<2x4x8x8xf32>
  %sc = graphopt.reshape %s : tensor<4xf32> to tensor<1x4x1x1xf32>
  %eps = graphopt.constant dense<9.99999974E-6> : tensor<f32>
  %var = graphopt.add %sc, %eps : (tensor<1x4x1x1xf32>, tensor<f32>) -> tensor<1x4x1x1xf32>
  %rstd = graphopt.rsqrt %var : tensor<1x4x1x1xf32>
  %m = graphopt.mul %y, %rstd : (tensor<2x4x8x8xf32>, tensor<1x4x1x1xf32>) -> tensor<2x4x8x8xf32>
  %r = graphopt.relu %m : tensor<2x4x8x8xf32>
  %z = graphopt.extern "aten::convolution.default"(%r, %w2) {args = "{\22args\22: [{\22t\22: 0}, {\22t\22: 1}, null, [1, 1], [1, 1], [1, 1], false, [0, 0], 1], \22kwargs\22: {}}"} : (tensor<2x4x8x8xf32>, tensor<4x4x3x3xf32>) -> tensor<2x4x8x8xf32>
  return %z : tensor<2x4x8x8xf32>
}

// -----

// A residual add of two NHWC values and a scalar constant stays NHWC; the
// global average pool (sum over H and W) reduces the NHWC dims 1 and 2, and
// the flatten to [N, C] is a reshape of the [N,1,1,C] sum: no permute is
// left after the convolution.
// CHECK-LABEL: func.func @residual_pool
// CHECK: %[[Y:.*]] = graphopt.extern "graphopt::convolution_channels_last.default"
// CHECK: %[[A:.*]] = graphopt.add %[[Y]], %[[Y]] : (tensor<2x8x8x4xf32>, tensor<2x8x8x4xf32>) -> tensor<2x8x8x4xf32>
// CHECK: %[[H:.*]] = graphopt.mul %[[A]], %{{.*}} : (tensor<2x8x8x4xf32>, tensor<f32>) -> tensor<2x8x8x4xf32>
// CHECK: %[[P:.*]] = graphopt.reduce_sum %[[H]] [1, 2] keepdim : tensor<2x8x8x4xf32> to tensor<2x1x1x4xf32>
// CHECK-NOT: graphopt.permute
// CHECK: %[[F:.*]] = graphopt.reshape %[[P]] : tensor<2x1x1x4xf32> to tensor<2x4xf32>
// CHECK: return %[[F]]
func.func @residual_pool(%x: tensor<2x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<2x4xf32> {
  %y = graphopt.extern "aten::convolution.default"(%x, %w) {args = "{\22args\22: [{\22t\22: 0}, {\22t\22: 1}, null, [1, 1], [1, 1], [1, 1], false, [0, 0], 1], \22kwargs\22: {}}"} : (tensor<2x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<2x4x8x8xf32>
  %a = graphopt.add %y, %y : (tensor<2x4x8x8xf32>, tensor<2x4x8x8xf32>) -> tensor<2x4x8x8xf32>
  %c = graphopt.constant dense<5.000000e-01> : tensor<f32>
  %h = graphopt.mul %a, %c : (tensor<2x4x8x8xf32>, tensor<f32>) -> tensor<2x4x8x8xf32>
  %p = graphopt.reduce_sum %h [2, 3] keepdim : tensor<2x4x8x8xf32> to tensor<2x4x1x1xf32>
  %f = graphopt.reshape %p : tensor<2x4x1x1xf32> to tensor<2x4xf32>
  return %f : tensor<2x4xf32>
}

// -----

// A reduction that drops dims: sum over N, H, W of NHWC keeps only C.
// Summing over H alone keeps (N, C, W) in NCHW order, which in NHWC is
// (N, W, C): a permute restores it, and the returned value is copied.
// CHECK-LABEL: func.func @reductions_without_keepdim
// CHECK: %[[Y:.*]] = graphopt.extern "graphopt::convolution_channels_last.default"
// CHECK: %[[Z:.*]] = graphopt.extern "graphopt::convolution_channels_last.default"(%[[Y]]
// CHECK-DAG: graphopt.reduce_sum %[[Z]] [0, 1, 2] : tensor<2x8x8x4xf32> to tensor<4xf32>
// CHECK-DAG: %[[H:.*]] = graphopt.reduce_max %[[Z]] [1] : tensor<2x8x8x4xf32> to tensor<2x8x4xf32>
// CHECK-DAG: %[[HP:.*]] = graphopt.permute %[[H]] [0, 2, 1] : tensor<2x8x4xf32> to tensor<2x4x8xf32>
// CHECK: %[[COPY:.*]] = graphopt.cast %[[HP]]
// CHECK: return %{{.*}}, %[[COPY]]
func.func @reductions_without_keepdim(%x: tensor<2x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %w2: tensor<4x4x3x3xf32>) -> (tensor<4xf32>, tensor<2x4x8xf32>) {
  %y = graphopt.extern "aten::convolution.default"(%x, %w) {args = "{\22args\22: [{\22t\22: 0}, {\22t\22: 1}, null, [1, 1], [1, 1], [1, 1], false, [0, 0], 1], \22kwargs\22: {}}"} : (tensor<2x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<2x4x8x8xf32>
  %z = graphopt.extern "aten::convolution.default"(%y, %w2) {args = "{\22args\22: [{\22t\22: 0}, {\22t\22: 1}, null, [1, 1], [1, 1], [1, 1], false, [0, 0], 1], \22kwargs\22: {}}"} : (tensor<2x4x8x8xf32>, tensor<4x4x3x3xf32>) -> tensor<2x4x8x8xf32>
  %s = graphopt.reduce_sum %z [0, 2, 3] : tensor<2x4x8x8xf32> to tensor<4xf32>
  %m = graphopt.reduce_max %z [2] : tensor<2x4x8x8xf32> to tensor<2x4x8xf32>
  return %s, %m : tensor<4xf32>, tensor<2x4x8xf32>
}

// -----

// A graph that returns its activations (a training forward graph saves them
// for backward) would copy each back to NCHW: with more such copies than
// half its convolutions, the layout is left as it is.
// CHECK-LABEL: func.func @returns_its_activations
// CHECK-NOT: channels_last
// CHECK-NOT: graphopt.permute
// CHECK: return
func.func @returns_its_activations(%x: tensor<2x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %w2: tensor<4x4x3x3xf32>) -> (tensor<2x4x8x8xf32>, tensor<2x4x8x8xf32>) {
  %y = graphopt.extern "aten::convolution.default"(%x, %w) {args = "{\22args\22: [{\22t\22: 0}, {\22t\22: 1}, null, [1, 1], [1, 1], [1, 1], false, [0, 0], 1], \22kwargs\22: {}}"} : (tensor<2x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<2x4x8x8xf32>
  %r = graphopt.relu %y : tensor<2x4x8x8xf32>
  %z = graphopt.extern "aten::convolution.default"(%r, %w2) {args = "{\22args\22: [{\22t\22: 0}, {\22t\22: 1}, null, [1, 1], [1, 1], [1, 1], false, [0, 0], 1], \22kwargs\22: {}}"} : (tensor<2x4x8x8xf32>, tensor<4x4x3x3xf32>) -> tensor<2x4x8x8xf32>
  %s = graphopt.relu %z : tensor<2x4x8x8xf32>
  return %r, %s : tensor<2x4x8x8xf32>, tensor<2x4x8x8xf32>
}

// -----

// The same graph as a training forward graph: results 1 and 2 are saved for
// the backward graph (graphopt.saved_results), which takes them in any
// layout. They leave as NCHW views of the NHWC values, without a copy; only
// the result the caller reads (0) is copied back to NCHW, so the layout is
// kept.
// CHECK-LABEL: func.func @saved_activations
// CHECK: %[[Y:.*]] = graphopt.extern "graphopt::convolution_channels_last.default"
// CHECK: %[[R:.*]] = graphopt.relu %[[Y]] : tensor<2x8x8x4xf32>
// CHECK: %[[RP:.*]] = graphopt.permute %[[R]] [0, 3, 1, 2]
// CHECK: %[[Z:.*]] = graphopt.extern "graphopt::convolution_channels_last.default"(%[[R]]
// CHECK: %[[ZP:.*]] = graphopt.permute %[[Z]] [0, 3, 1, 2]
// CHECK: %[[S:.*]] = graphopt.relu %[[Z]] : tensor<2x8x8x4xf32>
// CHECK: %[[SP:.*]] = graphopt.permute %[[S]] [0, 3, 1, 2]
// CHECK: %[[COPY:.*]] = graphopt.cast %[[SP]]
// CHECK-NOT: graphopt.cast
// CHECK: return %[[COPY]], %[[RP]], %[[ZP]]
func.func @saved_activations(%x: tensor<2x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %w2: tensor<4x4x3x3xf32>) -> (tensor<2x4x8x8xf32>, tensor<2x4x8x8xf32>, tensor<2x4x8x8xf32>) attributes {graphopt.saved_results = array<i64: 1, 2>} {
  %y = graphopt.extern "aten::convolution.default"(%x, %w) {args = "{\22args\22: [{\22t\22: 0}, {\22t\22: 1}, null, [1, 1], [1, 1], [1, 1], false, [0, 0], 1], \22kwargs\22: {}}"} : (tensor<2x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<2x4x8x8xf32>
  %r = graphopt.relu %y : tensor<2x4x8x8xf32>
  %z = graphopt.extern "aten::convolution.default"(%r, %w2) {args = "{\22args\22: [{\22t\22: 0}, {\22t\22: 1}, null, [1, 1], [1, 1], [1, 1], false, [0, 0], 1], \22kwargs\22: {}}"} : (tensor<2x4x8x8xf32>, tensor<4x4x3x3xf32>) -> tensor<2x4x8x8xf32>
  %s = graphopt.relu %z : tensor<2x4x8x8xf32>
  return %s, %r, %z : tensor<2x4x8x8xf32>, tensor<2x4x8x8xf32>, tensor<2x4x8x8xf32>
}

// -----

// The same training forward graph for CUDA kernels: saved results are
// copied back to NCHW like any returned value, so three copies for two
// convolutions leave the graph NCHW.
// CHECK-LABEL: func.func @saved_activations_for_cuda
// CHECK-NOT: channels_last
// CHECK: return
func.func @saved_activations_for_cuda(%x: tensor<2x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %w2: tensor<4x4x3x3xf32>) -> (tensor<2x4x8x8xf32>, tensor<2x4x8x8xf32>, tensor<2x4x8x8xf32>) attributes {graphopt.kernels = "cuda", graphopt.saved_results = array<i64: 1, 2>} {
  %y = graphopt.extern "aten::convolution.default"(%x, %w) {args = "{\22args\22: [{\22t\22: 0}, {\22t\22: 1}, null, [1, 1], [1, 1], [1, 1], false, [0, 0], 1], \22kwargs\22: {}}"} : (tensor<2x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<2x4x8x8xf32>
  %r = graphopt.relu %y : tensor<2x4x8x8xf32>
  %z = graphopt.extern "aten::convolution.default"(%r, %w2) {args = "{\22args\22: [{\22t\22: 0}, {\22t\22: 1}, null, [1, 1], [1, 1], [1, 1], false, [0, 0], 1], \22kwargs\22: {}}"} : (tensor<2x4x8x8xf32>, tensor<4x4x3x3xf32>) -> tensor<2x4x8x8xf32>
  %s = graphopt.relu %z : tensor<2x4x8x8xf32>
  return %s, %r, %z : tensor<2x4x8x8xf32>, tensor<2x4x8x8xf32>, tensor<2x4x8x8xf32>
}

// -----

// A training backward graph: its saved activations arrive NHWC (arguments
// permuted to NCHW, as the importer writes them). Both convolution_backward
// ops run channels-last, whatever output_mask asks for; the product between
// them computes in NHWC, and the only permutes left are of the incoming
// gradient (NCHW) and of the input gradient the graph returns (copied).
// CHECK-LABEL: func.func @convolution_backward
// CHECK-SAME: (%[[DY:.*]]: tensor<2x4x8x8xf32>, %[[XN:.*]]: tensor<2x8x8x4xf32>, %[[W:.*]]: tensor<4x4x3x3xf32>, %[[X2N:.*]]: tensor<2x8x8x4xf32>, %[[W2:.*]]: tensor<4x4x3x3xf32>)
// CHECK: %[[DYN:.*]] = graphopt.permute %[[DY]] [0, 2, 3, 1]
// CHECK: %[[G:.*]]:2 = graphopt.extern "graphopt::convolution_backward_channels_last.default"(%[[DYN]], %[[XN]], %[[W]]) {{.*}} -> (tensor<2x8x8x4xf32>, tensor<4x4x3x3xf32>)
// CHECK: %[[M:.*]] = graphopt.mul %[[G]]#0, %[[XN]] : (tensor<2x8x8x4xf32>, tensor<2x8x8x4xf32>) -> tensor<2x8x8x4xf32>
// CHECK: %[[G2:.*]]:2 = graphopt.extern "graphopt::convolution_backward_channels_last.default"(%[[M]], %[[X2N]], %[[W2]]) {{.*}} -> (tensor<2x8x8x4xf32>, tensor<4x4x3x3xf32>)
// CHECK: %[[DX:.*]] = graphopt.permute %[[G2]]#0 [0, 3, 1, 2]
// CHECK: %[[DW:.*]] = graphopt.extern "graphopt::convolution_backward_channels_last.default"(%[[M]], %[[X2N]], %[[W2]]) {{.*}} -> tensor<4x4x3x3xf32>
// CHECK: %[[COPY:.*]] = graphopt.cast %[[DX]]
// CHECK: return %[[G]]#1, %[[COPY]], %[[G2]]#1, %[[DW]]
func.func @convolution_backward(%dy: tensor<2x4x8x8xf32>, %xn: tensor<2x8x8x4xf32>, %w: tensor<4x4x3x3xf32>, %x2n: tensor<2x8x8x4xf32>, %w2: tensor<4x4x3x3xf32>) -> (tensor<4x4x3x3xf32>, tensor<2x4x8x8xf32>, tensor<4x4x3x3xf32>, tensor<4x4x3x3xf32>) {
  %x = graphopt.permute %xn [0, 3, 1, 2] : tensor<2x8x8x4xf32> to tensor<2x4x8x8xf32>
  %x2 = graphopt.permute %x2n [0, 3, 1, 2] : tensor<2x8x8x4xf32> to tensor<2x4x8x8xf32>
  %g:2 = graphopt.extern "aten::convolution_backward.default"(%dy, %x, %w) {args = "{\22args\22: [{\22t\22: 0}, {\22t\22: 1}, {\22t\22: 2}, [0], [1, 1], [1, 1], [1, 1], false, [0, 0], 1, [true, true, false]], \22kwargs\22: {}}"} : (tensor<2x4x8x8xf32>, tensor<2x4x8x8xf32>, tensor<4x4x3x3xf32>) -> (tensor<2x4x8x8xf32>, tensor<4x4x3x3xf32>)
  %m = graphopt.mul %g#0, %x : (tensor<2x4x8x8xf32>, tensor<2x4x8x8xf32>) -> tensor<2x4x8x8xf32>
  %g2:2 = graphopt.extern "aten::convolution_backward.default"(%m, %x2, %w2) {args = "{\22args\22: [{\22t\22: 0}, {\22t\22: 1}, {\22t\22: 2}, [0], [1, 1], [1, 1], [1, 1], false, [0, 0], 1, [true, true, false]], \22kwargs\22: {}}"} : (tensor<2x4x8x8xf32>, tensor<2x4x8x8xf32>, tensor<4x4x3x3xf32>) -> (tensor<2x4x8x8xf32>, tensor<4x4x3x3xf32>)
  %dw = graphopt.extern "aten::convolution_backward.default"(%m, %x2, %w2) {args = "{\22args\22: [{\22t\22: 0}, {\22t\22: 1}, {\22t\22: 2}, [0], [1, 1], [1, 1], [1, 1], false, [0, 0], 1, [false, true, false]], \22kwargs\22: {}}"} : (tensor<2x4x8x8xf32>, tensor<2x4x8x8xf32>, tensor<4x4x3x3xf32>) -> tensor<4x4x3x3xf32>
  return %g#1, %g2#0, %g2#1, %dw : tensor<4x4x3x3xf32>, tensor<2x4x8x8xf32>, tensor<4x4x3x3xf32>, tensor<4x4x3x3xf32>
}

// -----

// A backward graph that starts from a global average pool's gradient: the
// [N,C,1,1] gradient broadcast over H and W becomes an NHWC broadcast of
// [N,1,1,C], so the ReLU gradient, which reads the saved NHWC activation,
// computes in NHWC, and convolution_backward takes it without a permute.
// CHECK-LABEL: func.func @pool_gradient
// CHECK-SAME: (%[[G:.*]]: tensor<2x4xf32>, %[[RN:.*]]: tensor<2x8x8x4xf32>, %[[W:.*]]: tensor<4x4x3x3xf32>, %[[XN:.*]]: tensor<2x8x8x4xf32>)
// CHECK-NOT: graphopt.permute
// CHECK: %[[G4:.*]] = graphopt.reshape %[[G]] : tensor<2x4xf32> to tensor<2x1x1x4xf32>
// CHECK: %[[B:.*]] = graphopt.broadcast %[[G4]] : tensor<2x1x1x4xf32> to tensor<2x8x8x4xf32>
// CHECK: %[[D:.*]] = graphopt.div %[[B]], %{{.*}} : (tensor<2x8x8x4xf32>, tensor<f32>) -> tensor<2x8x8x4xf32>
// CHECK: %[[LE:.*]] = graphopt.cmp "le", %[[RN]], %{{.*}} : (tensor<2x8x8x4xf32>, tensor<f32>) -> tensor<2x8x8x4xi1>
// CHECK: %[[M:.*]] = graphopt.where %[[LE]], %{{.*}}, %[[D]] : (tensor<2x8x8x4xi1>, tensor<f32>, tensor<2x8x8x4xf32>) -> tensor<2x8x8x4xf32>
// CHECK: graphopt.extern "graphopt::convolution_backward_channels_last.default"(%[[M]], %[[XN]], %[[W]])
func.func @pool_gradient(%g: tensor<2x4xf32>, %rn: tensor<2x8x8x4xf32>, %w: tensor<4x4x3x3xf32>, %xn: tensor<2x8x8x4xf32>) -> tensor<4x4x3x3xf32> {
  %r = graphopt.permute %rn [0, 3, 1, 2] : tensor<2x8x8x4xf32> to tensor<2x4x8x8xf32>
  %x = graphopt.permute %xn [0, 3, 1, 2] : tensor<2x8x8x4xf32> to tensor<2x4x8x8xf32>
  %g4 = graphopt.reshape %g : tensor<2x4xf32> to tensor<2x4x1x1xf32>
  %b = graphopt.broadcast %g4 : tensor<2x4x1x1xf32> to tensor<2x4x8x8xf32>
  %n = graphopt.constant dense<6.400000e+01> : tensor<f32>
  %d = graphopt.div %b, %n : (tensor<2x4x8x8xf32>, tensor<f32>) -> tensor<2x4x8x8xf32>
  %zero = graphopt.constant dense<0.000000e+00> : tensor<f32>
  %le = graphopt.cmp "le", %r, %zero : (tensor<2x4x8x8xf32>, tensor<f32>) -> tensor<2x4x8x8xi1>
  %m = graphopt.where %le, %zero, %d : (tensor<2x4x8x8xi1>, tensor<f32>, tensor<2x4x8x8xf32>) -> tensor<2x4x8x8xf32>
  %gr = graphopt.extern "aten::convolution_backward.default"(%m, %x, %w) {args = "{\22args\22: [{\22t\22: 0}, {\22t\22: 1}, {\22t\22: 2}, [0], [1, 1], [1, 1], [1, 1], false, [0, 0], 1, [false, true, false]], \22kwargs\22: {}}"} : (tensor<2x4x8x8xf32>, tensor<2x4x8x8xf32>, tensor<4x4x3x3xf32>) -> tensor<4x4x3x3xf32>
  return %gr : tensor<4x4x3x3xf32>
}

// -----

// A backward graph whose kernels run on CUDA keeps convolution_backward and
// the pool gradient's broadcast NCHW: the CUDA emitter's per-channel sums of
// NHWC data are slow (one block per channel over strided rows).
// CHECK-LABEL: func.func @cuda_backward_left_nchw
// CHECK-NOT: channels_last
// CHECK: graphopt.broadcast %{{.*}} : tensor<2x4x1x1xf32> to tensor<2x4x8x8xf32>
// CHECK: graphopt.extern "aten::convolution_backward.default"
func.func @cuda_backward_left_nchw(%g: tensor<2x4xf32>, %r: tensor<2x4x8x8xf32>, %w: tensor<4x4x3x3xf32>, %x: tensor<2x4x8x8xf32>) -> tensor<4x4x3x3xf32> attributes {graphopt.kernels = "cuda"} {
  %g4 = graphopt.reshape %g : tensor<2x4xf32> to tensor<2x4x1x1xf32>
  %b = graphopt.broadcast %g4 : tensor<2x4x1x1xf32> to tensor<2x4x8x8xf32>
  %m = graphopt.mul %b, %r : (tensor<2x4x8x8xf32>, tensor<2x4x8x8xf32>) -> tensor<2x4x8x8xf32>
  %gr = graphopt.extern "aten::convolution_backward.default"(%m, %x, %w) {args = "{\22args\22: [{\22t\22: 0}, {\22t\22: 1}, {\22t\22: 2}, [0], [1, 1], [1, 1], [1, 1], false, [0, 0], 1, [false, true, false]], \22kwargs\22: {}}"} : (tensor<2x4x8x8xf32>, tensor<2x4x8x8xf32>, tensor<4x4x3x3xf32>) -> tensor<4x4x3x3xf32>
  return %gr : tensor<4x4x3x3xf32>
}

// -----

// convolution_backward left alone: a transposed convolution's, and a 1-D
// convolution's.
// CHECK-LABEL: func.func @convolution_backward_left_alone
// CHECK-NOT: channels_last
// CHECK-COUNT-2: graphopt.extern "aten::convolution_backward.default"
// CHECK-NOT: graphopt.permute
func.func @convolution_backward_left_alone(%dy: tensor<2x4x8x8xf32>, %x: tensor<2x4x8x8xf32>, %w: tensor<4x4x3x3xf32>, %dy1: tensor<2x4x8xf32>, %x1: tensor<2x4x8xf32>, %w1: tensor<4x4x3xf32>) -> (tensor<2x4x8x8xf32>, tensor<4x4x3xf32>) {
  %g:2 = graphopt.extern "aten::convolution_backward.default"(%dy, %x, %w) {args = "{\22args\22: [{\22t\22: 0}, {\22t\22: 1}, {\22t\22: 2}, [0], [1, 1], [1, 1], [1, 1], true, [0, 0], 1, [true, true, false]], \22kwargs\22: {}}"} : (tensor<2x4x8x8xf32>, tensor<2x4x8x8xf32>, tensor<4x4x3x3xf32>) -> (tensor<2x4x8x8xf32>, tensor<4x4x3x3xf32>)
  %g1 = graphopt.extern "aten::convolution_backward.default"(%dy1, %x1, %w1) {args = "{\22args\22: [{\22t\22: 0}, {\22t\22: 1}, {\22t\22: 2}, [0], [1], [1], [1], false, [0], 1, [false, true, false]], \22kwargs\22: {}}"} : (tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<4x4x3xf32>) -> tensor<4x4x3xf32>
  return %g#0, %g1 : tensor<2x4x8x8xf32>, tensor<4x4x3xf32>
}

// -----

// Left alone: a transposed convolution, a 1-D convolution, an elementwise op
// mixing the NHWC result with a full-size NCHW tensor (the permute stays,
// index math in the kernel), and attention's head transpose (a view the
// graph returns is not copied).
// CHECK-LABEL: func.func @left_alone
// CHECK: graphopt.extern "aten::convolution.default"(%{{.*}}) {{.*}} -> tensor<2x4x10x10xf32>
// CHECK: graphopt.extern "aten::convolution.default"(%{{.*}}) {{.*}} -> tensor<2x4x8xf32>
// CHECK: %[[Y:.*]] = graphopt.extern "graphopt::convolution_channels_last.default"
// CHECK: %[[YP:.*]] = graphopt.permute %[[Y]] [0, 3, 1, 2]
// CHECK: graphopt.add %[[YP]], %{{.*}} : (tensor<2x4x8x8xf32>, tensor<2x4x8x8xf32>)
// CHECK: %[[T:.*]] = graphopt.permute %{{.*}} [0, 2, 1, 3] : tensor<2x4x8x8xf32> to tensor<2x8x4x8xf32>
// CHECK: graphopt.exp %[[T]] : tensor<2x8x4x8xf32>
func.func @left_alone(%x: tensor<2x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %wt: tensor<3x4x3x3xf32>, %x1: tensor<2x3x8xf32>, %w1: tensor<4x3x1xf32>, %other: tensor<2x4x8x8xf32>) -> (tensor<2x4x10x10xf32>, tensor<2x4x8xf32>, tensor<2x4x8x8xf32>, tensor<2x8x4x8xf32>) {
  %t = graphopt.extern "aten::convolution.default"(%x, %wt) {args = "{\22args\22: [{\22t\22: 0}, {\22t\22: 1}, null, [1, 1], [0, 0], [1, 1], true, [0, 0], 1], \22kwargs\22: {}}"} : (tensor<2x3x8x8xf32>, tensor<3x4x3x3xf32>) -> tensor<2x4x10x10xf32>
  %c1 = graphopt.extern "aten::convolution.default"(%x1, %w1) {args = "{\22args\22: [{\22t\22: 0}, {\22t\22: 1}, null, [1], [0], [1], false, [0], 1], \22kwargs\22: {}}"} : (tensor<2x3x8xf32>, tensor<4x3x1xf32>) -> tensor<2x4x8xf32>
  %y = graphopt.extern "aten::convolution.default"(%x, %w) {args = "{\22args\22: [{\22t\22: 0}, {\22t\22: 1}, null, [1, 1], [1, 1], [1, 1], false, [0, 0], 1], \22kwargs\22: {}}"} : (tensor<2x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<2x4x8x8xf32>
  %a = graphopt.add %y, %other : (tensor<2x4x8x8xf32>, tensor<2x4x8x8xf32>) -> tensor<2x4x8x8xf32>
  %p = graphopt.permute %other [0, 2, 1, 3] : tensor<2x4x8x8xf32> to tensor<2x8x4x8xf32>
  %e = graphopt.exp %p : tensor<2x8x4x8xf32>
  return %t, %c1, %a, %e : tensor<2x4x10x10xf32>, tensor<2x4x8xf32>, tensor<2x4x8x8xf32>, tensor<2x8x4x8xf32>
}

// -----

// A unit-dim reshape of an elementwise result moves to the operands only when
// every operand has the result's shape (or is a scalar): here one operand
// broadcasts from [1], so the reshape stays where it is.
// CHECK-LABEL: func.func @reshape_not_hoisted
// CHECK: %[[M:.*]] = graphopt.mul %arg0, %arg1 : (tensor<1x2xf32>, tensor<1xf32>) -> tensor<1x2xf32>
// CHECK: graphopt.reshape %[[M]] : tensor<1x2xf32> to tensor<2xf32>
func.func @reshape_not_hoisted(%a: tensor<1x2xf32>, %b: tensor<1xf32>) -> tensor<2xf32> {
  %m = graphopt.mul %a, %b : (tensor<1x2xf32>, tensor<1xf32>) -> tensor<1x2xf32>
  %r = graphopt.reshape %m : tensor<1x2xf32> to tensor<2xf32>
  return %r : tensor<2xf32>
}

// -----

// Attention's q @ k^T: k's transpose, made contiguous and flattened to
// [48, 64, 256] for bmm, becomes the transposed view of a contiguous copy of
// k itself (its head split, a copy along rows); bmm reads the view.
// CHECK-LABEL: func.func @transposed_bmm_operand
// CHECK: %[[K:.+]] = graphopt.permute %{{.+}} [0, 2, 1, 3]
// CHECK-NEXT: %[[C:.+]] = graphopt.cast %[[K]] : tensor<4x12x256x64xf32> to tensor<4x12x256x64xf32>
// CHECK-NEXT: %[[R:.+]] = graphopt.reshape %[[C]] : tensor<4x12x256x64xf32> to tensor<48x256x64xf32>
// CHECK-NEXT: %[[T:.+]] = graphopt.permute %[[R]] [0, 2, 1] : tensor<48x256x64xf32> to tensor<48x64x256xf32>
// CHECK-NEXT: graphopt.bmm %arg0, %[[T]]
// CHECK-NOT: [0, 1, 3, 2]
func.func @transposed_bmm_operand(%q: tensor<48x256x64xf32>, %qkv: tensor<4x256x36x64xf32>) -> tensor<48x256x256xf32> {
  %s = graphopt.slice %qkv [0, 0, 12, 0] : tensor<4x256x36x64xf32> to tensor<4x256x12x64xf32>
  %k = graphopt.permute %s [0, 2, 1, 3] : tensor<4x256x12x64xf32> to tensor<4x12x256x64xf32>
  %t = graphopt.permute %k [0, 1, 3, 2] : tensor<4x12x256x64xf32> to tensor<4x12x64x256xf32>
  %c = graphopt.cast %t : tensor<4x12x64x256xf32> to tensor<4x12x64x256xf32>
  %r = graphopt.reshape %c : tensor<4x12x64x256xf32> to tensor<48x64x256xf32>
  %0 = graphopt.bmm %q, %r : (tensor<48x256x64xf32>, tensor<48x64x256xf32>) -> tensor<48x256x256xf32>
  return %0 : tensor<48x256x256xf32>
}

// -----

// In a training forward graph the flattened copy of k^T is also a saved
// result (graphopt.saved_results): it leaves as the same transposed view,
// so the backward graph's bmm reads it too and nothing copies k across
// its rows. A user-visible result (position 0) would be left alone.
// CHECK-LABEL: func.func @transposed_bmm_operand_saved
// CHECK: %[[C:.+]] = graphopt.cast %{{.+}} : tensor<4x12x256x64xf32> to tensor<4x12x256x64xf32>
// CHECK-NEXT: %[[R:.+]] = graphopt.reshape %[[C]] : tensor<4x12x256x64xf32> to tensor<48x256x64xf32>
// CHECK-NEXT: %[[T:.+]] = graphopt.permute %[[R]] [0, 2, 1] : tensor<48x256x64xf32> to tensor<48x64x256xf32>
// CHECK-NEXT: %[[S:.+]] = graphopt.bmm %arg0, %[[T]]
// CHECK-NEXT: return %[[S]], %[[T]]
// CHECK-NOT: [0, 1, 3, 2]
func.func @transposed_bmm_operand_saved(%q: tensor<48x256x64xf32>, %qkv: tensor<4x256x36x64xf32>) -> (tensor<48x256x256xf32>, tensor<48x64x256xf32>) attributes {graphopt.saved_results = array<i64: 1>} {
  %s = graphopt.slice %qkv [0, 0, 12, 0] : tensor<4x256x36x64xf32> to tensor<4x256x12x64xf32>
  %k = graphopt.permute %s [0, 2, 1, 3] : tensor<4x256x12x64xf32> to tensor<4x12x256x64xf32>
  %t = graphopt.permute %k [0, 1, 3, 2] : tensor<4x12x256x64xf32> to tensor<4x12x64x256xf32>
  %c = graphopt.cast %t : tensor<4x12x64x256xf32> to tensor<4x12x64x256xf32>
  %r = graphopt.reshape %c : tensor<4x12x64x256xf32> to tensor<48x64x256xf32>
  %0 = graphopt.bmm %q, %r : (tensor<48x256x64xf32>, tensor<48x64x256xf32>) -> tensor<48x256x256xf32>
  return %0, %r : tensor<48x256x256xf32>, tensor<48x64x256xf32>
}

// -----

// The backward graph imports the saved k^T (a transposed view of k's copy)
// as k's memory, permuted back; its own transpose of k^T for the bmm then
// cancels with that permute, and the bmm reads the argument itself.
// CHECK-LABEL: func.func @saved_transpose_cancels
// CHECK-NOT: graphopt.permute
// CHECK: graphopt.bmm %arg1, %arg0
func.func @saved_transpose_cancels(%k: tensor<48x256x64xf32>, %ds: tensor<48x256x256xf32>) -> tensor<48x256x64xf32> {
  %kt = graphopt.permute %k [0, 2, 1] : tensor<48x256x64xf32> to tensor<48x64x256xf32>
  %t = graphopt.permute %kt [0, 2, 1] : tensor<48x64x256xf32> to tensor<48x256x64xf32>
  %0 = graphopt.bmm %ds, %t : (tensor<48x256x256xf32>, tensor<48x256x64xf32>) -> tensor<48x256x64xf32>
  return %0 : tensor<48x256x64xf32>
}

// -----

// Left alone: the flattened copy is also a result the caller reads (not a
// saved one): it must keep eager's contiguous layout, so the copy is made.
// CHECK-LABEL: func.func @transposed_operand_returned
// CHECK: graphopt.cast %{{.+}} : tensor<4x12x64x256xf32> to tensor<4x12x64x256xf32>
// CHECK-NOT: graphopt.permute %{{.*}} [0, 2, 1] :
func.func @transposed_operand_returned(%q: tensor<48x256x64xf32>, %k: tensor<4x12x256x64xf32>) -> (tensor<48x256x256xf32>, tensor<48x64x256xf32>) attributes {graphopt.saved_results = array<i64: 0>} {
  %t = graphopt.permute %k [0, 1, 3, 2] : tensor<4x12x256x64xf32> to tensor<4x12x64x256xf32>
  %c = graphopt.cast %t : tensor<4x12x64x256xf32> to tensor<4x12x64x256xf32>
  %r = graphopt.reshape %c : tensor<4x12x64x256xf32> to tensor<48x64x256xf32>
  %0 = graphopt.bmm %q, %r : (tensor<48x256x64xf32>, tensor<48x64x256xf32>) -> tensor<48x256x256xf32>
  return %0, %r : tensor<48x256x256xf32>, tensor<48x64x256xf32>
}

// -----

// A 2-D matmul's lhs and addmm's rhs: the same without a reshape, and
// without a copy, since the arguments are contiguous tensors already.
// CHECK-LABEL: func.func @transposed_matmul_operands
// CHECK-NOT: graphopt.cast
// CHECK: %[[AT:.+]] = graphopt.permute %arg0 [1, 0] : tensor<32x16xf32> to tensor<16x32xf32>
// CHECK-NEXT: graphopt.matmul %[[AT]], %arg1
// CHECK-NEXT: %[[BT:.+]] = graphopt.permute %arg1 [1, 0] : tensor<32x8xf32> to tensor<8x32xf32>
// CHECK-NEXT: graphopt.addmm %arg2, %arg3, %[[BT]]
func.func @transposed_matmul_operands(%a: tensor<32x16xf32>, %b: tensor<32x8xf32>, %bias: tensor<32xf32>, %x: tensor<4x8xf32>) -> (tensor<16x8xf32>, tensor<4x32xf32>) {
  %at = graphopt.permute %a [1, 0] : tensor<32x16xf32> to tensor<16x32xf32>
  %ac = graphopt.cast %at : tensor<16x32xf32> to tensor<16x32xf32>
  %0 = graphopt.matmul %ac, %b : (tensor<16x32xf32>, tensor<32x8xf32>) -> tensor<16x8xf32>
  %bt = graphopt.permute %b [1, 0] : tensor<32x8xf32> to tensor<8x32xf32>
  %bc = graphopt.cast %bt : tensor<8x32xf32> to tensor<8x32xf32>
  %1 = graphopt.addmm %bias, %x, %bc {alpha = 1.0 : f64, beta = 1.0 : f64} : (tensor<32xf32>, tensor<4x8xf32>, tensor<8x32xf32>) -> tensor<4x32xf32>
  return %0, %1 : tensor<16x8xf32>, tensor<4x32xf32>
}

// -----

// Left alone: the copy has another use (it is made anyway); the permute is
// a head split, not a transpose of the last two dims; the reshape merges a
// transposed dim; the copy converts bf16 to f32.
// CHECK-LABEL: func.func @not_a_transposed_operand
// CHECK-NOT: graphopt.permute %{{.*}} [0, 2, 1] :
// CHECK-NOT: graphopt.permute %{{.*}} [1, 0] : tensor<256x64xf32>
// CHECK-COUNT-4: graphopt.cast
func.func @not_a_transposed_operand(%q: tensor<48x256x64xf32>, %k: tensor<4x12x256x64xf32>, %h: tensor<4x256x12x64xf32>, %g: tensor<2x3x8x4xf32>, %u: tensor<2x8x12xf32>, %bf: tensor<64x256xbf16>, %v: tensor<64x8xf32>) -> (tensor<48x256x256xf32>, tensor<4x12x64x256xf32>, tensor<48x256x256xf32>, tensor<2x12x12xf32>, tensor<256x8xf32>) {
  %t = graphopt.permute %k [0, 1, 3, 2] : tensor<4x12x256x64xf32> to tensor<4x12x64x256xf32>
  %c = graphopt.cast %t : tensor<4x12x64x256xf32> to tensor<4x12x64x256xf32>
  %r = graphopt.reshape %c : tensor<4x12x64x256xf32> to tensor<48x64x256xf32>
  %0 = graphopt.bmm %q, %r : (tensor<48x256x64xf32>, tensor<48x64x256xf32>) -> tensor<48x256x256xf32>
  %p = graphopt.permute %h [0, 2, 3, 1] : tensor<4x256x12x64xf32> to tensor<4x12x64x256xf32>
  %pc = graphopt.cast %p : tensor<4x12x64x256xf32> to tensor<4x12x64x256xf32>
  %pr = graphopt.reshape %pc : tensor<4x12x64x256xf32> to tensor<48x64x256xf32>
  %1 = graphopt.bmm %q, %pr : (tensor<48x256x64xf32>, tensor<48x64x256xf32>) -> tensor<48x256x256xf32>
  %gt = graphopt.permute %g [0, 1, 3, 2] : tensor<2x3x8x4xf32> to tensor<2x3x4x8xf32>
  %gc = graphopt.cast %gt : tensor<2x3x4x8xf32> to tensor<2x3x4x8xf32>
  %gr = graphopt.reshape %gc : tensor<2x3x4x8xf32> to tensor<2x12x8xf32>
  %2 = graphopt.bmm %gr, %u : (tensor<2x12x8xf32>, tensor<2x8x12xf32>) -> tensor<2x12x12xf32>
  %bt = graphopt.permute %bf [1, 0] : tensor<64x256xbf16> to tensor<256x64xbf16>
  %bc = graphopt.cast %bt : tensor<256x64xbf16> to tensor<256x64xf32>
  %3 = graphopt.matmul %bc, %v : (tensor<256x64xf32>, tensor<64x8xf32>) -> tensor<256x8xf32>
  return %0, %c, %1, %2, %3 : tensor<48x256x256xf32>, tensor<4x12x64x256xf32>, tensor<48x256x256xf32>, tensor<2x12x12xf32>, tensor<256x8xf32>
}
