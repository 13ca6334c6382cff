//===- KernelBody.cpp - scalar code of a kernel at one index --------------===//
#include "csrc/codegen/KernelBody.h"
#include "csrc/costmodel/CostModel.h"

#include "mlir/Analysis/SliceAnalysis.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>

using namespace mlir;
using namespace graphopt;

FailureOr<std::string> graphopt::cTypeOf(Type t) {
  if (t.isF32() || t.isBF16()) // bf16 values are computed in float
    return std::string("float");
  if (t.isF64())
    return std::string("double");
  if (t.isInteger(1))
    return std::string("bool");
  if (auto it = dyn_cast<IntegerType>(t)) {
    unsigned w = it.getWidth();
    if (w == 8 || w == 16 || w == 32 || w == 64)
      return std::string(it.isUnsigned() ? "uint" : "int") + std::to_string(w) +
             "_t";
  }
  return failure();
}

std::string graphopt::storageTypeOf(Type t) {
  if (t.isBF16())
    return "uint16_t";
  // torch's bools are bytes holding 0 or 1 (see loadArg for how kernels
  // read them).
  if (t.isInteger(1))
    return "uint8_t";
  return *cTypeOf(t);
}

Type graphopt::elemOf(Value v) {
  return cast<RankedTensorType>(v.getType()).getElementType();
}

static std::string literal(Type t, Attribute a) {
  std::string cty = *cTypeOf(t);
  if (auto f = dyn_cast<FloatAttr>(a)) {
    double d = f.getValueAsDouble();
    if (std::isnan(d))
      return "graphopt_math::quiet_nan<" + cty + ">()";
    if (std::isinf(d))
      return std::string(d < 0 ? "-" : "") + "graphopt_math::infinity<" +
             cty + ">()";
    return llvm::formatv("({0}){1:e16}", cty, d).str();
  }
  auto i = cast<IntegerAttr>(a);
  if (t.isInteger(1))
    return i.getValue().isZero() ? "false" : "true";
  if (cast<IntegerType>(t).isUnsigned())
    return "(" + cty + ")" + std::to_string(i.getValue().getZExtValue()) + "ULL";
  return "(" + cty + ")" + std::to_string(i.getValue().getSExtValue()) + "LL";
}

FailureOr<SmallVector<std::string>>
KernelBodyPrinter::prepare(StringRef restrictKeyword) {
  if (yield().getValues().empty())
    return kernel.emitOpError() << "has no outputs to emit";
  domain = kernelDomain(body());
  for (Value v : yield().getValues())
    if (shapeOf(v) != ArrayRef<int64_t>(domain) && !isRowValue(v))
      return kernel.emitOpError()
             << "outputs of different shapes cannot share one loop nest "
                "(only the iteration shape and its per-row shape can)";
  // Every value the loops touch needs a static shape whose byte size fits
  // int64 (indices are int64 arithmetic), and an element type we compute.
  auto supported = [](Value v) {
    auto t = dyn_cast<RankedTensorType>(v.getType());
    return t && succeeded(cTypeOf(t.getElementType())) &&
           checkedByteSize(t).has_value();
  };
  SmallVector<Value> touched(kernel.getInputs());
  body().walk([&](Operation *op) {
    for (Value r : op->getResults())
      touched.push_back(r);
  });
  for (Value v : touched)
    if (!supported(v))
      return kernel.emitOpError()
             << "kernels need static shapes of at most 2^63 bytes and "
                "f32/f64/bf16/int/bool elements, got "
             << v.getType();

  // An output written in place of an input (graphopt-plan-memory's
  // graphopt.in_place: per output, the input whose buffer it takes, or -1)
  // aliases it: neither pointer is restrict.
  SmallVector<int64_t> aliasedIn, aliasedOut;
  if (auto inPlace = kernel->getAttrOfType<DenseI64ArrayAttr>(kInPlaceAttr))
    for (auto [out, in] : llvm::enumerate(inPlace.asArrayRef()))
      if (in >= 0) {
        aliasedIn.push_back(in);
        aliasedOut.push_back(out);
      }
  auto qualifier = [&](bool aliased) {
    return aliased ? std::string() : restrictKeyword.str() + " ";
  };
  SmallVector<std::string> params;
  for (auto [i, arg] : llvm::enumerate(body().getArguments())) {
    argName[arg] = "in" + std::to_string(i);
    params.push_back("const " + storageTypeOf(elemOf(arg)) + " *" +
                     qualifier(llvm::is_contained(aliasedIn, (int64_t)i)) + "in" +
                     std::to_string(i));
  }
  for (auto [i, v] : llvm::enumerate(yield().getValues()))
    params.push_back(storageTypeOf(elemOf(v)) + " *" +
                     qualifier(llvm::is_contained(aliasedOut, (int64_t)i)) + "out" +
                     std::to_string(i));
  return params;
}

