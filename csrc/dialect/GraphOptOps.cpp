//===- GraphOptOps.cpp - verifiers of the graphopt ops --------------------===//
//
// Every verifier rejects what an emitter could not compute correctly, with a
// diagnostic located at the op. Dynamic dimensions are accepted wherever the
// static ones could match.
//
//===----------------------------------------------------------------------===//
#include "csrc/dialect/GraphOpt.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/TypeUtilities.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace graphopt;

#define GET_OP_CLASSES
#include "csrc/dialect/GraphOptOps.cpp.inc"

namespace {
bool dimsMatch(int64_t a, int64_t b) {
  return a == b || ShapedType::isDynamic(a) || ShapedType::isDynamic(b);
}

std::string shapeStr(ArrayRef<int64_t> shape) {
  std::string s = "[";
  for (auto [i, d] : llvm::enumerate(shape)) {
    if (i)
      s += ", ";
    s += ShapedType::isDynamic(d) ? std::string("?") : std::to_string(d);
  }
  return s + "]";
}

RankedTensorType tensorType(Value v) {
  return cast<RankedTensorType>(v.getType());
}

/// Operands share the result's element type (when `sameElement`) and
/// broadcast to exactly the result shape.
LogicalResult verifyBroadcastingOp(Operation *op, ValueRange operands,
                                   bool sameElement) {
  auto resultTy = cast<RankedTensorType>(op->getResult(0).getType());
  SmallVector<int64_t> shape;
  for (auto [i, v] : llvm::enumerate(operands)) {
    auto ty = tensorType(v);
    if (sameElement && ty.getElementType() != resultTy.getElementType())
      return op->emitOpError() << "operand #" << i << " has element type "
                               << ty.getElementType() << " but the result has "
                               << resultTy.getElementType();
    auto merged = broadcastShapes(shape, ty.getShape());
    if (failed(merged))
      return op->emitOpError()
             << "operand shapes do not broadcast: " << shapeStr(shape)
             << " vs " << shapeStr(ty.getShape());
    shape = *merged;
  }
  if (shape.size() != resultTy.getShape().size() ||
      !llvm::all_of(llvm::zip(shape, resultTy.getShape()), [](auto p) {
        return dimsMatch(std::get<0>(p), std::get<1>(p));
      }))
    return op->emitOpError()
           << "result shape " << shapeStr(resultTy.getShape())
           << " is not the broadcast of the operands " << shapeStr(shape);
  return success();
}

LogicalResult verifySameElementType(Operation *op, ValueRange values) {
  Type elem;
  for (Value v : values) {
    Type e = tensorType(v).getElementType();
    if (elem && e != elem)
      return op->emitOpError() << "element types differ: " << elem << " vs "
                               << e;
    elem = e;
  }
  return success();
}
} // namespace

FailureOr<SmallVector<int64_t>> graphopt::broadcastShapes(ArrayRef<int64_t> a,
                                                          ArrayRef<int64_t> b) {
  size_t rank = std::max(a.size(), b.size());
  SmallVector<int64_t> out(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da == 1)
      out[i] = db;
    else if (db == 1 || dimsMatch(da, db))
      out[i] = ShapedType::isDynamic(da) ? db : da;
    else
      return failure();
  }
  return out;
}

std::optional<int64_t> graphopt::checkedNumElements(ArrayRef<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    if (ShapedType::isDynamic(d) || d < 0 || llvm::MulOverflow(n, d, n))
      return std::nullopt;
  return n;
}

std::optional<int64_t> graphopt::checkedByteSize(Type type) {
  auto t = dyn_cast<RankedTensorType>(type);
  if (!t || !t.getElementType().isIntOrFloat())
    return std::nullopt;
  std::optional<int64_t> n = checkedNumElements(t.getShape());
  int64_t bytes = (t.getElementType().getIntOrFloatBitWidth() + 7) / 8, total;
  if (!n || llvm::MulOverflow(*n, bytes, total))
    return std::nullopt;
  return total;
}

std::string graphopt::kernelSymbol(StringRef function, unsigned index) {
  return ("graphopt_" + function + "_k" + llvm::Twine(index)).str();
}

