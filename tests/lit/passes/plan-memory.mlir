// RUN: graphopt-opt %s -split-input-file --graphopt-plan-memory | FileCheck %s

// Three 4 KiB buffers in a chain: the third reuses the first one's bytes,
// and the returned value is not in the arena.
// CHECK-LABEL: func.func @chain_reuse
// CHECK-SAME: graphopt.arena_size = 8192 : i64, graphopt.naive_size = 12288 : i64
// CHECK: graphopt.matmul {{.*}}{graphopt.arena_offsets = array<i64: [[A:[0-9]+]]>}
// CHECK: graphopt.matmul {{.*}}{graphopt.arena_offsets = array<i64: [[B:[0-9]+]]>}
// CHECK: graphopt.matmul {{.*}}{graphopt.arena_offsets = array<i64: [[A]]>}
// CHECK: graphopt.matmul {{.*}}{graphopt.arena_offsets = array<i64: -1>}
func.func @chain_reuse(%x: tensor<32x32xf32>) -> tensor<32x32xf32> {
  %0 = graphopt.matmul %x, %x : (tensor<32x32xf32>, tensor<32x32xf32>) -> tensor<32x32xf32>
  %1 = graphopt.matmul %0, %x : (tensor<32x32xf32>, tensor<32x32xf32>) -> tensor<32x32xf32>
  %2 = graphopt.matmul %1, %x : (tensor<32x32xf32>, tensor<32x32xf32>) -> tensor<32x32xf32>
  %3 = graphopt.matmul %2, %x : (tensor<32x32xf32>, tensor<32x32xf32>) -> tensor<32x32xf32>
  return %3 : tensor<32x32xf32>
}

// -----

// A view extends its source's lifetime: %0 stays live until the reshape's
// last use, so %1 cannot take its bytes.
// CHECK-LABEL: func.func @view_extends_lifetime
// CHECK-SAME: graphopt.arena_size = 8192
// CHECK: graphopt.matmul {{.*}}{graphopt.arena_offsets = array<i64: [[A:[0-9]+]]>}
// CHECK: graphopt.matmul {{.*}}{graphopt.arena_offsets = array<i64: [[B:[0-9]+]]>}
func.func @view_extends_lifetime(%x: tensor<32x32xf32>) -> tensor<32x32xf32> {
  %0 = graphopt.matmul %x, %x : (tensor<32x32xf32>, tensor<32x32xf32>) -> tensor<32x32xf32>
  %v = graphopt.reshape %0 : tensor<32x32xf32> to tensor<1024xf32>
  %1 = graphopt.matmul %x, %x : (tensor<32x32xf32>, tensor<32x32xf32>) -> tensor<32x32xf32>
  %e = graphopt.extern "aten::foo"(%v, %1) {args = "[]"} : (tensor<1024xf32>, tensor<32x32xf32>) -> tensor<32x32xf32>
  %2 = graphopt.matmul %e, %x : (tensor<32x32xf32>, tensor<32x32xf32>) -> tensor<32x32xf32>
  return %2 : tensor<32x32xf32>
}

// -----

// A buffer that is returned through a view belongs to the caller.
// CHECK-LABEL: func.func @returned_view
// CHECK-SAME: graphopt.arena_size = 0
// CHECK: graphopt.matmul {{.*}}{graphopt.arena_offsets = array<i64: -1>}
func.func @returned_view(%x: tensor<32x32xf32>) -> tensor<1024xf32> {
  %0 = graphopt.matmul %x, %x : (tensor<32x32xf32>, tensor<32x32xf32>) -> tensor<32x32xf32>
  %v = graphopt.reshape %0 : tensor<32x32xf32> to tensor<1024xf32>
  return %v : tensor<1024xf32>
}

// -----

// Extern results may alias their operands: an arena buffer passed to an
// extern whose result is returned is kept out of the arena.
// CHECK-LABEL: func.func @extern_may_alias
// CHECK: graphopt.matmul {{.*}}{graphopt.arena_offsets = array<i64: -1>}
func.func @extern_may_alias(%x: tensor<32x32xf32>) -> tensor<32x32xf32> {
  %0 = graphopt.matmul %x, %x : (tensor<32x32xf32>, tensor<32x32xf32>) -> tensor<32x32xf32>
  %1 = graphopt.extern "aten::alias"(%0) {args = "[{\"t\": 0}]"} : (tensor<32x32xf32>) -> tensor<32x32xf32>
  return %1 : tensor<32x32xf32>
}