LogicalResult KernelBodyPrinter::emitRowValues(const Index &rowIdx,
                                               const std::string &row,
                                               const std::string &guard) {
  for (Operation &op : body().without_terminator())
    if (op.getNumResults() == 1 && isRowValue(op.getResult(0)))
      if (failed(eval(op.getResult(0), rowIdx)))
        return failure();
  bool opened = false;
  for (auto [i, v] : llvm::enumerate(yield().getValues())) {
    if (!isRowValue(v))
      continue;
    FailureOr<std::string> val = eval(v, rowIdx);
    if (failed(val))
      return failure();
    if (!opened && !guard.empty()) {
      line("if (" + guard + ") {");
      ++depth;
      opened = true;
    }
    line(llvm::formatv("out{0}[{1}] = {2};", i, row, store(elemOf(v), *val))
             .str());
  }
  if (opened)
    closeTo(depth - 1);
  return success();
}

LogicalResult KernelBodyPrinter::storeOutputs(const Index &idx,
                                              const std::string &flat) {
  SmallVector<std::pair<size_t, std::string>> stores;
  for (auto [i, v] : llvm::enumerate(yield().getValues())) {
    if (isRowValue(v))
      continue;
    FailureOr<std::string> val = eval(v, idx);
    if (failed(val))
      return failure();
    stores.push_back({i, store(elemOf(v), *val)});
  }
  for (auto &[i, val] : stores)
    line(llvm::formatv("out{0}[{1}] = {2};", i, flat, val).str());
  return success();
}

void KernelBodyPrinter::line(const std::string &s) {
  code += std::string(2 * depth, ' ') + s + "\n";
  if (llvm::StringRef(s).starts_with("#pragma omp simd"))
    simdDepth = depth + 1; // the loop the pragma annotates comes next
}

std::string KernelBodyPrinter::fresh(Type t, const std::string &expr) {
  std::string var = "t" + std::to_string(counter++);
  line("const " + *cTypeOf(t) + " " + var + " = " + expr + ";");
  return var;
}

void KernelBodyPrinter::closeTo(int level) {
  while (depth > level) {
    --depth;
    line("}");
  }
  if (simdDepth > depth)
    simdDepth = -1;
}

std::string KernelBodyPrinter::store(Type t, const std::string &value) {
  return t.isBF16() ? "graphopt_math::f32_to_bf16(" + value + ")" : value;
}

Index KernelBodyPrinter::broadcastIndex(const Index &idx, ArrayRef<int64_t> to,
                                        ArrayRef<int64_t> from) {
  Index r;
  size_t lead = to.size() - from.size();
  for (size_t d = 0; d < from.size(); ++d)
    r.push_back(from[d] == 1 ? std::string("0") : idx[lead + d]);
  return r;
}

std::string KernelBodyPrinter::linearize(const Index &idx,
                                         ArrayRef<int64_t> shape) {
  std::string s;
  int64_t stride = 1;
  for (int64_t d = shape.size() - 1; d >= 0; --d) {
    if (shape[d] != 1 && idx[d] != "0") {
      std::string term =
          stride == 1 ? idx[d] : idx[d] + " * " + std::to_string(stride);
      s = s.empty() ? term : term + " + " + s;
    }
    stride *= shape[d];
  }
  return s.empty() ? "0" : s;
}

