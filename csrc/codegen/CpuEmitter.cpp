//===- CpuEmitter.cpp - graphopt.kernel -> C++ ----------------------------===//
//
// A kernel's iteration space is the shape of its outputs. The emitter prints
// a loop nest over it (OpenMP over the outer dims, a unit-stride innermost
// loop the C++ compiler vectorizes) and, inside, evaluates each output at the
// loop index by walking the kernel body backwards: an elementwise op asks its
// operands at the broadcast-adjusted index, a permute at the permuted index,
// a reduction opens a loop over its reduced dims, a block argument loads
// from memory. Values asked twice at the same index are computed once.
//
//===----------------------------------------------------------------------===//
#include "csrc/codegen/Codegen.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>
#include <map>

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
  return t.isBF16() ? std::string("uint16_t") : *cTypeOf(t);
}

std::string graphopt::dtypeName(Type t) {
  std::string s;
  llvm::raw_string_ostream os(s);
  t.print(os);
  return s;
}

std::string graphopt::kernelSymbol(func::FuncOp func, unsigned index) {
  return "graphopt_" + func.getSymName().str() + "_k" + std::to_string(index);
}

namespace {

using Index = SmallVector<std::string>;

ArrayRef<int64_t> shapeOf(Value v) {
  return cast<RankedTensorType>(v.getType()).getShape();
}
Type elemOf(Value v) {
  return cast<RankedTensorType>(v.getType()).getElementType();
}

std::string literal(Type t, Attribute a) {
  std::string cty = *cTypeOf(t);
  if (auto f = dyn_cast<FloatAttr>(a)) {
    double d = f.getValueAsDouble();
    if (std::isnan(d))
      return "std::numeric_limits<" + cty + ">::quiet_NaN()";
    if (std::isinf(d))
      return std::string(d < 0 ? "-" : "") + "std::numeric_limits<" + cty +
             ">::infinity()";
    return llvm::formatv("({0}){1:e16}", cty, d).str();
  }
  auto i = cast<IntegerAttr>(a);
  if (t.isInteger(1))
    return i.getValue().isZero() ? "false" : "true";
  if (cast<IntegerType>(t).isUnsigned())
    return "(" + cty + ")" + std::to_string(i.getValue().getZExtValue()) + "ULL";
  return "(" + cty + ")" + std::to_string(i.getValue().getSExtValue()) + "LL";
}

class KernelEmitter {
public:
  KernelEmitter(KernelOp kernel, std::string name)
      : kernel(kernel), name(std::move(name)) {}

