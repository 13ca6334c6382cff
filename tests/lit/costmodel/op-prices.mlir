// RUN: graphopt-opt %s --graphopt-cost=target=%S/conv-layouts.json -o /dev/null | FileCheck %s --check-prefix=DEFAULT
// RUN: graphopt-opt %s --graphopt-cost=target=%S/op-prices.json -o /dev/null | FileCheck %s --check-prefix=PRICED

// A target may price the costly elementwise ops itself (vector_op_flops;
// host-cpu measures them). op-prices.json gives each of the nine its own
// price; conv-layouts.json none (the defaults). Per element, on 64 x 512 =
// 32768 elements:
//   k0 div + rsqrt + tanh + exp: 6 + 12 + 11 + 8 = 37 (1.2 M), priced 2 + 4 + 12 + 7 = 25 (819.2 K)
//   k1 sigmoid + erf + log + sqrt: 10 + 14 + 16 + 6 = 46 (1.5 M), priced 9 + 13 + 17 + 3 = 42 (1.4 M)
//   k2 pow 1.7 (a libm call): 180 (5.9 M), priced 90 (2.9 M)
// and the constant exponents priced as what they become:
//   k3 pow -0.5, an rsqrt: 12 (393.2 K), priced 4 (131.1 K)
//   k4 pow 0.5, a sqrt: 6 (196.6 K), priced 3 (98.3 K)
//   k5 pow -2, a multiply and a division: 7 (229.4 K), priced 3 (98.3 K)
//   k6 pow -1, a division: 6 (196.6 K), priced 2 (65.5 K)
// DEFAULT-LABEL: // @priced
// DEFAULT: 0 graphopt_priced_k0 1.2 M
// DEFAULT: 1 graphopt_priced_k1 1.5 M
// DEFAULT: 2 graphopt_priced_k2 5.9 M
// DEFAULT: 3 graphopt_priced_k3 393.2 K
// DEFAULT: 4 graphopt_priced_k4 196.6 K
// DEFAULT: 5 graphopt_priced_k5 229.4 K
// DEFAULT: 6 graphopt_priced_k6 196.6 K
// PRICED-LABEL: // @priced
// PRICED: 0 graphopt_priced_k0 819.2 K
// PRICED: 1 graphopt_priced_k1 1.4 M
// PRICED: 2 graphopt_priced_k2 2.9 M
// PRICED: 3 graphopt_priced_k3 131.1 K
// PRICED: 4 graphopt_priced_k4 98.3 K
// PRICED: 5 graphopt_priced_k5 98.3 K
// PRICED: 6 graphopt_priced_k6 65.5 K
func.func @priced(%x: tensor<64x512xf32>, %y: tensor<64x512xf32>) -> (tensor<64x512xf32>, tensor<64x512xf32>, tensor<64x512xf32>, tensor<64x512xf32>, tensor<64x512xf32>, tensor<64x512xf32>, tensor<64x512xf32>) {
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
    %s = graphopt.sigmoid %a : tensor<64x512xf32>
    %e = graphopt.erf %s : tensor<64x512xf32>
    %l = graphopt.log %e : tensor<64x512xf32>
    %q = graphopt.sqrt %l : tensor<64x512xf32>
    graphopt.yield %q : tensor<64x512xf32>
  }
  %2 = graphopt.kernel (%x) : (tensor<64x512xf32>) -> tensor<64x512xf32> {
  ^bb0(%a: tensor<64x512xf32>):
    %c = graphopt.constant dense<1.700000e+00> : tensor<f32>
    %p = graphopt.pow %a, %c : (tensor<64x512xf32>, tensor<f32>) -> tensor<64x512xf32>
    graphopt.yield %p : tensor<64x512xf32>
  }
  %3 = graphopt.kernel (%x) : (tensor<64x512xf32>) -> tensor<64x512xf32> {
  ^bb0(%a: tensor<64x512xf32>):
    %c = graphopt.constant dense<-5.000000e-01> : tensor<f32>
    %p = graphopt.pow %a, %c : (tensor<64x512xf32>, tensor<f32>) -> tensor<64x512xf32>
    graphopt.yield %p : tensor<64x512xf32>
  }
  %4 = graphopt.kernel (%x) : (tensor<64x512xf32>) -> tensor<64x512xf32> {
  ^bb0(%a: tensor<64x512xf32>):
    %c = graphopt.constant dense<5.000000e-01> : tensor<f32>
    %p = graphopt.pow %a, %c : (tensor<64x512xf32>, tensor<f32>) -> tensor<64x512xf32>
    graphopt.yield %p : tensor<64x512xf32>
  }
  %5 = graphopt.kernel (%x) : (tensor<64x512xf32>) -> tensor<64x512xf32> {
  ^bb0(%a: tensor<64x512xf32>):
    %c = graphopt.constant dense<-2.000000e+00> : tensor<f32>
    %p = graphopt.pow %a, %c : (tensor<64x512xf32>, tensor<f32>) -> tensor<64x512xf32>
    graphopt.yield %p : tensor<64x512xf32>
  }
  %6 = graphopt.kernel (%x) : (tensor<64x512xf32>) -> tensor<64x512xf32> {
  ^bb0(%a: tensor<64x512xf32>):
    %c = graphopt.constant dense<-1.000000e+00> : tensor<f32>
    %p = graphopt.pow %a, %c : (tensor<64x512xf32>, tensor<f32>) -> tensor<64x512xf32>
    graphopt.yield %p : tensor<64x512xf32>
  }
  return %0, %1, %2, %3, %4, %5, %6 : tensor<64x512xf32>, tensor<64x512xf32>, tensor<64x512xf32>, tensor<64x512xf32>, tensor<64x512xf32>, tensor<64x512xf32>, tensor<64x512xf32>
}
