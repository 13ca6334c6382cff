// RUN: graphopt-opt %s --graphopt-cost=target=a100-sxm-80gb -o /dev/null | FileCheck %s

// A kernel that only slices an input reads the box, not the buffer: each of
// the two kernels reads a third of the 384 KB input (128 KB) and writes
// 128 KB. The slice the function returns is a view: no bytes, no launch.
// CHECK-LABEL: // @thirds
// CHECK-NEXT: cost on a100-sxm-80gb
// CHECK-NEXT: step  kernel
// CHECK-NEXT: 0 graphopt_thirds_k0 {{.*}} 262.1 KB
// CHECK-NEXT: 1 graphopt_thirds_k1 {{.*}} 262.1 KB
// CHECK-NEXT: total: 2 launches, {{.*}}, 524.3 KB
func.func @thirds(%x: tensor<64x1536xf32>) -> (tensor<64x512xf32>, tensor<64x512xf32>, tensor<64x512xf32>) {
  %0 = graphopt.kernel (%x) : (tensor<64x1536xf32>) -> tensor<64x512xf32> {
  ^bb0(%a: tensor<64x1536xf32>):
    %s = graphopt.slice %a [0, 0] : tensor<64x1536xf32> to tensor<64x512xf32>
    %e = graphopt.exp %s : tensor<64x512xf32>
    graphopt.yield %e : tensor<64x512xf32>
  }
  %1 = graphopt.kernel (%x) : (tensor<64x1536xf32>) -> tensor<64x512xf32> {
  ^bb0(%a: tensor<64x1536xf32>):
    %s = graphopt.slice %a [0, 512] : tensor<64x1536xf32> to tensor<64x512xf32>
    %e = graphopt.exp %s : tensor<64x512xf32>
    graphopt.yield %e : tensor<64x512xf32>
  }
  %2 = graphopt.slice %x [0, 1024] : tensor<64x1536xf32> to tensor<64x512xf32>
  return %0, %1, %2 : tensor<64x512xf32>, tensor<64x512xf32>, tensor<64x512xf32>
}
