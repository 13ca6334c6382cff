// RUN: not graphopt-opt --graphopt-fuse %s 2>&1 | FileCheck %s
// Malformed input is a located diagnostic and exit code 1, never a crash.

func.func @broken(%a: tensor<4xf32>) -> tensor<4xf32> {
  // CHECK: malformed.mlir:[[@LINE+1]]:{{[0-9]+}}: error:
  %0 = graphopt.add %a : tensor<4xf32>
  return %0 : tensor<4xf32>
}