std::string graphopt::dtypeName(Type type) {
  std::string s;
  llvm::raw_string_ostream os(s);
  type.print(os);
  return s;
}

bool graphopt::isRowShape(ArrayRef<int64_t> shape, ArrayRef<int64_t> domain) {
  return !domain.empty() && domain.back() != 1 &&
         shape.size() == domain.size() && shape.back() == 1 &&
         shape.drop_back() == domain.drop_back();
}

bool graphopt::isColumnShape(ArrayRef<int64_t> shape, ArrayRef<int64_t> domain) {
  return !shape.empty() && shape.size() <= domain.size() &&
         shape.back() == domain.back() && shape.back() > 1 &&
         llvm::all_of(shape.drop_back(), [](int64_t d) { return d == 1; });
}

bool graphopt::kernelsRunOnCuda(Operation *func) {
  auto kernels = func->getAttrOfType<StringAttr>(kKernelsAttr);
  return kernels && kernels.getValue() == "cuda";
}

std::optional<llvm::json::Array> graphopt::externPositionalArgs(ExternOp op) {
  llvm::Expected<llvm::json::Value> payload = llvm::json::parse(op.getArgs());
  if (!payload) {
    llvm::consumeError(payload.takeError());
    return std::nullopt;
  }
  const llvm::json::Object *obj = payload->getAsObject();
  const llvm::json::Array *args = obj ? obj->getArray("args") : nullptr;
  const llvm::json::Object *kwargs = obj ? obj->getObject("kwargs") : nullptr;
  if (!args || (kwargs && !kwargs->empty()))
    return std::nullopt;
  return *args;
}

bool graphopt::isTensorRef(const llvm::json::Value &arg, int64_t index) {
  const llvm::json::Object *ref = arg.getAsObject();
  return ref && ref->getInteger("t") == index;
}

std::optional<double> graphopt::specialPowExponent(Operation *pow) {
  auto op = dyn_cast<PowOp>(pow);
  if (!op || !isa<FloatType>(getElementTypeOrSelf(op.getType())))
    return std::nullopt;
  Value rhs = op.getRhs();
  while (auto b = rhs.getDefiningOp<BroadcastOp>())
    rhs = b.getInput();
  auto c = rhs.getDefiningOp<ConstantOp>();
  auto dense = c ? dyn_cast<DenseElementsAttr>(c.getValue()) : nullptr;
  if (!dense || !dense.isSplat())
    return std::nullopt;
  Attribute v = dense.getSplatValue<Attribute>();
  double e;
  if (auto f = dyn_cast<FloatAttr>(v))
    e = f.getValueAsDouble();
  else if (auto i = dyn_cast<IntegerAttr>(v))
    e = (double)i.getInt();
  else
    return std::nullopt;
  for (double special : {1.0, 2.0, 3.0, 0.5, -0.5, -1.0, -2.0})
    if (e == special)
      return e;
  return std::nullopt;
}

bool graphopt::isView(Operation *op) {
  return isa<ReshapeOp, PermuteOp, BroadcastOp, SliceOp>(op);
}

bool graphopt::isIndexView(Operation *op) {
  return isView(op) && !isa<ReshapeOp>(op);
}

bool graphopt::isPointwiseBody(Block &body) {
  return llvm::all_of(body.without_terminator(), [](Operation &op) {
    return isElementwise(&op) || isa<ConstantOp>(op);
  });
}

SmallVector<int64_t> graphopt::kernelDomain(Block &body) {
  // The output shape every other output equals or is the row shape of
  // (shapes, not sizes, decide: empty tensors have equal sizes).
  ValueRange outputs = body.getTerminator()->getOperands();
  for (Value candidate : outputs)
    if (llvm::all_of(outputs, [&](Value v) {
          return shapeOf(v) == shapeOf(candidate) ||
                 isRowShape(shapeOf(v), shapeOf(candidate));
        }))
      return SmallVector<int64_t>(shapeOf(candidate));
  return outputs.empty() ? SmallVector<int64_t>()
                         : SmallVector<int64_t>(shapeOf(outputs.front()));
}

