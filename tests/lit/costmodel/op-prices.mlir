// RUN: graphopt-opt %s --graphopt-cost=target=%S/conv-layouts.json -o /dev/null | FileCheck %s --check-prefix=DEFAULT
// RUN: graphopt-opt %s --graphopt-cost=target=%S/op-prices.json -o /dev/null | FileCheck %s --check-prefix=PRICED

// A target may price the costly elementwise ops itself (vector_op_flops;
// host-cpu measures them). 64 x 512 = 32768 elements of div + rsqrt + tanh
// + exp: by default 6 + 12 + 11 + 8 = 37 per element (1.2 M); priced by the
// target 2 + 4 + 12, exp left at 8: 26 (852.0 K). A pow of -0.5 is an rsqrt.
// DEFAULT-LABEL: // @priced
// DEFAULT: 0 graphopt_priced_k0 1.2 M
// DEFAULT: 1 graphopt_priced_k1 393.2 K
// PRICED-LABEL: // @priced
// PRICED: 0 graphopt_priced_k0 852.0 K
// PRICED: 1 graphopt_priced_k1 131.1 K
func.func @priced(%x: tensor<64x512xf32>, %y: tensor<64x512xf32>) -> (tensor<64x512xf32>, tensor<64x512xf32>) {
  %0 = graphopt.kernel (%x, %y) : (tensor<64x512xf32>, tensor<64x512xf32>) -> tensor<64x512xf32> {
  ^bb0(%a: tensor<64x512xf32>, %b: tensor<64x512xf32>):
    %d = graphopt.div %a, %b : (tensor<64x512xf32>, tensor<64x512xf32>) -> tensor<64x512xf32>
    %r = graphopt.rsqrt %d : tensor<64x512xf32>
    %t = graphopt.tanh %r : tensor<64x512xf32>
    %e = graphopt.exp %t : tensor<64x512xf32>
    graphopt.yield %e : tensor<64x512xf32>
  }
  %1 = graphopt.kernel (%x) : (tensor<64x512xf32>) -> tensor<64x512xf32> {
  ^bb0(%a: tensor<64x512xf32>):
    %c = graphopt.constant dense<-5.000000e-01> : tensor<f32>
    %p = graphopt.pow %a, %c : (tensor<64x512xf32>, tensor<f32>) -> tensor<64x512xf32>
    graphopt.yield %p : tensor<64x512xf32>
  }
  return %0, %1 : tensor<64x512xf32>, tensor<64x512xf32>
}