// -----

// Multi-output kernels get one offset per result; results returned get -1.
// CHECK-LABEL: func.func @kernel_outputs
// CHECK: graphopt.kernel{{.*}}{graphopt.arena_offsets = array<i64: 0, -1>}
func.func @kernel_outputs(%x: tensor<16xf32>, %w: tensor<16x16xf32>) -> (tensor<16xf32>, tensor<1x16xf32>) {
  %0:2 = graphopt.kernel (%x) : (tensor<16xf32>) -> (tensor<16xf32>, tensor<16xf32>) {
  ^bb0(%a: tensor<16xf32>):
    %e = graphopt.exp %a : tensor<16xf32>
    %n = graphopt.neg %e : tensor<16xf32>
    graphopt.yield %e, %n : tensor<16xf32>, tensor<16xf32>
  }
  %r = graphopt.reshape %0#0 : tensor<16xf32> to tensor<1x16xf32>
  %m = graphopt.matmul %r, %w : (tensor<1x16xf32>, tensor<16x16xf32>) -> tensor<1x16xf32>
  return %0#1, %m : tensor<16xf32>, tensor<1x16xf32>
}

// -----

// In place: each pointwise kernel overwrites the matmul buffer it reads,
// which dies there; the chain needs one 4 KiB buffer instead of two.
// CHECK-LABEL: func.func @in_place_chain
// CHECK-SAME: graphopt.arena_size = 4096 : i64, graphopt.naive_size = 12288 : i64
// CHECK: graphopt.matmul {{.*}}{graphopt.arena_offsets = array<i64: 0>}
// CHECK: graphopt.kernel{{.*}}{graphopt.arena_offsets = array<i64: 0>, graphopt.in_place = array<i64: 0>}
// CHECK: graphopt.kernel{{.*}}{graphopt.arena_offsets = array<i64: 0>, graphopt.in_place = array<i64: 1>}
// CHECK: graphopt.matmul {{.*}}{graphopt.arena_offsets = array<i64: -1>}
func.func @in_place_chain(%x: tensor<32x32xf32>) -> tensor<32x32xf32> {
  %0 = graphopt.matmul %x, %x : (tensor<32x32xf32>, tensor<32x32xf32>) -> tensor<32x32xf32>
  %1 = graphopt.kernel (%0) : (tensor<32x32xf32>) -> tensor<32x32xf32> {
  ^bb0(%a: tensor<32x32xf32>):
    %e = graphopt.exp %a : tensor<32x32xf32>
    graphopt.yield %e : tensor<32x32xf32>
  }
  %2 = graphopt.kernel (%x, %1) : (tensor<32x32xf32>, tensor<32x32xf32>) -> tensor<32x32xf32> {
  ^bb0(%a: tensor<32x32xf32>, %b: tensor<32x32xf32>):
    %s = graphopt.add %a, %b : (tensor<32x32xf32>, tensor<32x32xf32>) -> tensor<32x32xf32>
    graphopt.yield %s : tensor<32x32xf32>
  }
  %3 = graphopt.matmul %2, %x : (tensor<32x32xf32>, tensor<32x32xf32>) -> tensor<32x32xf32>
  return %3 : tensor<32x32xf32>
}

// -----