Index KernelBodyPrinter::delinearize(const std::string &flat,
                                     ArrayRef<int64_t> shape, size_t count,
                                     const std::string &prefix) {
  Index idx(count);
  int64_t stride = 1;
  for (size_t d = shape.size(); d-- > 0;) {
    if (d < count) {
      idx[d] = shape[d] == 1 ? "0" : prefix + std::to_string(d);
      if (shape[d] != 1)
        line(llvm::formatv("const int64_t {0}{1} = {2} / {3} % {4};", prefix, d,
                           flat, stride, shape[d])
                 .str());
    }
    stride *= shape[d];
  }
  return idx;
}

std::string KernelBodyPrinter::loadArg(BlockArgument arg, const Index &idx) {
  std::string at = "[" + linearize(idx, shapeOf(arg)) + "]";
  // Bools are bytes (storageTypeOf). Under `#pragma omp simd`, GCC blends
  // with a byte it may assume is 0 or 1 (a bool lvalue) in fewer
  // instructions than with a compare (a masked softmax: 4.0 vs 5.3 ms);
  // in loops it vectorizes on its own, a bool load next to float loads
  // stops it, and a compare does not.
  if (elemOf(arg).isInteger(1))
    return simdDepth >= 0 && depth >= simdDepth
               ? "reinterpret_cast<const bool *>(" + argName[arg] + ")" + at
               : "(" + argName[arg] + at + " != 0)";
  if (elemOf(arg).isBF16())
    return "graphopt_math::bf16_to_f32(" + argName[arg] + at + ")";
  return argName[arg] + at;
}

FailureOr<std::string> KernelBodyPrinter::eval(Value v, const Index &idx) {
  auto key = std::make_pair(v.getAsOpaquePointer(), llvm::join(idx, ","));
  for (auto &scope : llvm::reverse(scopes))
    if (auto it = scope.find(key); it != scope.end())
      return it->second;
  auto st = stash.find(v);
  bool stashed = st != stash.end() && onRow(idx);
  FailureOr<std::string> r;
  std::string slot = stashed ? st->second.array + "[" + idx.back() + "]" : "";
  if (stashed && st->second.writtenInPhase >= 0 &&
      st->second.writtenInPhase < phase) {
    r = fresh(elemOf(v), slot);
  } else {
    r = compute(v, idx);
    if (succeeded(r) && stashed) {
      line(slot + " = " + *r + ";");
      st->second.writtenInPhase = phase;
    }
  }
  if (succeeded(r))
    scopes.back()[key] = *r;
  return r;
}

bool KernelBodyPrinter::onRow(const Index &idx) const {
  return idx.size() == rowPrefix.size() + 1 &&
         std::equal(rowPrefix.begin(), rowPrefix.end(), idx.begin()) &&
         rowVars.contains(idx.back());
}

void KernelBodyPrinter::planRowStash(const Index &rowIdx) {
  rowPrefix.assign(rowIdx.begin(), rowIdx.end() - 1);
  llvm::DenseSet<Value> chosen = rowStash(body(), domain);
  for (Operation &op : body().without_terminator()) {
    if (op.getNumResults() != 1 || !chosen.contains(op.getResult(0)))
      continue;
    Value v = op.getResult(0);
    std::string array = "s" + std::to_string(counter++);
    line(llvm::formatv("alignas(64) {0} {1}[{2}];", *cTypeOf(elemOf(v)), array,
                       domain.back())
             .str());
    stash[v] = Stash{array};
  }
}