bool graphopt::isRowReduction(Operation *op, ArrayRef<int64_t> domain) {
  ArrayRef<int64_t> dims;
  bool keepdim;
  if (auto r = dyn_cast<ReduceSumOp>(op)) {
    dims = r.getDims();
    keepdim = r.getKeepdim();
  } else if (auto r = dyn_cast<ReduceMaxOp>(op)) {
    dims = r.getDims();
    keepdim = r.getKeepdim();
  } else {
    return false;
  }
  auto input = cast<RankedTensorType>(op->getOperand(0).getType());
  int64_t rank = input.getRank();
  return rank >= 1 && keepdim && dims.size() == 1 && dims[0] == rank - 1 &&
         input.getShape() == domain;
}

bool graphopt::isDomainReduction(Operation *op, ArrayRef<int64_t> domain) {
  return isa<ReduceSumOp, ReduceMaxOp>(op) && shapeOf(op->getResult(0)) == domain &&
         shapeOf(op->getOperand(0)) != domain;
}

bool graphopt::broadcastsTo(ArrayRef<int64_t> from, ArrayRef<int64_t> to) {
  if (from.size() > to.size())
    return false;
  size_t lead = to.size() - from.size();
  for (size_t i = 0; i < from.size(); ++i)
    if (from[i] != 1 && !dimsMatch(from[i], to[lead + i]))
      return false;
  return true;
}

#define GRAPHOPT_BINARY_VERIFIER(OP)                                           \
  LogicalResult OP::verify() {                                                 \
    return verifyBroadcastingOp(*this, getOperands(), /*sameElement=*/true);   \
  }
GRAPHOPT_BINARY_VERIFIER(AddOp)
GRAPHOPT_BINARY_VERIFIER(SubOp)
GRAPHOPT_BINARY_VERIFIER(MulOp)
GRAPHOPT_BINARY_VERIFIER(DivOp)
GRAPHOPT_BINARY_VERIFIER(PowOp)
GRAPHOPT_BINARY_VERIFIER(MaxOp)
GRAPHOPT_BINARY_VERIFIER(MinOp)
#undef GRAPHOPT_BINARY_VERIFIER

LogicalResult CmpOp::verify() {
  static const char *kPredicates[] = {"eq", "ne", "lt", "le", "gt", "ge"};
  if (!llvm::is_contained(kPredicates, getPredicate()))
    return emitOpError() << "unknown predicate '" << getPredicate()
                         << "' (expected eq, ne, lt, le, gt or ge)";
  if (failed(verifySameElementType(*this, {getLhs(), getRhs()})))
    return failure();
  return verifyBroadcastingOp(*this, getOperands(), /*sameElement=*/false);
}

LogicalResult WhereOp::verify() {
  if (failed(verifySameElementType(*this, {getLhs(), getRhs(), getResult()})))
    return failure();
  return verifyBroadcastingOp(*this, getOperands(), /*sameElement=*/false);
}

LogicalResult CastOp::verify() {
  auto in = tensorType(getInput()), out = tensorType(getResult());
  if (in.getRank() != out.getRank() ||
      !llvm::all_of(llvm::zip(in.getShape(), out.getShape()), [](auto p) {
        return dimsMatch(std::get<0>(p), std::get<1>(p));
      }))
    return emitOpError() << "changes the shape " << shapeStr(in.getShape())
                         << " to " << shapeStr(out.getShape());
  return success();
}

LogicalResult BroadcastOp::verify() {
  auto in = tensorType(getInput()), out = tensorType(getResult());
  if (in.getElementType() != out.getElementType())
    return emitOpError() << "changes the element type";
  if (!broadcastsTo(in.getShape(), out.getShape()))
    return emitOpError() << "cannot broadcast " << shapeStr(in.getShape())
                         << " to " << shapeStr(out.getShape());
  return success();
}

