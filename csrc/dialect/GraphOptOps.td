//===- GraphOptOps.td - the graphopt dialect ------------------------------===//
//
// Ops over ranked tensors, one per concept an ATen training graph needs after
// core-ATen decomposition. Elementwise binary ops broadcast numpy-style (the
// verifier checks it); `graphopt.kernel` holds one fusion group; everything
// graphopt cannot lower is a `graphopt.extern` that torch runs.
//
//===----------------------------------------------------------------------===//

#ifndef GRAPHOPT_OPS_TD
#define GRAPHOPT_OPS_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/BuiltinAttributes.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"

def GraphOpt_Dialect : Dialect {
  let name = "graphopt";
  let cppNamespace = "::graphopt";
  let summary = "Tensor-level ops of PyTorch training graphs, and fusion groups";
  let description = [{
    The graphopt dialect is what an FX graph from AOTAutograd is imported into.
    Values are ranked tensors with static shapes; ops have value semantics.
    After `graphopt-fuse`, fused computation lives in `graphopt.kernel` regions
    that the emitters turn into C++ or CUDA functions.
  }];
}

// Marks ops computed one output element at a time from their operands'
// elements (after broadcasting): these are the ops fusion may group.
def GraphOpt_Elementwise : NativeOpTrait<"Elementwise"> {
  let cppNamespace = "::graphopt::OpTrait";
}

class GraphOpt_Op<string mnemonic, list<Trait> traits = []>
    : Op<GraphOpt_Dialect, mnemonic, traits>;

def GraphOpt_FloatTensor : RankedTensorOf<[AnyFloat]>;
def GraphOpt_BoolTensor : RankedTensorOf<[I1]>;

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