FailureOr<std::string> KernelBodyPrinter::compute(Value v, const Index &idx) {
  Type t = elemOf(v);
  if (auto arg = dyn_cast<BlockArgument>(v))
    return fresh(t, loadArg(arg, idx));
  Operation *op = v.getDefiningOp();
  std::string cty = *cTypeOf(t);
  auto operand = [&](unsigned i) -> FailureOr<std::string> {
    Value in = op->getOperand(i);
    return eval(in, broadcastIndex(idx, shapeOf(v), shapeOf(in)));
  };

  if (auto c = dyn_cast<ConstantOp>(op)) {
    auto dense = dyn_cast<DenseElementsAttr>(c.getValue());
    if (!dense || !dense.isSplat())
      return op->emitOpError() << "only splat constants can be emitted";
    return literal(t, dense.getSplatValue<Attribute>());
  }
  if (auto p = dyn_cast<PermuteOp>(op)) {
    Index in(idx.size());
    for (auto [i, src] : llvm::enumerate(p.getPermutation()))
      in[src] = idx[i];
    return eval(p.getInput(), in);
  }
  if (auto sl = dyn_cast<SliceOp>(op)) {
    Index in(idx);
    for (auto [d, off] : llvm::enumerate(sl.getOffsets()))
      if (off != 0)
        in[d] = idx[d] == "0" ? std::to_string(off)
                              : "(" + idx[d] + " + " + std::to_string(off) + ")";
    return eval(sl.getInput(), in);
  }
  if (isa<ReduceSumOp, ReduceMaxOp>(op)) {
    FailureOr<std::string> r = reduce(op, idx);
    ++phase; // the reduction's loop is complete
    return r;
  }
  if (isa<BroadcastOp>(op))
    return operand(0);

  SmallVector<std::string> a;
  for (unsigned i = 0; i < op->getNumOperands(); ++i) {
    FailureOr<std::string> s = operand(i);
    if (failed(s))
      return failure();
    a.push_back(*s);
  }
  std::string one = "(" + cty + ")1";
  std::string expr =
      llvm::TypeSwitch<Operation *, std::string>(op)
          .Case([&](NegOp) { return "-" + a[0]; })
          .Case([&](AbsOp) { return "graphopt_math::abs(" + a[0] + ")"; })
          .Case([&](ReluOp) {
            return a[0] + " < (" + cty + ")0 ? (" + cty + ")0 : " + a[0];
          })
          .Case([&](ExpOp) { return "graphopt_math::exp(" + a[0] + ")"; })
          .Case([&](LogOp) { return "graphopt_math::log(" + a[0] + ")"; })
          .Case([&](TanhOp) { return "graphopt_math::tanh(" + a[0] + ")"; })
          .Case([&](ErfOp) { return "graphopt_math::erf(" + a[0] + ")"; })
          .Case([&](SqrtOp) { return "graphopt_math::sqrt(" + a[0] + ")"; })
          .Case([&](RsqrtOp) { return one + " / graphopt_math::sqrt(" + a[0] + ")"; })
          .Case([&](SigmoidOp) {
            return "graphopt_math::sigmoid(" + a[0] + ")";
          })
          .Case([&](AddOp) { return a[0] + " + " + a[1]; })
          .Case([&](SubOp) { return a[0] + " - " + a[1]; })
          .Case([&](MulOp) { return a[0] + " * " + a[1]; })
          .Case([&](DivOp) { return a[0] + " / " + a[1]; })
          .Case([&](PowOp p) {
            // As torch does: multiplies, sqrt or a reciprocal for these
            // exponents (exact where pow may round differently, and they
            // vectorize where libm's pow is a scalar call).
            std::optional<double> e = specialPowExponent(p);
            const std::string &x = a[0];
            if (!e)
              return "(" + cty + ")graphopt_math::pow(" + x + ", " + a[1] + ")";
            if (*e == 1)
              return x;
            if (*e == 2)
              return x + " * " + x;
            if (*e == 3)
              return x + " * " + x + " * " + x;
            if (*e == 0.5)
              return "graphopt_math::sqrt(" + x + ")";
            if (*e == -0.5)
              return one + " / graphopt_math::sqrt(" + x + ")";
            if (*e == -1)
              return one + " / " + x;
            return one + " / (" + x + " * " + x + ")";
          })
          .Case([&](MaxOp) {
            return "(" + a[0] + " != " + a[0] + " || " + a[0] + " > " + a[1] +
                   ") ? " + a[0] + " : " + a[1];
          })
          .Case([&](MinOp) {
            return "(" + a[0] + " != " + a[0] + " || " + a[0] + " < " + a[1] +
                   ") ? " + a[0] + " : " + a[1];
          })
          .Case([&](CmpOp c) {
            static const std::map<std::string, std::string> sym = {
                {"eq", "=="}, {"ne", "!="}, {"lt", "<"},
                {"le", "<="}, {"gt", ">"},  {"ge", ">="}};
            return a[0] + " " + sym.at(c.getPredicate().str()) + " " + a[1];
          })
          .Case([&](WhereOp) { return a[0] + " ? " + a[1] + " : " + a[2]; })
          .Case([&](CastOp) {
            if (t.isInteger(1))
              return "(" + a[0] + " != 0)";
            if (t.isBF16()) // eager rounds here: so do we
              return "graphopt_math::round_bf16(static_cast<float>(" + a[0] +
                     "))";
            return "static_cast<" + cty + ">(" + a[0] + ")";
          })
          .Default([](Operation *) { return std::string(); });
  if (expr.empty())
    return op->emitOpError() << "has no kernel lowering";
  return fresh(t, expr);
}

