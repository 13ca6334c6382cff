// RUN: graphopt-opt %s --graphopt-cost=target=%S/conv-layouts.json -o /dev/null | FileCheck %s
// RUN: graphopt-opt %s --graphopt-cost=target=h100-sxm -o /dev/null | FileCheck %s

// A multiply feeding an add is one fused multiply-add in the emitted code
// (the compilers contract the pair), the unit transcendentals are priced in,
// on either side of a subtraction: r - p * q and p * q - r count 1 FLOP per
// element, 64 x 512 = 32768; a * b + c * d counts 2 (one multiply-add, one
// multiply); a sum of products accumulates with multiply-adds: sum(p * p)
// counts 1 per element.
// CHECK-LABEL: // @fma
// CHECK: 0 graphopt_fma_k0 32.8 K
// CHECK: 1 graphopt_fma_k1 32.8 K
// CHECK: 2 graphopt_fma_k2 65.5 K
// CHECK: 3 graphopt_fma_k3 32.8 K
func.func @fma(%x: tensor<64x512xf32>, %a: tensor<64x512xf32>, %b: tensor<64x512xf32>) -> (tensor<64x512xf32>, tensor<64x512xf32>, tensor<64x512xf32>, tensor<64x1xf32>) {
  %0 = graphopt.kernel (%x, %a, %b) : (tensor<64x512xf32>, tensor<64x512xf32>, tensor<64x512xf32>) -> tensor<64x512xf32> {
  ^bb0(%p: tensor<64x512xf32>, %q: tensor<64x512xf32>, %r: tensor<64x512xf32>):
    %m = graphopt.mul %p, %q : (tensor<64x512xf32>, tensor<64x512xf32>) -> tensor<64x512xf32>
    %y = graphopt.sub %r, %m : (tensor<64x512xf32>, tensor<64x512xf32>) -> tensor<64x512xf32>
    graphopt.yield %y : tensor<64x512xf32>
  }
  %1 = graphopt.kernel (%x, %a, %b) : (tensor<64x512xf32>, tensor<64x512xf32>, tensor<64x512xf32>) -> tensor<64x512xf32> {
  ^bb0(%p: tensor<64x512xf32>, %q: tensor<64x512xf32>, %r: tensor<64x512xf32>):
    %m = graphopt.mul %p, %q : (tensor<64x512xf32>, tensor<64x512xf32>) -> tensor<64x512xf32>
    %y = graphopt.sub %m, %r : (tensor<64x512xf32>, tensor<64x512xf32>) -> tensor<64x512xf32>
    graphopt.yield %y : tensor<64x512xf32>
  }
  %2 = graphopt.kernel (%x, %a, %b) : (tensor<64x512xf32>, tensor<64x512xf32>, tensor<64x512xf32>) -> tensor<64x512xf32> {
  ^bb0(%p: tensor<64x512xf32>, %q: tensor<64x512xf32>, %r: tensor<64x512xf32>):
    %m = graphopt.mul %p, %q : (tensor<64x512xf32>, tensor<64x512xf32>) -> tensor<64x512xf32>
    %n = graphopt.mul %r, %q : (tensor<64x512xf32>, tensor<64x512xf32>) -> tensor<64x512xf32>
    %y = graphopt.add %m, %n : (tensor<64x512xf32>, tensor<64x512xf32>) -> tensor<64x512xf32>
    graphopt.yield %y : tensor<64x512xf32>
  }
  %3 = graphopt.kernel (%x) : (tensor<64x512xf32>) -> tensor<64x1xf32> {
  ^bb0(%p: tensor<64x512xf32>):
    %m = graphopt.mul %p, %p : (tensor<64x512xf32>, tensor<64x512xf32>) -> tensor<64x512xf32>
    %s = graphopt.reduce_sum %m [1] keepdim : tensor<64x512xf32> to tensor<64x1xf32>
    graphopt.yield %s : tensor<64x1xf32>
  }
  return %0, %1, %2, %3 : tensor<64x512xf32>, tensor<64x512xf32>, tensor<64x512xf32>, tensor<64x1xf32>
}

// Left apart: a product read twice, by an add and a multiply (3 per element)
// or by two adds of two outputs (3: a multiply and two adds; the outputs are
// stored from one loop, which computes the product once); a row's product added to every element (computed once per
// row: 64 multiplies + 32768 adds); integers (no fused multiply-add).
// CHECK-LABEL: // @no_fma
// CHECK: 0 graphopt_no_fma_k0 98.3 K
// CHECK: 1 graphopt_no_fma_k1 32.8 K
// CHECK: 2 graphopt_no_fma_k2 65.5 K
// CHECK: 3 graphopt_no_fma_k3 98.3 K
func.func @no_fma(%x: tensor<64x512xf32>, %a: tensor<64x512xf32>, %row: tensor<64x1xf32>, %i: tensor<64x512xi32>) -> (tensor<64x512xf32>, tensor<64x512xf32>, tensor<64x512xi32>, tensor<64x512xf32>, tensor<64x512xf32>) {
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
  %3:2 = graphopt.kernel (%x, %a) : (tensor<64x512xf32>, tensor<64x512xf32>) -> (tensor<64x512xf32>, tensor<64x512xf32>) {
  ^bb0(%p: tensor<64x512xf32>, %q: tensor<64x512xf32>):
    %m = graphopt.mul %p, %q : (tensor<64x512xf32>, tensor<64x512xf32>) -> tensor<64x512xf32>
    %y = graphopt.add %m, %p : (tensor<64x512xf32>, tensor<64x512xf32>) -> tensor<64x512xf32>
    %z = graphopt.add %m, %q : (tensor<64x512xf32>, tensor<64x512xf32>) -> tensor<64x512xf32>
    graphopt.yield %y, %z : tensor<64x512xf32>, tensor<64x512xf32>
  }
  return %0, %1, %2, %3#0, %3#1 : tensor<64x512xf32>, tensor<64x512xf32>, tensor<64x512xi32>, tensor<64x512xf32>, tensor<64x512xf32>
}