class GraphOpt_UnaryOp<string mnemonic, Type operandType, string desc>
    : GraphOpt_Op<mnemonic, [Pure, SameOperandsAndResultType,
                             GraphOpt_Elementwise]> {
  let summary = desc;
  let arguments = (ins operandType:$input);
  let results = (outs operandType:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
}

def GraphOpt_NegOp : GraphOpt_UnaryOp<"neg", AnyRankedTensor, "-x">;
def GraphOpt_AbsOp : GraphOpt_UnaryOp<"abs", AnyRankedTensor, "|x|">;
def GraphOpt_ReluOp : GraphOpt_UnaryOp<"relu", AnyRankedTensor,
    "max(x, 0), NaN propagating">;
def GraphOpt_ExpOp : GraphOpt_UnaryOp<"exp", GraphOpt_FloatTensor, "e^x">;
def GraphOpt_LogOp : GraphOpt_UnaryOp<"log", GraphOpt_FloatTensor, "ln x">;
def GraphOpt_TanhOp : GraphOpt_UnaryOp<"tanh", GraphOpt_FloatTensor, "tanh x">;
def GraphOpt_ErfOp : GraphOpt_UnaryOp<"erf", GraphOpt_FloatTensor,
    "the Gauss error function">;
def GraphOpt_SqrtOp : GraphOpt_UnaryOp<"sqrt", GraphOpt_FloatTensor, "sqrt x">;
def GraphOpt_RsqrtOp : GraphOpt_UnaryOp<"rsqrt", GraphOpt_FloatTensor,
    "1 / sqrt x">;
def GraphOpt_SigmoidOp : GraphOpt_UnaryOp<"sigmoid", GraphOpt_FloatTensor,
    "1 / (1 + e^-x)">;

class GraphOpt_BinaryOp<string mnemonic, string desc>
    : GraphOpt_Op<mnemonic, [Pure, GraphOpt_Elementwise]> {
  let summary = desc;
  let description = [{
    Operands broadcast numpy-style to the result shape and share the result's
    element type (the importer inserts casts for type promotion).
  }];
  let arguments = (ins AnyRankedTensor:$lhs, AnyRankedTensor:$rhs);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat =
      "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def GraphOpt_AddOp : GraphOpt_BinaryOp<"add", "lhs + rhs">;
def GraphOpt_SubOp : GraphOpt_BinaryOp<"sub", "lhs - rhs">;
def GraphOpt_MulOp : GraphOpt_BinaryOp<"mul", "lhs * rhs">;
def GraphOpt_DivOp : GraphOpt_BinaryOp<"div", "lhs / rhs (true division)">;
def GraphOpt_PowOp : GraphOpt_BinaryOp<"pow", "lhs ^ rhs">;
def GraphOpt_MaxOp : GraphOpt_BinaryOp<"max", "maximum, NaN propagating">;
def GraphOpt_MinOp : GraphOpt_BinaryOp<"min", "minimum, NaN propagating">;

def GraphOpt_CmpOp : GraphOpt_Op<"cmp", [Pure, GraphOpt_Elementwise]> {
  let summary = "elementwise comparison producing i1";
  let description = [{
    `predicate` is one of eq, ne, lt, le, gt, ge. Operands share an element
    type and broadcast to the result shape.

    ```mlir
    %m = graphopt.cmp "lt", %a, %b : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xi1>
    ```
  }];
  let arguments = (ins StrAttr:$predicate, AnyRankedTensor:$lhs,
                       AnyRankedTensor:$rhs);
  let results = (outs GraphOpt_BoolTensor:$result);
  let assemblyFormat = "$predicate `,` $lhs `,` $rhs attr-dict `:` "
                       "functional-type(operands, results)";
  let hasVerifier = 1;
}

def GraphOpt_WhereOp : GraphOpt_Op<"where", [Pure, GraphOpt_Elementwise]> {
  let summary = "select: cond ? lhs : rhs, with broadcasting";
  let arguments = (ins GraphOpt_BoolTensor:$cond, AnyRankedTensor:$lhs,
                       AnyRankedTensor:$rhs);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$cond `,` $lhs `,` $rhs attr-dict `:` "
                       "functional-type(operands, results)";
  let hasVerifier = 1;
}

def GraphOpt_CastOp : GraphOpt_Op<"cast", [Pure, GraphOpt_Elementwise]> {
  let summary = "element type conversion (a copy when the types are equal)";
  let arguments = (ins AnyRankedTensor:$input);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `to` type($result)";
  let hasVerifier = 1;
}

def GraphOpt_BroadcastOp : GraphOpt_Op<"broadcast", [Pure, GraphOpt_Elementwise]> {
  let summary = "numpy-style broadcast (aten.expand) to the result shape";
  let arguments = (ins AnyRankedTensor:$input);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `to` type($result)";
  let hasVerifier = 1;
}

def GraphOpt_PermuteOp : GraphOpt_Op<"permute", [Pure]> {
  let summary = "dimension permutation: result dim i is input dim perm[i]";
  let arguments = (ins AnyRankedTensor:$input,
                       DenseI64ArrayAttr:$permutation);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat =
      "$input $permutation attr-dict `:` type($input) `to` type($result)";
  let hasVerifier = 1;
}

def GraphOpt_ReshapeOp : GraphOpt_Op<"reshape", [Pure]> {
  let summary = "row-major reshape to a shape with the same element count";
  let arguments = (ins AnyRankedTensor:$input);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `to` type($result)";
  let hasVerifier = 1;
  let hasCanonicalizer = 1;
}

def GraphOpt_SliceOp : GraphOpt_Op<"slice", [Pure]> {
  let summary = "a box of the input: result[i] = input[i + offsets] (aten.slice, split)";
  let description = [{
    The result's shape is the box's size; `offsets` holds one start per dim.
    A view: outside kernels the runtime narrows the input tensor, inside a
    kernel it is index math, so a kernel reads the part of a larger buffer
    it needs (the q, k and v thirds of a fused projection) without a copy.
  }];
  let arguments = (ins AnyRankedTensor:$input, DenseI64ArrayAttr:$offsets);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat =
      "$input $offsets attr-dict `:` type($input) `to` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

def GraphOpt_ConstantOp : GraphOpt_Op<"constant", [Pure,
    AllTypesMatch<["value", "result"]>]> {
  let summary = "a tensor constant (usually a splat scalar)";
  let arguments = (ins ElementsAttr:$value);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$value attr-dict";
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

class GraphOpt_ReduceOp<string mnemonic, string desc>
    : GraphOpt_Op<mnemonic, [Pure]> {
  let summary = desc;
  let description = [{
    Reduces `dims` (sorted, unique, in range). With `keepdim` the reduced
    dims stay as size 1, otherwise they are dropped.
  }];
  let arguments = (ins AnyRankedTensor:$input, DenseI64ArrayAttr:$dims,
                       UnitAttr:$keepdim);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input $dims (`keepdim` $keepdim^)? attr-dict `:` "
                       "type($input) `to` type($result)";
  let hasVerifier = 1;
}

def GraphOpt_ReduceSumOp : GraphOpt_ReduceOp<"reduce_sum", "sum over dims">;
def GraphOpt_ReduceMaxOp : GraphOpt_ReduceOp<"reduce_max",
    "maximum over dims, NaN propagating">;

//===----------------------------------------------------------------------===//
// Contractions
//===----------------------------------------------------------------------===//

def GraphOpt_MatmulOp : GraphOpt_Op<"matmul", [Pure]> {
  let summary = "[M,K] x [K,N] -> [M,N]";
  let arguments = (ins AnyRankedTensor:$lhs, AnyRankedTensor:$rhs);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat =
      "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def GraphOpt_BatchMatmulOp : GraphOpt_Op<"bmm", [Pure]> {
  let summary = "[B,M,K] x [B,K,N] -> [B,M,N]";
  let arguments = (ins AnyRankedTensor:$lhs, AnyRankedTensor:$rhs);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat =
      "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def GraphOpt_AddmmOp : GraphOpt_Op<"addmm", [Pure]> {
  let summary = "beta * bias + alpha * ([M,K] x [K,N]), bias broadcast to [M,N]";
  let arguments = (ins AnyRankedTensor:$bias, AnyRankedTensor:$lhs,
                       AnyRankedTensor:$rhs,
                       DefaultValuedAttr<F64Attr, "1.0">:$beta,
                       DefaultValuedAttr<F64Attr, "1.0">:$alpha);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$bias `,` $lhs `,` $rhs attr-dict `:` "
                       "functional-type(operands, results)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Escape hatch and fusion groups
//===----------------------------------------------------------------------===//

def GraphOpt_ExternOp : GraphOpt_Op<"extern"> {
  let summary = "an ATen op run by torch";
  let description = [{
    `callee` names the ATen overload (`aten::native_dropout`); `args` is the
    call's argument list as JSON, where `{"t": i}` stands for tensor operand i.
    The op is not Pure: externs may mutate inputs or draw random numbers, so
    no pass moves, merges or deletes them.

    ```mlir
    %r:2 = graphopt.extern "aten::native_dropout"(%x) {args = "[{\"t\": 0}, 0.1, true]"}
        : (tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xi1>)
    ```
  }];
  let arguments = (ins StrAttr:$callee, Variadic<AnyType>:$inputs,
                       StrAttr:$args);
  let results = (outs Variadic<AnyType>:$results);
  let assemblyFormat = "$callee `(` $inputs `)` attr-dict `:` "
                       "functional-type($inputs, $results)";
  let hasVerifier = 1;
}

def GraphOpt_KernelOp : GraphOpt_Op<"kernel", [IsolatedFromAbove,
    SingleBlock]> {
  let summary = "a fusion group: one emitted kernel";
  let description = [{
    The region computes the kernel's results from its block arguments (one per
    input) with elementwise, broadcast, permute and constant ops, optionally
    ending in one reduction. Emitters print one function per kernel from it.

    ```mlir
    %k = graphopt.kernel (%a, %b) : (tensor<64xf32>, tensor<64xf32>) -> tensor<64xf32> {
    ^bb0(%x: tensor<64xf32>, %y: tensor<64xf32>):
      %0 = graphopt.add %x, %y : (tensor<64xf32>, tensor<64xf32>) -> tensor<64xf32>
      %1 = graphopt.exp %0 : tensor<64xf32>
      graphopt.yield %1 : tensor<64xf32>
    }
    ```
  }];
  let arguments = (ins Variadic<AnyRankedTensor>:$inputs);
  let results = (outs Variadic<AnyRankedTensor>:$results);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "`(` $inputs `)` attr-dict `:` "
                       "functional-type($inputs, $results) $body";
  let hasVerifier = 1;
}

def GraphOpt_YieldOp : GraphOpt_Op<"yield", [Pure, Terminator, ReturnLike,
    HasParent<"KernelOp">]> {
  let summary = "the values a kernel returns";
  let arguments = (ins Variadic<AnyRankedTensor>:$values);
  let assemblyFormat = "attr-dict ($values^ `:` type($values))?";
}

#endif // GRAPHOPT_OPS_TD