ReduceInfo KernelBodyPrinter::reduceInfo(Operation *op) const {
  ReduceInfo r;
  r.input = op->getOperand(0);
  r.isSum = isa<ReduceSumOp>(op);
  r.dims = r.isSum ? cast<ReduceSumOp>(op).getDims()
                   : cast<ReduceMaxOp>(op).getDims();
  r.keepdim = r.isSum ? cast<ReduceSumOp>(op).getKeepdim()
                      : cast<ReduceMaxOp>(op).getKeepdim();
  Type t = elemOf(r.input);
  r.cty = *cTypeOf(t);
  r.accTy = r.isSum && t.isF32() && wideF32Sums ? "double" : r.cty;
  r.init = r.isSum ? "0"
           : isa<FloatType>(t)
               ? "-graphopt_math::infinity<" + r.cty + ">()"
               : "graphopt_math::lowest<" + r.cty + ">()";
  return r;
}

std::string KernelBodyPrinter::accumulate(const ReduceInfo &r,
                                          const std::string &acc,
                                          const std::string &x) {
  if (r.isSum)
    return acc + " += " + x + ";";
  return acc + " = (" + x + " != " + x + " || " + x + " > " + acc + ") ? " + x +
         " : " + acc + ";";
}

Index KernelBodyPrinter::openReductionLoops(const ReduceInfo &r,
                                            ArrayRef<std::string> outIdx,
                                            const std::string &innermostPragma,
                                            int &opened, int64_t leave,
                                            std::optional<std::pair<std::string, std::string>> firstRange) {
  ArrayRef<int64_t> inShape = shapeOf(r.input);
  ArrayRef<int64_t> left = ArrayRef<int64_t>(r.dims).take_back(leave);
  Index inIdx;
  int64_t outPos = 0;
  for (int64_t d = 0; d < (int64_t)inShape.size(); ++d) {
    if (!llvm::is_contained(r.dims, d)) {
      inIdx.push_back(outIdx[outPos++]);
      continue;
    }
    if (r.keepdim)
      ++outPos;
    if (llvm::is_contained(left, d)) {
      inIdx.push_back("");
      continue;
    }
    std::string v = "r" + std::to_string(counter++);
    if (d == r.dims.back() && isRowPass(r))
      rowVars.insert(v);
    if (!innermostPragma.empty() && d == r.dims.back())
      line(innermostPragma);
    bool ranged = firstRange && d == r.dims.front();
    line(llvm::formatv("for (int64_t {0} = {1}; {0} < {2}; ++{0}) {{", v,
                       ranged ? firstRange->first : "0",
                       ranged ? firstRange->second : std::to_string(inShape[d]))
             .str());
    ++depth;
    ++opened;
    inIdx.push_back(inShape[d] == 1 && !ranged ? "0" : v);
  }
  return inIdx;
}

bool KernelBodyPrinter::isRowPass(const ReduceInfo &r) const {
  return shapeOf(r.input) == ArrayRef<int64_t>(domain) && r.dims.size() == 1 &&
         r.dims[0] == (int64_t)domain.size() - 1;
}

void KernelBodyPrinter::bindInnermost(const ReduceInfo &r, Index &inIdx,
                                      const std::string &var) {
  inIdx[r.dims.back()] = shapeOf(r.input)[r.dims.back()] == 1 ? "0" : var;
  if (isRowPass(r))
    rowVars.insert(var);
}

LogicalResult KernelBodyPrinter::accumulateInput(const ReduceInfo &r,
                                                 const std::string &acc,
                                                 const Index &inIdx) {
  scopes.emplace_back();
  FailureOr<std::string> x = eval(r.input, inIdx);
  scopes.pop_back();
  if (failed(x))
    return failure();
  line(accumulate(r, acc, *x));
  return success();
}