// Left alone: an input used after the kernel, a function argument (the
// caller's), an input of another byte size, a kernel that permutes (reads
// other elements than it writes), a row reduction, and a view of the input
// passed beside it.
// CHECK-LABEL: func.func @not_in_place
// CHECK-NOT: graphopt.in_place
// CHECK: return
func.func @not_in_place(%x: tensor<32x32xf32>) -> (tensor<32x32xf32>, tensor<32x32xf32>, tensor<32x32xf32>) {
  %0 = graphopt.matmul %x, %x : (tensor<32x32xf32>, tensor<32x32xf32>) -> tensor<32x32xf32>
  %live = graphopt.kernel (%0) : (tensor<32x32xf32>) -> tensor<32x32xf32> {
  ^bb0(%a: tensor<32x32xf32>):
    %e = graphopt.exp %a : tensor<32x32xf32>
    graphopt.yield %e : tensor<32x32xf32>
  }
  %use = graphopt.matmul %0, %live : (tensor<32x32xf32>, tensor<32x32xf32>) -> tensor<32x32xf32>
  %arg = graphopt.kernel (%x) : (tensor<32x32xf32>) -> tensor<32x32xf32> {
  ^bb0(%a: tensor<32x32xf32>):
    %e = graphopt.exp %a : tensor<32x32xf32>
    graphopt.yield %e : tensor<32x32xf32>
  }
  %m1 = graphopt.matmul %x, %x : (tensor<32x32xf32>, tensor<32x32xf32>) -> tensor<32x32xf32>
  %wide = graphopt.kernel (%m1) : (tensor<32x32xf32>) -> tensor<32x32xf64> {
  ^bb0(%a: tensor<32x32xf32>):
    %c = graphopt.cast %a : tensor<32x32xf32> to tensor<32x32xf64>
    graphopt.yield %c : tensor<32x32xf64>
  }
  %narrow = graphopt.kernel (%wide) : (tensor<32x32xf64>) -> tensor<32x32xf32> {
  ^bb0(%a: tensor<32x32xf64>):
    %c = graphopt.cast %a : tensor<32x32xf64> to tensor<32x32xf32>
    graphopt.yield %c : tensor<32x32xf32>
  }
  %m2 = graphopt.matmul %x, %x : (tensor<32x32xf32>, tensor<32x32xf32>) -> tensor<32x32xf32>
  %perm = graphopt.kernel (%m2) : (tensor<32x32xf32>) -> tensor<32x32xf32> {
  ^bb0(%a: tensor<32x32xf32>):
    %t = graphopt.permute %a [1, 0] : tensor<32x32xf32> to tensor<32x32xf32>
    %e = graphopt.exp %t : tensor<32x32xf32>
    graphopt.yield %e : tensor<32x32xf32>
  }
  %m3 = graphopt.matmul %x, %x : (tensor<32x32xf32>, tensor<32x32xf32>) -> tensor<32x32xf32>
  %red = graphopt.kernel (%m3) : (tensor<32x32xf32>) -> tensor<32x32xf32> {
  ^bb0(%a: tensor<32x32xf32>):
    %m = graphopt.reduce_max %a [1] keepdim : tensor<32x32xf32> to tensor<32x1xf32>
    %d = graphopt.sub %a, %m : (tensor<32x32xf32>, tensor<32x1xf32>) -> tensor<32x32xf32>
    graphopt.yield %d : tensor<32x32xf32>
  }
  %m4 = graphopt.matmul %x, %x : (tensor<32x32xf32>, tensor<32x32xf32>) -> tensor<32x32xf32>
  %v = graphopt.permute %m4 [1, 0] : tensor<32x32xf32> to tensor<32x32xf32>
  %both = graphopt.kernel (%m4, %v) : (tensor<32x32xf32>, tensor<32x32xf32>) -> tensor<32x32xf32> {
  ^bb0(%a: tensor<32x32xf32>, %b: tensor<32x32xf32>):
    %s = graphopt.add %a, %b : (tensor<32x32xf32>, tensor<32x32xf32>) -> tensor<32x32xf32>
    graphopt.yield %s : tensor<32x32xf32>
  }
  %r0 = graphopt.matmul %use, %narrow : (tensor<32x32xf32>, tensor<32x32xf32>) -> tensor<32x32xf32>
  %r1 = graphopt.matmul %arg, %perm : (tensor<32x32xf32>, tensor<32x32xf32>) -> tensor<32x32xf32>
  %r2 = graphopt.matmul %both, %red : (tensor<32x32xf32>, tensor<32x32xf32>) -> tensor<32x32xf32>
  return %r0, %r1, %r2 : tensor<32x32xf32>, tensor<32x32xf32>, tensor<32x32xf32>
}

// -----

