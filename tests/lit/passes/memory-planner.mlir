// RUN: graphopt-opt %s -split-input-file --graphopt-plan-memory | FileCheck %s
// RUN: graphopt-opt %s -split-input-file --graphopt-plan-memory="alignment=256" | FileCheck %s --check-prefix=ALIGN
// The packing algorithm behind graphopt-plan-memory (passes/MemoryPlanner.cpp):
// largest buffers first, each at the lowest aligned offset free while it lives.

// The 16 KiB buffers are placed first; %z reuses %big's bytes once %big is
// dead, and the small %y fills the gap at 0 that %big left while %x and
// %small still occupy the rest.
// CHECK-LABEL: func.func @largest_first_then_gaps
// CHECK-SAME: graphopt.arena_size = 36864 : i64, graphopt.naive_size = 57344 : i64
// CHECK: %[[BIG:.*]] = graphopt.matmul {{.*}}{graphopt.arena_offsets = array<i64: 0>}
// CHECK: %[[SMALL:.*]] = graphopt.matmul {{.*}}{graphopt.arena_offsets = array<i64: 32768>}
// CHECK: %[[X:.*]] = graphopt.matmul {{.*}}{graphopt.arena_offsets = array<i64: 16384>}
// CHECK: %[[Y:.*]] = graphopt.matmul {{.*}}{graphopt.arena_offsets = array<i64: 0>}
// CHECK: graphopt.matmul %[[Y]], {{.*}}{graphopt.arena_offsets = array<i64: -1>}
// CHECK: %[[Z:.*]] = graphopt.matmul %[[X]], {{.*}}{graphopt.arena_offsets = array<i64: 0>}
// CHECK: graphopt.matmul %[[Z]], {{.*}}{graphopt.arena_offsets = array<i64: -1>}
func.func @largest_first_then_gaps(%a: tensor<32x32xf32>, %b: tensor<64x32xf32>, %c: tensor<32x64xf32>, %w: tensor<64x64xf32>) -> (tensor<64x64xf32>, tensor<32x32xf32>) {
  %big = graphopt.matmul %b, %c : (tensor<64x32xf32>, tensor<32x64xf32>) -> tensor<64x64xf32>
  %small = graphopt.matmul %a, %a : (tensor<32x32xf32>, tensor<32x32xf32>) -> tensor<32x32xf32>
  %x = graphopt.matmul %big, %w : (tensor<64x64xf32>, tensor<64x64xf32>) -> tensor<64x64xf32>
  %y = graphopt.matmul %small, %a : (tensor<32x32xf32>, tensor<32x32xf32>) -> tensor<32x32xf32>
  %keep = graphopt.matmul %y, %a : (tensor<32x32xf32>, tensor<32x32xf32>) -> tensor<32x32xf32>
  %z = graphopt.matmul %x, %w : (tensor<64x64xf32>, tensor<64x64xf32>) -> tensor<64x64xf32>
  %out = graphopt.matmul %z, %w : (tensor<64x64xf32>, tensor<64x64xf32>) -> tensor<64x64xf32>
  return %out, %keep : tensor<64x64xf32>, tensor<32x32xf32>
}

// -----

// Every buffer starts on the requested alignment: four 4-byte buffers live
// at once take 4 x 64 bytes by default and 4 x 256 with alignment=256.
// CHECK-LABEL: func.func @alignment
// CHECK-SAME: graphopt.arena_size = 256 : i64
// ALIGN-LABEL: func.func @alignment
// ALIGN-SAME: graphopt.arena_size = 1024 : i64
func.func @alignment(%a: tensor<1x1xf32>) -> tensor<1x1xf32> {
  %0 = graphopt.matmul %a, %a : (tensor<1x1xf32>, tensor<1x1xf32>) -> tensor<1x1xf32>
  %1 = graphopt.matmul %a, %a : (tensor<1x1xf32>, tensor<1x1xf32>) -> tensor<1x1xf32>
  %2 = graphopt.matmul %a, %a : (tensor<1x1xf32>, tensor<1x1xf32>) -> tensor<1x1xf32>
  %3 = graphopt.matmul %0, %1 : (tensor<1x1xf32>, tensor<1x1xf32>) -> tensor<1x1xf32>
  %4 = graphopt.matmul %3, %2 : (tensor<1x1xf32>, tensor<1x1xf32>) -> tensor<1x1xf32>
  return %4 : tensor<1x1xf32>
}