FailureOr<std::string>
KernelBodyPrinter::sequentialReduce(Operation *op, const Index &outIdx) {
  ReduceInfo r = reduceInfo(op);
  std::string acc = "acc" + std::to_string(counter++);
  line(r.accTy + " " + acc + " = " + r.init + ";");
  int opened = 0;
  Index inIdx =
      openReductionLoops(r, outIdx, reductionLoopPragma(r, acc), opened);
  if (failed(accumulateInput(r, acc, inIdx)))
    return failure();
  closeTo(depth - opened);
  return fresh(elemOf(r.input), "(" + r.cty + ")" + acc);
}

SmallVector<Operation *> KernelBodyPrinter::jointReductions(Operation *op) {
  SmallVector<Operation *> joint{op};
  if (!isDomainReduction(op, domain))
    return joint;
  ReduceInfo r = reduceInfo(op);
  for (Operation &o : body().without_terminator()) {
    if (&o == op || !isDomainReduction(&o, domain))
      continue;
    ReduceInfo q = reduceInfo(&o);
    if (shapeOf(q.input) == shapeOf(r.input) && q.dims == r.dims &&
        q.isSum == r.isSum && q.accTy == r.accTy && q.cty == r.cty)
      joint.push_back(&o);
  }
  // None may compute from another: each one's backward slice (within the
  // kernel body) must hold none of the others.
  BackwardSliceOptions inBody;
  inBody.omitBlockArguments = true;
  for (Operation *a : joint) {
    llvm::SetVector<Operation *> slice;
    if (failed(getBackwardSlice(a, &slice, inBody)) ||
        llvm::any_of(joint, [&](Operation *b) { return slice.contains(b); }))
      return {op};
  }
  return joint;
}

LogicalResult KernelBodyPrinter::accumulateRange(ArrayRef<Operation *> joint,
                                                 const Index &outIdx,
                                                 ArrayRef<std::string> accs,
                                                 const std::string &from,
                                                 const std::string &to,
                                                 const std::string &step) {
  ReduceInfo r = reduceInfo(joint.front());
  ArrayRef<int64_t> inShape = shapeOf(r.input);
  SmallVector<int64_t> reducedShape;
  for (int64_t d : r.dims)
    reducedShape.push_back(inShape[d]);
  std::string f = "f" + std::to_string(counter++);
  line(llvm::formatv("for (int64_t {0} = {1}; {0} < {2}; {0} += {3}) {{", f,
                     from, to, step)
           .str());
  ++depth;
  Index reducedIdx = delinearize(f, reducedShape, reducedShape.size(),
                                 "r" + std::to_string(counter++) + "_");
  Index inIdx;
  int64_t outPos = 0, redPos = 0;
  for (int64_t d = 0; d < (int64_t)inShape.size(); ++d) {
    if (llvm::is_contained(r.dims, d)) {
      inIdx.push_back(reducedIdx[redPos++]);
      if (r.keepdim)
        ++outPos;
    } else {
      inIdx.push_back(outIdx[outPos++]);
    }
  }
  for (auto [op, acc] : llvm::zip(joint, accs))
    if (failed(accumulateInput(reduceInfo(op), acc, inIdx)))
      return failure();
  closeTo(depth - 1);
  return success();
}

int64_t KernelBodyPrinter::reductionWork() {
  int64_t w = 1;
  body().walk([&](Operation *op) {
    if (isa<ReduceSumOp, ReduceMaxOp>(op)) {
      int64_t in =
          cast<RankedTensorType>(op->getOperand(0).getType()).getNumElements();
      int64_t out =
          cast<RankedTensorType>(op->getResult(0).getType()).getNumElements();
      w = std::max<int64_t>(w, out ? in / out : 1);
    }
  });
  return w;
}

bool KernelBodyPrinter::useColumnOrder(Operation *op) const {
  ReduceInfo r = reduceInfo(op);
  int64_t rank = shapeOf(r.input).size();
  return rank >= 2 && !llvm::is_contained(r.dims, rank - 1) &&
         shapeOf(r.input).back() > 1;
}
