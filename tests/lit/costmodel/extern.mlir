// RUN: graphopt-opt %s --graphopt-cost=target=a100-sxm-80gb -o /dev/null | FileCheck %s
// RUN: graphopt-opt %s --graphopt-cost=target=%S/conv-layouts.json -o /dev/null | FileCheck %s --check-prefix=LAYOUT

// Convolutions run through torch, but their work is known from the shapes:
// 2 x output elements x (Cin x kh x kw) = 2 x (8*16*32*32) x (3*3*3) =
// 7.08 MFLOP at the matmul peak (compute-bound on an A100 in f32); the backward computes the input and weight
// gradients, twice that. graphopt-layout's channels-last convolution (NHWC in
// and out, the same weight) does the forward's work, and its channels-last
// backward the backward's. An extern op of unknown work is priced by its bytes.
// CHECK-LABEL: // @conv
// CHECK-NEXT: cost on a100-sxm-80gb
// CHECK-NEXT: step  kernel
// CHECK-NEXT: 0 aten::convolution.default 7.1 M 624.3 KB 11.34 compute
// CHECK-NEXT: 1 aten::convolution_backwar... 14.2 M 724.4 KB 19.54 compute
// CHECK-NEXT: 2 aten::rfft.default 0.0 8.2 KB 0.00 memory
// CHECK-NEXT: 3 graphopt::convolution_cha... 7.1 M 624.3 KB 11.34 compute
// CHECK-NEXT: 4 graphopt::convolution_bac... 14.2 M 724.4 KB 19.54 compute

// A target with convolution_efficiency (host-cpu measures it; here NCHW at
// half the 100 GFLOP/s matmul peak, NHWC at 0.9 of it, the NHWC backward at
// 0.4) prices ATen's NCHW convolutions and graphopt-layout's NHWC ones at
// their own rates: 7.08 MFLOP / 50 GFLOP/s = 141.6 us, / 90 GFLOP/s = 78.6
// us. The NCHW backward has no rate of its own and takes the forward's
// (14.2 MFLOP / 50 GFLOP/s); the NHWC backward takes its own, 14.2 MFLOP /
// 40 GFLOP/s = 353.9 us.
// LAYOUT: 0 aten::convolution.default 7.1 M 624.3 KB 11.34 compute 141.558
// LAYOUT-NEXT: 1 aten::convolution_backwar... 14.2 M 724.4 KB 19.54 compute 283.116
// LAYOUT: 3 graphopt::convolution_cha... 7.1 M 624.3 KB 11.34 compute 78.643
// LAYOUT-NEXT: 4 graphopt::convolution_bac... 14.2 M 724.4 KB 19.54 compute 353.894
func.func @conv(%x: tensor<8x3x32x32xf32>, %w: tensor<16x3x3x3xf32>, %g: tensor<8x16x32x32xf32>, %s: tensor<1024xf32>, %xl: tensor<8x32x32x3xf32>, %gl: tensor<8x32x32x16xf32>) -> (tensor<8x16x32x32xf32>, tensor<8x3x32x32xf32>, tensor<16x3x3x3xf32>, tensor<1024xf32>, tensor<8x32x32x16xf32>, tensor<8x32x32x3xf32>, tensor<16x3x3x3xf32>) {
  %y = graphopt.extern "aten::convolution.default"(%x, %w) {args = "{}"} : (tensor<8x3x32x32xf32>, tensor<16x3x3x3xf32>) -> tensor<8x16x32x32xf32>
  %gi, %gw = graphopt.extern "aten::convolution_backward.default"(%g, %x, %w) {args = "{}"} : (tensor<8x16x32x32xf32>, tensor<8x3x32x32xf32>, tensor<16x3x3x3xf32>) -> (tensor<8x3x32x32xf32>, tensor<16x3x3x3xf32>)
  %f = graphopt.extern "aten::rfft.default"(%s) {args = "{}"} : (tensor<1024xf32>) -> tensor<1024xf32>
  %yl = graphopt.extern "graphopt::convolution_channels_last.default"(%xl, %w) {args = "{}"} : (tensor<8x32x32x3xf32>, tensor<16x3x3x3xf32>) -> tensor<8x32x32x16xf32>
  %gil, %gwl = graphopt.extern "graphopt::convolution_backward_channels_last.default"(%gl, %xl, %w) {args = "{}"} : (tensor<8x32x32x16xf32>, tensor<8x32x32x3xf32>, tensor<16x3x3x3xf32>) -> (tensor<8x32x32x3xf32>, tensor<16x3x3x3xf32>)
  return %y, %gi, %gw, %f, %yl, %gil, %gwl : tensor<8x16x32x32xf32>, tensor<8x3x32x32xf32>, tensor<16x3x3x3xf32>, tensor<1024xf32>, tensor<8x32x32x16xf32>, tensor<8x32x32x3xf32>, tensor<16x3x3x3xf32>
}
