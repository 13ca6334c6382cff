// RUN: graphopt-opt %s --graphopt-cost=target=h100-sxm -o /dev/null | FileCheck %s --check-prefix=EAGER
// RUN: graphopt-opt %s --graphopt-pipeline --graphopt-cost=target=a100-sxm-80gb -o /dev/null | FileCheck %s --check-prefix=FUSED
// RUN: not graphopt-opt %s --graphopt-cost=target=tpu9 -o /dev/null 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: not graphopt-opt %s --graphopt-cost=target=%S/missing.json -o /dev/null 2>&1 | FileCheck %s --check-prefix=MISSING

// Unfused, every op is a launch: the addmm is compute-bound (2*64*1024*256
// + 2*64*1024 FLOPs over x, w, bias and out), the pointwise ops memory-bound.
// EAGER-LABEL: // @mlp
// EAGER-NEXT: cost on h100-sxm (67.0 TFLOP/s f32 matmul, 67.0 TFLOP/s vector, 3.4 TB/s)
// EAGER-NEXT: step  kernel
// EAGER-NEXT: 0  addmm 33.7 M 1.4 MB 24.40 compute 4.503
// EAGER-NEXT: 1  erf 917.5 K 524.3 KB 1.75 memory
// EAGER-NEXT: 2  mul 65.5 K 786.4 KB 0.08 memory
// EAGER-NEXT: 3  relu 65.5 K 524.3 KB 0.12 memory
// EAGER-NEXT: total: 4 launches, 34.7 MFLOP, 3.2 MB, 17.051 us, MFU 3.0%

// Fused, erf*x and relu are one kernel that reads h once and writes once.
// FUSED-LABEL: // @mlp
// FUSED-NEXT: cost on a100-sxm-80gb
// FUSED-NEXT: step  kernel
// FUSED-NEXT: 0  addmm 33.7 M 1.4 MB 24.40 compute
// FUSED-NEXT: 1  graphopt_mlp_k0 1.0 M 524.3 KB 2.00 memory
// FUSED-NEXT: total: 2 launches

// BAD: error: graphopt-cost: unknown target 'tpu9'; built-in targets are h100-sxm, a100-sxm-80gb, or pass a path to a target .json file
// MISSING: error: graphopt-cost: cannot read target file '{{.*}}missing.json'
func.func @mlp(%x: tensor<64x256xf32>, %w: tensor<256x1024xf32>, %b: tensor<1024xf32>) -> tensor<64x1024xf32> {
  %h = graphopt.addmm %b, %x, %w {alpha = 1.0 : f64, beta = 1.0 : f64} : (tensor<1024xf32>, tensor<64x256xf32>, tensor<256x1024xf32>) -> tensor<64x1024xf32>
  %e = graphopt.erf %h : tensor<64x1024xf32>
  %m = graphopt.mul %h, %e : (tensor<64x1024xf32>, tensor<64x1024xf32>) -> tensor<64x1024xf32>
  %r = graphopt.relu %m : tensor<64x1024xf32>
  return %r : tensor<64x1024xf32>
}