  LogicalResult emit(std::string &out) {
    Block &body = kernel.getBody().front();
    auto yield = cast<YieldOp>(body.getTerminator());
    if (yield.getValues().empty())
      return kernel.emitOpError() << "has no outputs to emit";
    SmallVector<int64_t> domain(shapeOf(yield.getValues()[0]));
    for (Value v : yield.getValues())
      if (shapeOf(v) != ArrayRef<int64_t>(domain))
        return kernel.emitOpError()
               << "outputs of different shapes cannot share one loop nest";
    // Every value the loops touch needs a static shape whose byte size fits
    // int64 (indices are int64 arithmetic), and an element type we compute.
    auto supported = [](Value v) {
      auto t = dyn_cast<RankedTensorType>(v.getType());
      return t && succeeded(cTypeOf(t.getElementType())) &&
             checkedByteSize(t).has_value();
    };
    SmallVector<Value> touched(kernel.getInputs());
    body.walk([&](Operation *op) {
      for (Value r : op->getResults())
        touched.push_back(r);
    });
    for (Value v : touched)
      if (!supported(v))
        return kernel.emitOpError()
               << "the CPU emitter needs static shapes of at most 2^63 bytes "
                  "and f32/f64/bf16/int/bool elements, got "
               << v.getType();

    // Signature.
    SmallVector<std::string> params;
    for (auto [i, arg] : llvm::enumerate(body.getArguments())) {
      argName[arg] = "in" + std::to_string(i);
      params.push_back("const " + storageTypeOf(elemOf(arg)) +
                       " *__restrict in" + std::to_string(i));
    }
    for (auto [i, v] : llvm::enumerate(yield.getValues()))
      params.push_back(storageTypeOf(elemOf(v)) + " *__restrict out" +
                       std::to_string(i));
    code += "extern \"C\" void " + name + "(" + llvm::join(params, ", ") +
            ") {\n";

    Operation *root = yield.getValues()[0].getDefiningOp();
    if (root && isa<ReduceSumOp, ReduceMaxOp>(root) && useColumnOrder(root)) {
      if (failed(emitColumnReduction(root)))
        return failure();
      code += "}\n\n";
      out += code;
      return success();
    }

    // Loop nest over the domain: OpenMP over all dims but the last.
    int64_t rank = domain.size();
    int64_t outer = 1;
    for (int64_t d = 0; d + 1 < rank; ++d)
      outer *= domain[d];
    int64_t inner = rank ? domain.back() : 1;
    double work = double(outer) * double(inner) * double(reductionWork(body));
    Index idx;
    depth = 1;
    if (rank > 0) {
      if (outer > 1 && work >= kParallelWork)
        line("#pragma omp parallel for schedule(static)");
      line(llvm::formatv("for (int64_t o = 0; o < {0}; ++o) {{", outer).str());
      ++depth;
      int64_t stride = 1;
      SmallVector<std::string> outerIdx(rank);
      for (int64_t d = rank - 2; d >= 0; --d) {
        outerIdx[d] = domain[d] == 1
                          ? "0"
                          : llvm::formatv("i{0}", d).str();
        if (domain[d] != 1)
          line(llvm::formatv("const int64_t i{0} = o / {1} % {2};", d, stride,
                             domain[d])
                   .str());
        stride *= domain[d];
      }
      // Row reductions inside a pointwise kernel (softmax, layer norm) are
      // computed once per row, before the row's loop, in block order; the
      // loop body then finds them by their index.
      scopes.emplace_back();
      outerIdx[rank - 1] = "0";
      for (Operation &op : body.without_terminator())
        if (isRowReduction(&op, domain) && op.getResult(0) != yield.getValues()[0])
          if (failed(eval(op.getResult(0), Index(outerIdx.begin(), outerIdx.end()))))
            return failure();
      line(llvm::formatv("for (int64_t i{0} = 0; i{0} < {1}; ++i{0}) {{",
                         rank - 1, inner)
               .str());
      ++depth;
      outerIdx[rank - 1] = inner == 1 ? "0" : "i" + std::to_string(rank - 1);
      idx.assign(outerIdx.begin(), outerIdx.end());
    }
    scopes.emplace_back();
    std::string flat = rank ? llvm::formatv("o * {0} + i{1}", inner, rank - 1).str()
                            : "0";
    for (auto [i, v] : llvm::enumerate(yield.getValues())) {
      FailureOr<std::string> val = eval(v, idx);
      if (failed(val))
        return failure();
      line(llvm::formatv("out{0}[{1}] = {2};", i, flat, store(elemOf(v), *val))
               .str());
    }
    scopes.pop_back();
    if (rank > 0)
      scopes.pop_back();
    while (depth > 1) {
      --depth;
      line("}");
    }
    code += "}\n\n";
    out += code;
    return success();
  }

private:
  static constexpr int64_t kParallelWork = 1 << 15;

  KernelOp kernel;
  std::string name;
  std::string code;
  int depth = 0;
  int counter = 0;
  DenseMap<Value, std::string> argName;
  // Values already computed in an enclosing loop scope, by (value, index).
  SmallVector<std::map<std::pair<void *, std::string>, std::string>> scopes;

  /// A computed value as the output buffer stores it.
  static std::string store(Type t, const std::string &value) {
    return t.isBF16() ? "graphopt_math::f32_to_bf16(" + value + ")" : value;
  }

  void line(const std::string &s) {
    code += std::string(2 * depth, ' ') + s + "\n";
  }

  static int64_t reductionWork(Block &body) {
    int64_t w = 1;
    body.walk([&](Operation *op) {
      if (isa<ReduceSumOp, ReduceMaxOp>(op)) {
        int64_t in = cast<RankedTensorType>(op->getOperand(0).getType())
                         .getNumElements();
        int64_t out = cast<RankedTensorType>(op->getResult(0).getType())
                          .getNumElements();
        w = std::max<int64_t>(w, out ? in / out : 1);
      }
    });
    return w;
  }

  std::string fresh(Type t, const std::string &expr) {
    std::string var = "t" + std::to_string(counter++);
    line("const " + *cTypeOf(t) + " " + var + " = " + expr + ";");
    return var;
  }

  /// Index into `operand` (shape `from`) when its user is evaluated at `idx`
  /// over shape `to`: numpy broadcasting, right-aligned.
  static Index broadcastIndex(const Index &idx, ArrayRef<int64_t> to,
                              ArrayRef<int64_t> from) {
    Index r;
    size_t lead = to.size() - from.size();
    for (size_t d = 0; d < from.size(); ++d)
      r.push_back(from[d] == 1 ? std::string("0") : idx[lead + d]);
    return r;
  }

