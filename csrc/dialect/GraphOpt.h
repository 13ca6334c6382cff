//===- GraphOpt.h - the graphopt dialect ----------------------------------===//
#ifndef GRAPHOPT_DIALECT_GRAPHOPT_H
#define GRAPHOPT_DIALECT_GRAPHOPT_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/Support/JSON.h"

#include <optional>
#include <string>

namespace graphopt::OpTrait {
/// Ops computed one output element at a time (after broadcasting).
template <typename ConcreteType>
class Elementwise
    : public mlir::OpTrait::TraitBase<ConcreteType, Elementwise> {};
} // namespace graphopt::OpTrait

#include "csrc/dialect/GraphOptDialect.h.inc"

#define GET_OP_CLASSES
#include "csrc/dialect/GraphOptOps.h.inc"

namespace graphopt {

/// The static shape of a ranked tensor value.
inline llvm::ArrayRef<int64_t> shapeOf(mlir::Value v) {
  return llvm::cast<mlir::RankedTensorType>(v.getType()).getShape();
}

/// A ranked tensor type of `t`'s element type and `shape`.
inline mlir::RankedTensorType withShape(mlir::Type t, llvm::ArrayRef<int64_t> shape) {
  return mlir::RankedTensorType::get(
      shape, llvm::cast<mlir::RankedTensorType>(t).getElementType());
}

/// Whether function `func`'s kernels run on CUDA (its kKernelsAttr, which the
/// importer sets; functions without it run their kernels on the CPU).
bool kernelsRunOnCuda(mlir::Operation *func);

/// True for ops with the Elementwise trait.
inline bool isElementwise(mlir::Operation *op) {
  return op->hasTrait<OpTrait::Elementwise>();
}

/// Ops whose result is a view of their input's storage: reshape, permute,
/// broadcast and slice. Outside kernels the runtime makes torch views of them.
bool isView(mlir::Operation *op);

/// A view a kernel computes as index math (permute, broadcast, slice): its
/// result is strided, where a reshape of a contiguous tensor is contiguous.
bool isIndexView(mlir::Operation *op);

/// The numpy broadcast of two shapes, or failure if they are incompatible.
mlir::FailureOr<llvm::SmallVector<int64_t>>
broadcastShapes(llvm::ArrayRef<int64_t> a, llvm::ArrayRef<int64_t> b);

/// The element count of a static shape, or nullopt if a dim is dynamic or
/// the count overflows int64 (hostile IR must not reach signed overflow).
std::optional<int64_t> checkedNumElements(llvm::ArrayRef<int64_t> shape);

/// The byte size of a static tensor of int/float elements, or nullopt when
/// dynamic, of another element type, or overflowing.
std::optional<int64_t> checkedByteSize(mlir::Type type);

/// A keepdim reduction of exactly the innermost dim of an input shaped
/// `domain`: a per-row value (softmax, layer norm) that graphopt-fuse puts
/// into pointwise kernels and the emitters compute before each row's loop.
bool isRowReduction(mlir::Operation *op, llvm::ArrayRef<int64_t> domain);

/// A reduction whose result has the iteration shape `domain`, from a larger
/// input: the reduction of a reduction kernel, which graphopt-fuse gives a
/// pointwise epilogue and the emitters compute per output element.
bool isDomainReduction(mlir::Operation *op, llvm::ArrayRef<int64_t> domain);

/// `shape` is the row shape of `domain`: the same rank, the innermost dim 1
/// where the domain's is larger (per-row values: a LayerNorm's mean).
bool isRowShape(llvm::ArrayRef<int64_t> shape, llvm::ArrayRef<int64_t> domain);

/// `shape` is a column shape of `domain`: [1, ..., 1, n], n the domain's
/// innermost size > 1, rank at most the domain's (per-column values: a
/// per-channel parameter of an NHWC tensor).
bool isColumnShape(llvm::ArrayRef<int64_t> shape, llvm::ArrayRef<int64_t> domain);

/// The positional arguments of an extern's call ({"args": [...], "kwargs":
/// {}}), or nothing when the payload has keyword arguments or does not parse.
std::optional<llvm::json::Array> externPositionalArgs(ExternOp op);

/// Whether a call argument is the extern's tensor operand `index` ({"t": i}).
bool isTensorRef(const llvm::json::Value &arg, int64_t index);

/// The iteration shape of a kernel body: the shape of the output that all
/// others equal or are the row shape of (the first output's if none is).
llvm::SmallVector<int64_t> kernelDomain(mlir::Block &body);

/// On a kernel, set by graphopt-plan-memory: per output, the index of the
/// input whose buffer it overwrites (in place), or -1.
constexpr llvm::StringLiteral kInPlaceAttr = "graphopt.in_place";

/// On an extern, set by the importer when the ATen schema's results carry
/// no alias annotation: they are new tensors, never views of the operands.
constexpr llvm::StringLiteral kFreshResultsAttr = "graphopt.fresh_results";

/// On a function: where its kernels run ("cpp", "cuda"), when the caller
/// knows (the importer sets it).
constexpr llvm::StringLiteral kKernelsAttr = "graphopt.kernels";

/// True if a kernel body holds only elementwise ops and constants: every
/// value of the iteration shape is read at exactly the index being written
/// (no permute or reduction reads another element).
bool isPointwiseBody(mlir::Block &body);

/// The exponent of a float graphopt.pow whose exponent is a splat constant
/// (through broadcasts), when it is one that torch computes with multiplies,
/// sqrt or a reciprocal instead of pow: 1, 2, 3, 0.5, -0.5, -1, -2.
std::optional<double> specialPowExponent(mlir::Operation *pow);

/// The C name of kernel `index` of function `function`: what the emitters
/// define, the launch plan calls and the cost model reports.
std::string kernelSymbol(llvm::StringRef function, unsigned index);

/// A type as MLIR prints it ("f32", "bf16", "i1", ...): the dtype name the
/// runtime maps to torch and the cost model looks peaks up by.
std::string dtypeName(mlir::Type type);

/// True if `from` broadcasts numpy-style to `to`.
bool broadcastsTo(llvm::ArrayRef<int64_t> from, llvm::ArrayRef<int64_t> to);

} // namespace graphopt

#endif // GRAPHOPT_DIALECT_GRAPHOPT_H