// An extern whose results are new tensors (graphopt.fresh_results: no alias
// annotation in its schema) does not tie its operands' storage to its
// results': the kernel output it reads stays in the arena although the
// extern also reads a function argument, and its bytes are reused after.
// CHECK-LABEL: func.func @fresh_extern_results
// CHECK-SAME: graphopt.arena_size = 4096 : i64, graphopt.naive_size = 8192 : i64
// CHECK: graphopt.kernel{{.*}}{graphopt.arena_offsets = array<i64: 0>}
// CHECK: graphopt.extern
// CHECK: graphopt.kernel{{.*}}{graphopt.arena_offsets = array<i64: 0>}
// CHECK: graphopt.kernel{{.*}}{graphopt.arena_offsets = array<i64: -1>}
func.func @fresh_extern_results(%x: tensor<32x32xf32>, %w: tensor<32x32xf32>) -> tensor<32x32xf32> {
  %0 = graphopt.kernel (%x) : (tensor<32x32xf32>) -> tensor<32x32xf32> {
  ^bb0(%a: tensor<32x32xf32>):
    %e = graphopt.exp %a : tensor<32x32xf32>
    graphopt.yield %e : tensor<32x32xf32>
  }
  %c = graphopt.extern "aten::convolution.default"(%0, %w) {args = "{}", graphopt.fresh_results} : (tensor<32x32xf32>, tensor<32x32xf32>) -> tensor<32x32xf32>
  %1 = graphopt.kernel (%c) : (tensor<32x32xf32>) -> tensor<32x32xf32> {
  ^bb0(%a: tensor<32x32xf32>):
    %e = graphopt.exp %a : tensor<32x32xf32>
    graphopt.yield %e : tensor<32x32xf32>
  }
  %2 = graphopt.kernel (%1) : (tensor<32x32xf32>) -> tensor<32x32xf32> {
  ^bb0(%a: tensor<32x32xf32>):
    %e = graphopt.neg %a : tensor<32x32xf32>
    graphopt.yield %e : tensor<32x32xf32>
  }
  return %2 : tensor<32x32xf32>
}

// -----

// Input mutations (a BatchNorm's running mean and its step count): the
// kernel computing an input's new value writes it over the input, and the
// aten::copy_ that wrote it back goes. Its result is the caller's storage.
// CHECK-LABEL: func.func @input_updates
// CHECK-NOT: aten::copy_
// CHECK: graphopt.kernel(%arg0, %arg2) {graphopt.arena_offsets = array<i64: -1>, graphopt.in_place = array<i64: 1>}
// CHECK: graphopt.kernel(%arg1) {graphopt.arena_offsets = array<i64: -1>, graphopt.in_place = array<i64: 0>}
// CHECK: graphopt.kernel(%arg3, %arg4) {graphopt.arena_offsets = array<i64: -1>, graphopt.in_place = array<i64: 1>}
// CHECK-NOT: aten::copy_
// CHECK: return
func.func @input_updates(%mean: tensor<64xf32>, %steps: tensor<i64>, %running: tensor<64xf32>, %x: tensor<8x64xf32>, %avg: tensor<64xf32>) -> tensor<64xf32> {
  %new = graphopt.kernel(%mean, %running) : (tensor<64xf32>, tensor<64xf32>) -> tensor<64xf32> {
  ^bb0(%m: tensor<64xf32>, %r: tensor<64xf32>):
    %c = graphopt.constant dense<0.9> : tensor<f32>
    %a = graphopt.mul %r, %c : (tensor<64xf32>, tensor<f32>) -> tensor<64xf32>
    %b = graphopt.add %a, %m : (tensor<64xf32>, tensor<64xf32>) -> tensor<64xf32>
    graphopt.yield %b : tensor<64xf32>
  }
  %n = graphopt.kernel(%steps) : (tensor<i64>) -> tensor<i64> {
  ^bb0(%s: tensor<i64>):
    %one = graphopt.constant dense<1> : tensor<i64>
    %t = graphopt.add %s, %one : (tensor<i64>, tensor<i64>) -> tensor<i64>
    graphopt.yield %t : tensor<i64>
  }
  // An epilogue kernel reads the input after its reduction, at its index.
  %na = graphopt.kernel(%x, %avg) : (tensor<8x64xf32>, tensor<64xf32>) -> tensor<64xf32> {
  ^bb0(%v: tensor<8x64xf32>, %r: tensor<64xf32>):
    %s = graphopt.reduce_sum %v [0] : tensor<8x64xf32> to tensor<64xf32>
    %b = graphopt.add %s, %r : (tensor<64xf32>, tensor<64xf32>) -> tensor<64xf32>
    graphopt.yield %b : tensor<64xf32>
  }
  %0 = graphopt.extern "aten::copy_.default"(%running, %new) {args = "[]"} : (tensor<64xf32>, tensor<64xf32>) -> tensor<64xf32>
  %1 = graphopt.extern "aten::copy_.default"(%steps, %n) {args = "[]"} : (tensor<i64>, tensor<i64>) -> tensor<i64>
  %2 = graphopt.extern "aten::copy_.default"(%avg, %na) {args = "[]"} : (tensor<64xf32>, tensor<64xf32>) -> tensor<64xf32>
  return %mean : tensor<64xf32>
}

