// RUN: graphopt-opt %s -split-input-file -verify-diagnostics

// Binary operands must broadcast.
func.func @bad_broadcast(%a: tensor<4x8xf32>, %b: tensor<3xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{operand shapes do not broadcast: [4, 8] vs [3]}}
  %0 = graphopt.add %a, %b : (tensor<4x8xf32>, tensor<3xf32>) -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

// The result must be the broadcast shape, not something bigger.
func.func @bad_result_shape(%a: tensor<4x8xf32>, %b: tensor<8xf32>) -> tensor<2x4x8xf32> {
  // expected-error @+1 {{result shape [2, 4, 8] is not the broadcast of the operands [4, 8]}}
  %0 = graphopt.mul %a, %b : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<2x4x8xf32>
  return %0 : tensor<2x4x8xf32>
}

// -----

// Element types must agree: type promotion is explicit.
func.func @mixed_dtypes(%a: tensor<4xf32>, %b: tensor<4xi64>) -> tensor<4xf32> {
  // expected-error @+1 {{operand #1 has element type 'i64' but the result has 'f32'}}
  %0 = graphopt.add %a, %b : (tensor<4xf32>, tensor<4xi64>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// Transcendental ops take floats only.
func.func @exp_of_int(%a: tensor<4xi64>) -> tensor<4xi64> {
  // expected-error @+1 {{must be ranked tensor of floating-point values}}
  %0 = graphopt.exp %a : tensor<4xi64>
  return %0 : tensor<4xi64>
}

// -----

func.func @bad_predicate(%a: tensor<4xf32>) -> tensor<4xi1> {
  // expected-error @+1 {{unknown predicate 'less'}}
  %0 = graphopt.cmp "less", %a, %a : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xi1>
  return %0 : tensor<4xi1>
}

// -----

func.func @bad_matmul(%a: tensor<4x8xf32>, %b: tensor<7x16xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{contraction dims differ: [4, 8] x [7, 16]}}
  %0 = graphopt.matmul %a, %b : (tensor<4x8xf32>, tensor<7x16xf32>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

func.func @bad_bmm_rank(%a: tensor<4x8xf32>, %b: tensor<8x16xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{expects rank-3 operands}}
  %0 = graphopt.bmm %a, %b : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

func.func @bad_permutation(%a: tensor<4x8xf32>) -> tensor<8x4xf32> {
  // expected-error @+1 {{is not a permutation: [1, 1]}}
  %0 = graphopt.permute %a [1, 1] : tensor<4x8xf32> to tensor<8x4xf32>
  return %0 : tensor<8x4xf32>
}

// -----

func.func @permute_wrong_shape(%a: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{result dim 0 has size 4 but input dim 1 has size 8}}
  %0 = graphopt.permute %a [1, 0] : tensor<4x8xf32> to tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @reshape_count(%a: tensor<4x8xf32>) -> tensor<5x8xf32> {
  // expected-error @+1 {{changes the element count: [4, 8] (32) to [5, 8] (40)}}
  %0 = graphopt.reshape %a : tensor<4x8xf32> to tensor<5x8xf32>
  return %0 : tensor<5x8xf32>
}

// -----

func.func @broadcast_shrinks(%a: tensor<4x8xf32>) -> tensor<8xf32> {
  // expected-error @+1 {{cannot broadcast [4, 8] to [8]}}
  %0 = graphopt.broadcast %a : tensor<4x8xf32> to tensor<8xf32>
  return %0 : tensor<8xf32>
}

// -----

func.func @reduce_bad_dims(%a: tensor<4x8xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{dims [2] must be sorted, unique and within rank 2}}
  %0 = graphopt.reduce_sum %a [2] : tensor<4x8xf32> to tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @reduce_bad_result(%a: tensor<4x8xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{result shape [4] should be [4, 1]}}
  %0 = graphopt.reduce_sum %a [1] keepdim : tensor<4x8xf32> to tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @extern_without_callee(%a: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{needs a callee}}
  %0 = graphopt.extern ""(%a) {args = "[]"} : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @kernel_yield_types(%a: tensor<4xf32>) -> tensor<8xf32> {
  %0 = graphopt.kernel (%a) : (tensor<4xf32>) -> tensor<8xf32> {
  ^bb0(%x: tensor<4xf32>):
    // expected-error @+1 {{yields types that differ}}
    graphopt.yield %x : tensor<4xf32>
  }
  return %0 : tensor<8xf32>
}

// -----

func.func @kernel_arg_types(%a: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{block argument #0 has type 'tensor<4xi64>' but input #0 has type 'tensor<4xf32>'}}
  %0 = graphopt.kernel (%a) : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%x: tensor<4xi64>):
    %c = graphopt.cast %x : tensor<4xi64> to tensor<4xf32>
    graphopt.yield %c : tensor<4xf32>
  }
  return %0 : tensor<4xf32>
}

// -----

func.func @matmul_in_kernel(%a: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %0 = graphopt.kernel (%a) : (tensor<4x4xf32>) -> tensor<4x4xf32> {
  ^bb0(%x: tensor<4x4xf32>):
    // expected-error @+1 {{cannot appear inside a graphopt.kernel}}
    %m = graphopt.matmul %x, %x : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
    graphopt.yield %m : tensor<4x4xf32>
  }
  return %0 : tensor<4x4xf32>
}

// -----

func.func @kernel_uses_outside_value(%a: tensor<4xf32>) -> tensor<4xf32> {
  // expected-note @+1 {{required by region isolation constraints}}
  %0 = graphopt.kernel () : () -> tensor<4xf32> {
    // expected-error @+1 {{using value defined outside the region}}
    %e = graphopt.exp %a : tensor<4xf32>
    graphopt.yield %e : tensor<4xf32>
  }
  return %0 : tensor<4xf32>
}

// -----

// A slice's box must lie inside the input.
func.func @slice_outside(%a: tensor<4x8xf32>) -> tensor<4x4xf32> {
  // expected-error @+1 {{dim 1: [6, 6 + 4) is outside [0, 8)}}
  %0 = graphopt.slice %a [0, 6] : tensor<4x8xf32> to tensor<4x4xf32>
  return %0 : tensor<4x4xf32>
}

// -----

// One offset per dim, and the rank is kept.
func.func @slice_rank(%a: tensor<4x8xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{2 offsets for a tensor of rank 2 sliced to rank 1}}
  %0 = graphopt.slice %a [0, 2] : tensor<4x8xf32> to tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @slice_negative(%a: tensor<4x8xf32>) -> tensor<4x4xf32> {
  // expected-error @+1 {{dim 1: [-1, -1 + 4) is outside [0, 8)}}
  %0 = graphopt.slice %a [0, -1] : tensor<4x8xf32> to tensor<4x4xf32>
  return %0 : tensor<4x4xf32>
}