LogicalResult PermuteOp::verify() {
  auto in = tensorType(getInput()), out = tensorType(getResult());
  ArrayRef<int64_t> perm = getPermutation();
  if (in.getElementType() != out.getElementType())
    return emitOpError() << "changes the element type";
  if ((int64_t)perm.size() != in.getRank() || out.getRank() != in.getRank())
    return emitOpError() << "permutation of size " << perm.size()
                         << " for a tensor of rank " << in.getRank();
  SmallVector<bool> seen(perm.size(), false);
  for (auto [i, p] : llvm::enumerate(perm)) {
    if (p < 0 || p >= (int64_t)perm.size() || seen[p])
      return emitOpError() << "is not a permutation: " << shapeStr(perm);
    seen[p] = true;
    if (!dimsMatch(out.getDimSize(i), in.getDimSize(p)))
      return emitOpError() << "result dim " << i << " has size "
                           << out.getDimSize(i) << " but input dim " << p
                           << " has size " << in.getDimSize(p);
  }
  return success();
}

LogicalResult SliceOp::verify() {
  auto in = tensorType(getInput()), out = tensorType(getResult());
  ArrayRef<int64_t> offsets = getOffsets();
  if (in.getElementType() != out.getElementType())
    return emitOpError() << "changes the element type";
  if ((int64_t)offsets.size() != in.getRank() || out.getRank() != in.getRank())
    return emitOpError() << offsets.size() << " offsets for a tensor of rank "
                         << in.getRank() << " sliced to rank " << out.getRank();
  for (auto [d, off] : llvm::enumerate(offsets)) {
    int64_t size = out.getDimSize(d), whole = in.getDimSize(d);
    if (ShapedType::isDynamic(size) || ShapedType::isDynamic(whole))
      return emitOpError() << "needs static shapes";
    if (off < 0 || off > whole || size > whole - off)
      return emitOpError() << "dim " << d << ": [" << off << ", " << off
                           << " + " << size << ") is outside [0, " << whole
                           << ")";
  }
  return success();
}

OpFoldResult SliceOp::fold(FoldAdaptor) {
  // The whole input: no view needed.
  if (getInput().getType() == getType())
    return getInput();
  return {};
}

LogicalResult ReshapeOp::verify() {
  auto in = tensorType(getInput()), out = tensorType(getResult());
  if (in.getElementType() != out.getElementType())
    return emitOpError() << "changes the element type";
  std::optional<int64_t> nIn = checkedNumElements(in.getShape());
  std::optional<int64_t> nOut = checkedNumElements(out.getShape());
  if (in.hasStaticShape() && out.hasStaticShape() && nIn != nOut) {
    auto count = [](std::optional<int64_t> n) {
      return n ? std::to_string(*n) : std::string("overflows int64");
    };
    return emitOpError() << "changes the element count: "
                         << shapeStr(in.getShape()) << " (" << count(nIn)
                         << ") to " << shapeStr(out.getShape()) << " ("
                         << count(nOut) << ")";
  }
  return success();
}

namespace {
template <typename ReduceOp>
LogicalResult verifyReduce(ReduceOp op) {
  auto in = tensorType(op.getInput()), out = tensorType(op.getResult());
  if (in.getElementType() != out.getElementType())
    return op.emitOpError() << "changes the element type";
  ArrayRef<int64_t> dims = op.getDims();
  SmallVector<int64_t> expected;
  for (int64_t i = 0, prev = -1; i < (int64_t)dims.size(); ++i) {
    if (dims[i] < 0 || dims[i] >= in.getRank() || dims[i] <= prev)
      return op.emitOpError() << "dims " << shapeStr(dims)
                              << " must be sorted, unique and within rank "
                              << in.getRank();
    prev = dims[i];
  }
  for (int64_t d = 0; d < in.getRank(); ++d) {
    if (!llvm::is_contained(dims, d))
      expected.push_back(in.getDimSize(d));
    else if (op.getKeepdim())
      expected.push_back(1);
  }
  if (expected.size() != out.getShape().size() ||
      !llvm::all_of(llvm::zip(expected, out.getShape()), [](auto p) {
        return dimsMatch(std::get<0>(p), std::get<1>(p));
      }))
    return op.emitOpError() << "result shape " << shapeStr(out.getShape())
                            << " should be " << shapeStr(expected);
  return success();
}
} // namespace