// -----

// Left alone: an input read again after the kernel computing its new value
// (the reader must see the old value), a new value used elsewhere too, one
// whose kernel reads the input at other indices (a transpose), and one
// whose kernel reads it inside a reduction's loop.
// CHECK-LABEL: func.func @input_updates_left_alone
// CHECK-NOT: graphopt.in_place
// CHECK-COUNT-4: aten::copy_
func.func @input_updates_left_alone(%a: tensor<64xf32>, %b: tensor<64xf32>, %c: tensor<4x4xf32>, %d: tensor<4x16xf32>) -> (tensor<64xf32>, tensor<64xf32>) {
  %na = graphopt.kernel(%a) : (tensor<64xf32>) -> tensor<64xf32> {
  ^bb0(%x: tensor<64xf32>):
    %e = graphopt.exp %x : tensor<64xf32>
    graphopt.yield %e : tensor<64xf32>
  }
  %later = graphopt.kernel(%a) : (tensor<64xf32>) -> tensor<64xf32> {
  ^bb0(%x: tensor<64xf32>):
    %e = graphopt.neg %x : tensor<64xf32>
    graphopt.yield %e : tensor<64xf32>
  }
  %nb = graphopt.kernel(%b) : (tensor<64xf32>) -> tensor<64xf32> {
  ^bb0(%x: tensor<64xf32>):
    %e = graphopt.exp %x : tensor<64xf32>
    graphopt.yield %e : tensor<64xf32>
  }
  %nc = graphopt.kernel(%c) : (tensor<4x4xf32>) -> tensor<4x4xf32> {
  ^bb0(%x: tensor<4x4xf32>):
    %t = graphopt.permute %x [1, 0] : tensor<4x4xf32> to tensor<4x4xf32>
    %e = graphopt.exp %t : tensor<4x4xf32>
    graphopt.yield %e : tensor<4x4xf32>
  }
  %0 = graphopt.extern "aten::copy_.default"(%a, %na) {args = "[]"} : (tensor<64xf32>, tensor<64xf32>) -> tensor<64xf32>
  %1 = graphopt.extern "aten::copy_.default"(%b, %nb) {args = "[]"} : (tensor<64xf32>, tensor<64xf32>) -> tensor<64xf32>
  %nd = graphopt.kernel(%d) : (tensor<4x16xf32>) -> tensor<4x16xf32> {
  ^bb0(%x: tensor<4x16xf32>):
    %w = graphopt.broadcast %x : tensor<4x16xf32> to tensor<2x4x16xf32>
    %s = graphopt.reduce_sum %w [0] : tensor<2x4x16xf32> to tensor<4x16xf32>
    graphopt.yield %s : tensor<4x16xf32>
  }
  %2 = graphopt.extern "aten::copy_.default"(%c, %nc) {args = "[]"} : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %3 = graphopt.extern "aten::copy_.default"(%d, %nd) {args = "[]"} : (tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  return %later, %nb : tensor<64xf32>, tensor<64xf32>
}
