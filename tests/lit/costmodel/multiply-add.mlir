// RUN: graphopt-opt %s --graphopt-cost=target=%S/conv-layouts.json -o /dev/null | FileCheck %s

// A multiply feeding an add is one fused multiply-add in the emitted code
// (the compilers contract the pair), the unit transcendentals are priced in:
// x * a + b counts 1 FLOP per element, 64 x 512 = 32768.
// CHECK-LABEL: // @fma
// CHECK: 0 graphopt_fma_k0 32.8 K
func.func @fma(%x: tensor<64x512xf32>, %a: tensor<64x512xf32>, %b: tensor<64x512xf32>) -> tensor<64x512xf32> {
  %0 = graphopt.kernel (%x, %a, %b) : (tensor<64x512xf32>, tensor<64x512xf32>, tensor<64x512xf32>) -> tensor<64x512xf32> {
  ^bb0(%p: tensor<64x512xf32>, %q: tensor<64x512xf32>, %r: tensor<64x512xf32>):
    %m = graphopt.mul %p, %q : (tensor<64x512xf32>, tensor<64x512xf32>) -> tensor<64x512xf32>
    %y = graphopt.sub %r, %m : (tensor<64x512xf32>, tensor<64x512xf32>) -> tensor<64x512xf32>
    graphopt.yield %y : tensor<64x512xf32>
  }
  return %0 : tensor<64x512xf32>
}

// Left apart: a product read twice (it is stored for its other reader), 3
// per element; a row's product added to every element (computed once per
// row: 64 multiplies + 32768 adds); integers (no fused multiply-add).
// CHECK-LABEL: // @no_fma
// CHECK: 0 graphopt_no_fma_k0 98.3 K
// CHECK: 1 graphopt_no_fma_k1 32.8 K
// CHECK: 2 graphopt_no_fma_k2 65.5 K
func.func @no_fma(%x: tensor<64x512xf32>, %a: tensor<64x512xf32>, %row: tensor<64x1xf32>, %i: tensor<64x512xi32>) -> (tensor<64x512xf32>, tensor<64x512xf32>, tensor<64x512xi32>) {
  %0 = graphopt.kernel (%x, %a) : (tensor<64x512xf32>, tensor<64x512xf32>) -> tensor<64x512xf32> {
  ^bb0(%p: tensor<64x512xf32>, %q: tensor<64x512xf32>):
    %m = graphopt.mul %p, %q : (tensor<64x512xf32>, tensor<64x512xf32>) -> tensor<64x512xf32>
    %s = graphopt.add %m, %p : (tensor<64x512xf32>, tensor<64x512xf32>) -> tensor<64x512xf32>
    %y = graphopt.mul %s, %m : (tensor<64x512xf32>, tensor<64x512xf32>) -> tensor<64x512xf32>
    graphopt.yield %y : tensor<64x512xf32>
  }
  %1 = graphopt.kernel (%x, %row) : (tensor<64x512xf32>, tensor<64x1xf32>) -> tensor<64x512xf32> {
  ^bb0(%p: tensor<64x512xf32>, %r: tensor<64x1xf32>):
    %m = graphopt.mul %r, %r : (tensor<64x1xf32>, tensor<64x1xf32>) -> tensor<64x1xf32>
    %y = graphopt.add %p, %m : (tensor<64x512xf32>, tensor<64x1xf32>) -> tensor<64x512xf32>
    graphopt.yield %y : tensor<64x512xf32>
  }
  %2 = graphopt.kernel (%i) : (tensor<64x512xi32>) -> tensor<64x512xi32> {
  ^bb0(%p: tensor<64x512xi32>):
    %m = graphopt.mul %p, %p : (tensor<64x512xi32>, tensor<64x512xi32>) -> tensor<64x512xi32>
    %y = graphopt.add %m, %p : (tensor<64x512xi32>, tensor<64x512xi32>) -> tensor<64x512xi32>
    graphopt.yield %y : tensor<64x512xi32>
  }
  return %0, %1, %2 : tensor<64x512xf32>, tensor<64x512xf32>, tensor<64x512xi32>
}