LogicalResult ReduceSumOp::verify() { return verifyReduce(*this); }
LogicalResult ReduceMaxOp::verify() { return verifyReduce(*this); }

namespace {
/// lhs [..., M, K] x rhs [..., K, N] -> [..., M, N] with `batch` leading dims.
LogicalResult verifyContraction(Operation *op, Value lhs, Value rhs,
                                Value result, int64_t batch) {
  auto l = tensorType(lhs), r = tensorType(rhs), o = tensorType(result);
  int64_t rank = batch + 2;
  if (failed(verifySameElementType(op, {lhs, rhs, result})))
    return failure();
  if (l.getRank() != rank || r.getRank() != rank || o.getRank() != rank)
    return op->emitOpError() << "expects rank-" << rank << " operands, got "
                             << shapeStr(l.getShape()) << " x "
                             << shapeStr(r.getShape());
  for (int64_t b = 0; b < batch; ++b)
    if (!dimsMatch(l.getDimSize(b), r.getDimSize(b)) ||
        !dimsMatch(l.getDimSize(b), o.getDimSize(b)))
      return op->emitOpError() << "batch dims differ";
  if (!dimsMatch(l.getDimSize(batch + 1), r.getDimSize(batch)))
    return op->emitOpError()
           << "contraction dims differ: " << shapeStr(l.getShape()) << " x "
           << shapeStr(r.getShape());
  if (!dimsMatch(o.getDimSize(batch), l.getDimSize(batch)) ||
      !dimsMatch(o.getDimSize(batch + 1), r.getDimSize(batch + 1)))
    return op->emitOpError() << "result shape " << shapeStr(o.getShape())
                             << " does not match " << shapeStr(l.getShape())
                             << " x " << shapeStr(r.getShape());
  return success();
}
} // namespace

LogicalResult MatmulOp::verify() {
  return verifyContraction(*this, getLhs(), getRhs(), getResult(), 0);
}
LogicalResult BatchMatmulOp::verify() {
  return verifyContraction(*this, getLhs(), getRhs(), getResult(), 1);
}
LogicalResult AddmmOp::verify() {
  if (failed(verifyContraction(*this, getLhs(), getRhs(), getResult(), 0)))
    return failure();
  auto bias = tensorType(getBias());
  if (bias.getElementType() != tensorType(getResult()).getElementType())
    return emitOpError() << "bias element type differs from the result's";
  if (!broadcastsTo(bias.getShape(), tensorType(getResult()).getShape()))
    return emitOpError() << "bias " << shapeStr(bias.getShape())
                         << " does not broadcast to the result";
  return success();
}

LogicalResult ExternOp::verify() {
  if (getCallee().empty())
    return emitOpError() << "needs a callee (an ATen op name)";
  return success();
}

LogicalResult KernelOp::verify() {
  Block &body = getBody().front();
  if (body.getNumArguments() != getInputs().size())
    return emitOpError() << "has " << getInputs().size() << " inputs but "
                         << body.getNumArguments() << " block arguments";
  for (auto [i, pair] : llvm::enumerate(
           llvm::zip(getInputs().getTypes(), body.getArgumentTypes())))
    if (std::get<0>(pair) != std::get<1>(pair))
      return emitOpError() << "block argument #" << i << " has type "
                           << std::get<1>(pair) << " but input #" << i
                           << " has type " << std::get<0>(pair);
  auto yield = dyn_cast<YieldOp>(body.getTerminator());
  if (!yield)
    return emitOpError() << "body must end in graphopt.yield";
  if (yield.getValues().getTypes() != getResultTypes())
    return yield.emitOpError() << "yields types that differ from the kernel's "
                                  "result types";
  for (Operation &op : body.without_terminator())
    if (isa<KernelOp, ExternOp, MatmulOp, BatchMatmulOp, AddmmOp, ReshapeOp>(op))
      return op.emitOpError() << "cannot appear inside a graphopt.kernel";
  return success();
}