  static std::string linearize(const Index &idx, ArrayRef<int64_t> shape) {
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

  FailureOr<std::string> eval(Value v, const Index &idx) {
    auto key = std::make_pair(v.getAsOpaquePointer(), llvm::join(idx, ","));
    for (auto &scope : llvm::reverse(scopes))
      if (auto it = scope.find(key); it != scope.end())
        return it->second;
    FailureOr<std::string> r = compute(v, idx);
    if (succeeded(r))
      scopes.back()[key] = *r;
    return r;
  }

  FailureOr<std::string> compute(Value v, const Index &idx) {
    Type t = elemOf(v);
    if (auto arg = dyn_cast<BlockArgument>(v)) {
      std::string load = argName[arg] + "[" + linearize(idx, shapeOf(v)) + "]";
      return fresh(t, t.isBF16() ? "graphopt_math::bf16_to_f32(" + load + ")"
                                 : load);
    }
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
    if (isa<ReduceSumOp, ReduceMaxOp>(op))
      return reduce(op, idx);
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
            .Case([&](AbsOp) { return "std::abs(" + a[0] + ")"; })
            .Case([&](ReluOp) {
              return a[0] + " < (" + cty + ")0 ? (" + cty + ")0 : " + a[0];
            })
            .Case([&](ExpOp) { return "graphopt_math::exp(" + a[0] + ")"; })
            .Case([&](LogOp) { return "std::log(" + a[0] + ")"; })
            .Case([&](TanhOp) { return "graphopt_math::tanh(" + a[0] + ")"; })
            .Case([&](ErfOp) { return "graphopt_math::erf(" + a[0] + ")"; })
            .Case([&](SqrtOp) { return "std::sqrt(" + a[0] + ")"; })
            .Case([&](RsqrtOp) { return one + " / std::sqrt(" + a[0] + ")"; })
            .Case([&](SigmoidOp) {
              return "graphopt_math::sigmoid(" + a[0] + ")";
            })
            .Case([&](AddOp) { return a[0] + " + " + a[1]; })
            .Case([&](SubOp) { return a[0] + " - " + a[1]; })
            .Case([&](MulOp) { return a[0] + " * " + a[1]; })
            .Case([&](DivOp) { return a[0] + " / " + a[1]; })
            .Case([&](PowOp) {
              return "(" + cty + ")std::pow(" + a[0] + ", " + a[1] + ")";
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
      return op->emitOpError() << "has no CPU lowering";
    return fresh(t, expr);
  }

  struct ReduceInfo {
    Value input;
    ArrayRef<int64_t> dims;
    bool keepdim, isSum;
    std::string cty, accTy, init;
  };

  static ReduceInfo reduceInfo(Operation *op) {
    ReduceInfo r;
    r.input = op->getOperand(0);
    r.isSum = isa<ReduceSumOp>(op);
    r.dims = r.isSum ? cast<ReduceSumOp>(op).getDims()
                     : cast<ReduceMaxOp>(op).getDims();
    r.keepdim = r.isSum ? cast<ReduceSumOp>(op).getKeepdim()
                        : cast<ReduceMaxOp>(op).getKeepdim();
    Type t = elemOf(r.input);
    r.cty = *cTypeOf(t);
    r.accTy = r.isSum && t.isF32() ? "double" : r.cty;
    r.init = r.isSum ? "0"
             : isa<FloatType>(t)
                 ? "-std::numeric_limits<" + r.cty + ">::infinity()"
                 : "std::numeric_limits<" + r.cty + ">::lowest()";
    return r;
  }

  std::string accumulate(const ReduceInfo &r, const std::string &acc,
                         const std::string &x) {
    if (r.isSum)
      return acc + " += " + x + ";";
    return acc + " = (" + x + " != " + x + " || " + x + " > " + acc + ") ? " +
           x + " : " + acc + ";";
  }

  /// Opens one loop per reduced dim (`innermostPragma` before the innermost)
  /// and returns the input index: loop variables for reduced dims, `outIdx`
  /// entries for the others.
  Index openReductionLoops(const ReduceInfo &r, ArrayRef<std::string> outIdx,
                           const std::string &innermostPragma, int &opened) {
    ArrayRef<int64_t> inShape = shapeOf(r.input);
    Index inIdx;
    int64_t outPos = 0;
    for (int64_t d = 0; d < (int64_t)inShape.size(); ++d) {
      if (!llvm::is_contained(r.dims, d)) {
        inIdx.push_back(outIdx[outPos++]);
        continue;
      }
      std::string v = "r" + std::to_string(counter++);
      if (!innermostPragma.empty() && d == r.dims.back())
        line(innermostPragma);
      line(llvm::formatv("for (int64_t {0} = 0; {0} < {1}; ++{0}) {{", v,
                         inShape[d])
               .str());
      ++depth;
      ++opened;
      inIdx.push_back(inShape[d] == 1 ? "0" : v);
      if (r.keepdim)
        ++outPos;
    }
    return inIdx;
  }

  /// Reductions that keep the input's innermost dim (column sums such as
  /// bias gradients) walk the input row by row: a strip of accumulators
  /// along the innermost dim, so every load is unit-stride.
  static bool useColumnOrder(Operation *op) {
    ReduceInfo r = reduceInfo(op);
    int64_t rank = shapeOf(r.input).size();
    return rank >= 2 && !llvm::is_contained(r.dims, rank - 1) &&
           shapeOf(r.input).back() > 1;
  }

  LogicalResult emitColumnReduction(Operation *op) {
    static constexpr int64_t kStrip = 256;
    ReduceInfo r = reduceInfo(op);
    ArrayRef<int64_t> inShape = shapeOf(r.input);
    ArrayRef<int64_t> outShape = shapeOf(op->getResult(0));
    int64_t inner = inShape.back();
    int64_t strip = std::min(kStrip, inner);
    int64_t strips = (inner + strip - 1) / strip;
    int64_t outer = 1;
    for (int64_t d = 0; d + 1 < (int64_t)outShape.size(); ++d)
      outer *= outShape[d];
    int64_t work = 1;
    for (int64_t d : inShape)
      work *= d;

    depth = 1;
    if (outer * strips > 1 && work >= kParallelWork)
      line("#pragma omp parallel for schedule(static)");
    line(llvm::formatv("for (int64_t b = 0; b < {0}; ++b) {{", outer * strips)
             .str());
    ++depth;
    line(llvm::formatv("const int64_t o = b / {0};", strips).str());
    line(llvm::formatv("const int64_t c0 = b % {0} * {1};", strips, strip).str());
    line(llvm::formatv("const int64_t cn = c0 + {0} <= {1} ? {0} : {1} - c0;",
                       strip, inner)
             .str());
    // Output indices of all dims but the last, from o.
    SmallVector<std::string> outIdx(outShape.size());
    int64_t stride = 1;
    for (int64_t d = (int64_t)outShape.size() - 2; d >= 0; --d) {
      outIdx[d] = outShape[d] == 1 ? "0" : "i" + std::to_string(d);
      if (outShape[d] != 1)
        line(llvm::formatv("const int64_t i{0} = o / {1} % {2};", d, stride,
                           outShape[d])
                 .str());
      stride *= outShape[d];
    }
    outIdx.back() = "(c0 + j)";
    line(r.accTy + " acc[" + std::to_string(strip) + "];");
    line("for (int64_t j = 0; j < cn; ++j) acc[j] = " + r.init + ";");

    int opened = 0;
    Index inIdx = openReductionLoops(r, outIdx, "", opened);
    line("#pragma omp simd");
    line("for (int64_t j = 0; j < cn; ++j) {");
    ++depth;
    scopes.emplace_back();
    FailureOr<std::string> x = eval(r.input, inIdx);
    scopes.pop_back();
    if (failed(x))
      return failure();
    line(accumulate(r, "acc[j]", *x));
    --depth;
    line("}");
    for (int64_t i = 0; i < opened; ++i) {
      --depth;
      line("}");
    }
    line(llvm::formatv("for (int64_t j = 0; j < cn; ++j) out0[o * {0} + c0 + j] "
                       "= {1};",
                       inner,
                       store(elemOf(r.input), "(" + r.cty + ")acc[j]"))
             .str());
    --depth;
    line("}");
    return success();
  }

  /// Opens a loop over the reduced dims inside the current loop body and
  /// evaluates the input at each point. f32 sums accumulate in double.
  FailureOr<std::string> reduce(Operation *op, const Index &outIdx) {
    ReduceInfo r = reduceInfo(op);
    std::string acc = "acc" + std::to_string(counter++);
    line(r.accTy + " " + acc + " = " + r.init + ";");

    // Sums may be reordered across SIMD lanes (the accumulator is wider than
    // the data for f32); max keeps its NaN-propagating order.
    int opened = 0;
    Index inIdx = openReductionLoops(
        r, outIdx, r.isSum ? "#pragma omp simd reduction(+ : " + acc + ")" : "",
        opened);
    scopes.emplace_back();
    FailureOr<std::string> x = eval(r.input, inIdx);
    scopes.pop_back();
    if (failed(x))
      return failure();
    line(accumulate(r, acc, *x));
    for (int i = 0; i < opened; ++i) {
      --depth;
      line("}");
    }
    return fresh(elemOf(r.input), "(" + r.cty + ")" + acc);
  }
};

} // namespace

FailureOr<std::string> graphopt::emitCpuKernels(func::FuncOp func) {
  std::string out = "// Generated by graphopt from @" + func.getSymName().str() +
                    ". One function per graphopt.kernel.\n"
                    "#include <cmath>\n#include <cstdint>\n#include <limits>\n"
                    "#include \"graphopt_kernel_math.h\"\n\n";
  unsigned index = 0;
  for (KernelOp k : func.getBody().getOps<KernelOp>()) {
    KernelEmitter e(k, kernelSymbol(func, index++));
    if (failed(e.emit(out)))
      return failure();
  }
  return out;
}
