// RUN: graphopt-opt %s --graphopt-cost=target=h100-sxm -o /dev/null | FileCheck %s
// RUN: graphopt-opt %s --graphopt-cost=target=%S/conv-layouts.json -o /dev/null | FileCheck %s --check-prefix=CPU

// A fused softmax runs in three phases per row: the max, the sum of
// exponentials (sub + exp again) and the output (sub + exp + div). The cost
// model counts what the kernel executes, 26 FLOPs per element (max 1;
// sum 1 + exp 8 + sub 1; div 6 + exp 8 + sub 1), not the 17 of the ops alone.
// 64 x 512 x 26 = 851968.
// CHECK-LABEL: // @softmax
// CHECK: 0 graphopt_softmax_k0 852.0 K 262.1 KB 3.25 memory

// On a CPU target the emitter stashes exp's row in a local array in the sum
// phase (the row stash) and the output phase loads it: 17 FLOPs per element
// (max 1; sum 1 + exp 8 + sub 1; div 6), 64 x 512 x 17 = 557056 (compute-bound
// on that target's 10 GFLOP/s of vector math).
// CPU-LABEL: // @softmax
// CPU: 0 graphopt_softmax_k0 557.1 K 262.1 KB 2.12 compute
func.func @softmax(%x: tensor<64x512xf32>) -> tensor<64x512xf32> {
  %0 = graphopt.kernel (%x) : (tensor<64x512xf32>) -> tensor<64x512xf32> {
  ^bb0(%a: tensor<64x512xf32>):
    %m = graphopt.reduce_max %a [1] keepdim : tensor<64x512xf32> to tensor<64x1xf32>
    %d = graphopt.sub %a, %m : (tensor<64x512xf32>, tensor<64x1xf32>) -> tensor<64x512xf32>
    %e = graphopt.exp %d : tensor<64x512xf32>
    %s = graphopt.reduce_sum %e [1] keepdim : tensor<64x512xf32> to tensor<64x1xf32>
    %y = graphopt.div %e, %s : (tensor<64x512xf32>, tensor<64x1xf32>) -> tensor<64x512xf32>
    graphopt.yield %y : tensor<64x512xf32>
  }
  return %0 : tensor<64x512xf32>
}
