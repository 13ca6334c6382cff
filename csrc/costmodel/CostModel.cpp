//===- CostModel.cpp - roofline costs of steps and eager baselines --------===//
#include "csrc/costmodel/CostModel.h"
#include "csrc/dialect/GraphOpt.h"

#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <map>

using namespace mlir;
using namespace graphopt;

namespace {

double numElements(Value v) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  if (!t)
    return 0;
  std::optional<int64_t> n = checkedNumElements(t.getShape());
  return n ? double(*n) : 0;
}

double byteSize(Value v) {
  std::optional<int64_t> n = checkedByteSize(v.getType());
  return n ? double(*n) : 0;
}

/// The bytes a consumer actually reads for `v`: a broadcast is a stride-0
/// view of its input, so reading it reads the input once.
double bytesRead(Value v) {
  while (auto b = v.getDefiningOp<BroadcastOp>())
    v = b.getInput();
  return byteSize(v);
}

/// An extern 2-D convolution: ATen's, NCHW as imported, or graphopt-layout's
/// channels-last one (NHWC in and out, the same OIHW weight and output
/// element count as the ATen op it replaces); forward or backward.
struct Convolution {
  bool backward;
  StringRef layout; // "nchw" or "nhwc"
};

std::optional<Convolution> convolutionOf(ExternOp op) {
  StringRef callee = op.getCallee();
  if (callee.starts_with("aten::convolution."))
    return Convolution{false, "nchw"};
  if (callee.starts_with("aten::convolution_backward."))
    return Convolution{true, "nchw"};
  if (callee.starts_with("graphopt::convolution_channels_last.") ||
      callee.starts_with("graphopt::convolution_pointwise_channels_last."))
    return Convolution{false, "nhwc"};
  if (callee.starts_with("graphopt::convolution_backward_channels_last."))
    return Convolution{true, "nhwc"};
  return std::nullopt;
}

/// FLOPs of the extern ops whose work is known from their shapes:
/// convolutions (2 per multiply-add of output x weight window) and their
/// backward (the input and the weight gradients, twice the forward).
/// Other externs are priced by their bytes alone.
double externFlops(ExternOp op) {
  std::optional<Convolution> conv = convolutionOf(op);
  if (!conv)
    return 0;
  auto window = [&](Value weight) { // Cin/groups * kh * kw
    auto t = dyn_cast<RankedTensorType>(weight.getType());
    return t && t.getRank() > 1 && t.getDimSize(0) > 0
               ? numElements(weight) / double(t.getDimSize(0))
               : 0.0;
  };
  if (!conv->backward && op.getInputs().size() >= 2 && op->getNumResults() >= 1)
    return 2 * numElements(op->getResult(0)) * window(op.getInputs()[1]);
  if (conv->backward && op.getInputs().size() >= 3) // (grad_output, input, weight, ...)
    return 4 * numElements(op.getInputs()[0]) * window(op.getInputs()[2]);
  return 0;
}

bool isContraction(Operation *op) {
  if (isa<MatmulOp, BatchMatmulOp, AddmmOp>(op))
    return true;
  auto e = dyn_cast<ExternOp>(op);
  return e && externFlops(e) > 0;
}

/// FLOPs of one op, per its result elements. Transcendentals count as the
/// multiply-adds of graphopt's polynomial approximations, so a kernel of
/// erf is not predicted as cheap as a kernel of adds.
double opFlops(Operation *op, const Target *target = nullptr) {
  if (auto e = dyn_cast<ExternOp>(op))
    return externFlops(e);
  if (isView(op) || isa<ConstantOp>(op))
    return 0;
  if (isa<ReduceSumOp, ReduceMaxOp>(op))
    return numElements(op->getOperand(0));
  auto mm = [](Value a, Value out) {
    auto s = cast<RankedTensorType>(a.getType()).getShape();
    return 2.0 * numElements(out) * double(s.back());
  };
  if (auto m = dyn_cast<MatmulOp>(op))
    return mm(m->getOperand(0), m->getResult(0));
  if (auto b = dyn_cast<BatchMatmulOp>(op))
    return mm(b->getOperand(0), b->getResult(0));
  if (auto a = dyn_cast<AddmmOp>(op))
    return mm(a->getOperand(1), a->getResult(0)) + 2 * numElements(a->getResult(0));
  double n = 0;
  for (Value r : op->getResults())
    n += numElements(r);
  return flopsPerElement(op, target) * n;
}

std::string shortName(Operation *op) { return op->getName().stripDialect().str(); }

/// Whether `op`, a float add, subtract or sum in a kernel body, absorbs a
/// multiply: an operand of its shape (for a sum, its input) is a multiply
/// nothing else reads. The C++ and CUDA compilers contract such a pair into
/// one fused multiply-add (GCC's and nvcc's default; a sum's accumulation
/// too), the unit exp's 8 are counted in, so the pair counts once.
bool absorbsMultiply(Operation *op) {
  if (!isa<AddOp, SubOp, ReduceSumOp>(op) ||
      !isa<FloatType>(getElementTypeOrSelf(op->getResult(0).getType())))
    return false;
  ArrayRef<int64_t> shape = isa<ReduceSumOp>(op) ? shapeOf(op->getOperand(0))
                                                 : shapeOf(op->getResult(0));
  return llvm::any_of(op->getOperands(), [&](Value v) {
    auto mul = v.getDefiningOp<MulOp>();
    return mul && mul->hasOneUse() && shapeOf(v) == shape;
  });
}

/// FLOPs a kernel executes. The emitters compute a pointwise kernel's row
/// reductions (softmax, layer norm) one after another before the row's
/// outputs, and each phase re-evaluates the pointwise ops it needs, reusing
/// the row values of earlier phases and, on a CPU target, the
/// full-size values they stashed (rowStash); elsewhere softmax evaluates
/// exp twice. So the ops a phase needs count once per phase that computes
/// them. A multiply and the add it feeds count as one multiply-add.
double kernelFlops(KernelOp kernel, const Target &target) {
  Block &body = kernel.getBody().front();
  auto yield = cast<YieldOp>(body.getTerminator());
  SmallVector<int64_t> domain = kernelDomain(body);
  llvm::DenseSet<Value> stash;
  if (target.kind == "cpu")
    stash = rowStash(body, domain);
  auto rowValue = [&](Value v) { return isRowShape(shapeOf(v), domain); };
  // One phase per row value, then one for the full-size outputs, which the
  // emitters store from one loop (what two outputs share counts once).
  SmallVector<SmallVector<Value>> phases;
  for (Operation &op : body.without_terminator())
    if (op.getNumResults() == 1 && rowValue(op.getResult(0)))
      phases.push_back({op.getResult(0)});
  phases.emplace_back();
  for (Value v : yield.getValues())
    if (!rowValue(v))
      phases.back().push_back(v);
  // Computed by an earlier phase: its row values, and what it stashed.
  llvm::DenseSet<Value> earlier;
  double flops = 0;
  for (ArrayRef<Value> roots : phases) {
    llvm::DenseSet<Operation *> seen;
    SmallVector<Value> stack(roots.begin(), roots.end()), stashedHere;
    while (!stack.empty()) {
      Operation *op = stack.pop_back_val().getDefiningOp();
      if (!op || !seen.insert(op).second || earlier.contains(op->getResult(0)))
        continue;
      flops += absorbsMultiply(op) ? 0 : opFlops(op, &target);
      if (stash.contains(op->getResult(0)))
        stashedHere.push_back(op->getResult(0));
      llvm::append_range(stack, op->getOperands());
    }
    earlier.insert(roots.begin(), roots.end());
    earlier.insert(stashedHere.begin(), stashedHere.end());
  }
  return flops;
}

std::string dtypeOf(Value v) {
  return dtypeName(cast<RankedTensorType>(v.getType()).getElementType());
}

/// The convolution `op` is, if it is one: its peak is the target's for its
/// layout and direction.
std::optional<Convolution> convolutionOf(Operation *op) {
  auto e = dyn_cast<ExternOp>(op);
  return e ? convolutionOf(e) : std::nullopt;
}

/// Predicted time of a step from its FLOPs and bytes. `conv`: the
/// convolution the step is, whose peak is the target's for it.
void predict(StepCost &s, const Target &t, bool contraction, StringRef dtype,
             std::optional<Convolution> conv = std::nullopt) {
  if (!s.launches)
    return;
  double peak = !contraction ? t.vectorFlops
                : !conv      ? t.matmulPeak(dtype)
                             : t.convolutionPeak(conv->layout, conv->backward, dtype);
  double compute = s.flops / peak, memory = s.bytes() / t.memoryBandwidth;
  s.computeBound = compute > memory;
  s.roofS = std::max(compute, memory);
  s.predictedS = s.roofS + t.launchOverheadS;
  if (t.freshAllocBandwidth > 0)
    s.predictedS += s.freshBytes / t.freshAllocBandwidth;
}

/// Adds `r` to the step's fresh bytes if it is allocated per call (not in
/// the arena: unplanned IR, extern results, graph outputs) and large.
void addFresh(StepCost &s, Operation *op, unsigned i, const Target &t) {
  auto offsets = op->getAttrOfType<DenseI64ArrayAttr>("graphopt.arena_offsets");
  double bytes = byteSize(op->getResult(i));
  if ((!offsets || offsets[i] < 0) && bytes >= t.freshAllocThreshold)
    s.freshBytes += bytes;
}

/// The bytes kernel `k` reads of its input `i`: the whole input, unless the
/// body only slices it (q, k and v out of one projection), then the boxes
/// (overlapping ones counted twice, at most the whole input).
double kernelInputBytes(KernelOp k, unsigned i) {
  double whole = bytesRead(k->getOperand(i)), boxes = 0;
  for (Operation *user : k.getBody().front().getArgument(i).getUsers()) {
    if (!isa<SliceOp>(user))
      return whole;
    boxes += byteSize(user->getResult(0));
  }
  return std::min(whole, boxes);
}

StepCost stepOf(Operation *op, unsigned index, const Target &t,
                func::FuncOp func, unsigned &kernelIndex) {
  StepCost s;
  s.index = index;
  s.kind = shortName(op);
  s.name = s.kind;
  auto kernel = dyn_cast<KernelOp>(op);
  for (auto [i, v] : llvm::enumerate(op->getOperands()))
    s.bytesRead += kernel ? kernelInputBytes(kernel, i) : bytesRead(v);
  for (Value r : op->getResults())
    s.bytesWritten += byteSize(r);
  bool contraction = isContraction(op);
  if (auto k = dyn_cast<KernelOp>(op)) {
    s.name = kernelSymbol(func.getSymName(), kernelIndex++);
    for (Operation &inner : k.getBody().front().without_terminator())
      s.ops.push_back(shortName(&inner));
    s.flops = kernelFlops(k, t);
  } else if (auto e = dyn_cast<ExternOp>(op)) {
    s.name = e.getCallee().str();
    s.ops.push_back(s.name);
    s.flops = externFlops(e);
  } else if (isView(op)) {
    s.kind = "view";
    s.launches = false;
    s.bytesRead = s.bytesWritten = 0;
    s.ops.push_back(shortName(op));
  } else if (isa<ConstantOp>(op)) {
    // Scalars are folded into their users; only tensors are materialized.
    s.launches = numElements(op->getResult(0)) > 1;
    if (!s.launches)
      s.bytesWritten = 0;
    s.ops.push_back("constant");
  } else {
    s.ops.push_back(shortName(op));
    s.flops = opFlops(op, &t);
  }
  // Kernels and matmuls write graph outputs into buffers the runtime reuses
  // once the caller lets go of them (executor._Recycler); torch allocates
  // extern results (convolutions included) anew on every call.
  if (s.launches && s.bytesWritten > 0 &&
      !isa<KernelOp, MatmulOp, BatchMatmulOp, AddmmOp>(op))
    for (unsigned i = 0; i < op->getNumResults(); ++i)
      addFresh(s, op, i, t);
  StringRef dtype = "f32";
  std::string d = op->getNumResults() ? dtypeOf(op->getResult(0)) : "f32";
  if (contraction)
    dtype = d;
  predict(s, t, contraction, dtype, convolutionOf(op));
  return s;
}

void total(PlanCost &p) {
  for (const StepCost &s : p.steps) {
    p.timeS += s.predictedS;
    p.flops += s.flops;
    p.bytes += s.bytes();
    p.launches += s.launches;
  }
}

std::string contractionDtype(func::FuncOp func) {
  std::string dtype = "f32";
  double best = 0;
  func.walk([&](Operation *op) {
    if (isa<MatmulOp, BatchMatmulOp, AddmmOp>(op) && opFlops(op) > best) {
      best = opFlops(op);
      dtype = dtypeOf(op->getResult(0));
    }
  });
  return dtype;
}

/// The `eager:` tag the importer puts on ops decomposed from one ATen op.
std::optional<std::string> eagerTag(Location loc) {
  if (auto f = dyn_cast<FusedLoc>(loc))
    if (auto s = dyn_cast_or_null<StringAttr>(f.getMetadata()))
      if (s.getValue().starts_with("eager:"))
        return s.getValue().drop_front(6).str();
  return std::nullopt;
}

} // namespace

double graphopt::flopsPerElement(Operation *op, const Target *target) {
  if (isView(op) || isa<ConstantOp>(op))
    return 0;
  // Relative to exp's 8 multiply-adds, as the emitted C++ runs them (a loop
  // of each over a cache-resident array: on an AVX2 CPU erf 1.75x exp, tanh
  // 1.3x, log 2x, sigmoid 1.2x; on an AVX-512 one rsqrt 1.6x; pow is a
  // scalar libm call, 23x). vector_flops is calibrated in the same unit (8
  // per exp), so FLOPs / vector_flops is the time. A target may price these
  // ops itself (vector_op_flops: host-cpu measures them).
  auto price = [&](const char *name, double byDefault) {
    if (target) {
      auto it = target->vectorOpFlops.find(name);
      if (it != target->vectorOpFlops.end())
        return it->second;
    }
    return byDefault;
  };
  auto sqrt = [&] { return price("sqrt", 6); };
  auto div = [&] { return price("div", 6); };
  auto rsqrt = [&] { return price("rsqrt", 12); };
  return llvm::TypeSwitch<Operation *, double>(op)
      .Case<ExpOp>([&](auto) { return price("exp", 8); })
      .Case<SigmoidOp>([&](auto) { return price("sigmoid", 10); })
      .Case<TanhOp>([&](auto) { return price("tanh", 11); })
      .Case<ErfOp>([&](auto) { return price("erf", 14); })
      .Case<LogOp>([&](auto) { return price("log", 16); })
      .Case<PowOp>([&](PowOp p) {
        // The exponents the emitters compute as torch does, priced as the
        // ops they become; any other is a pow call.
        std::optional<double> e = specialPowExponent(p);
        if (!e)
          return price("pow", 180);
        if (*e == 0.5)
          return sqrt();
        if (*e == -0.5)
          return rsqrt();
        if (*e < 0) // -1: a division; -2: a multiply and a division
          return div() - *e - 1;
        return *e - 1; // 1: nothing; 2: a multiply; 3: two
      })
      .Case<RsqrtOp>([&](auto) { return rsqrt(); })
      .Case<SqrtOp>([&](auto) { return sqrt(); })
      .Case<DivOp>([&](auto) { return div(); })
      .Default([](Operation *) { return 1.0; });
}

PlanCost graphopt::costOfSteps(func::FuncOp func, const Target &target) {
  PlanCost p;
  unsigned index = 0, kernelIndex = 0;
  for (Operation &op : func.getBody().front().without_terminator())
    p.steps.push_back(stepOf(&op, index++, target, func, kernelIndex));
  p.dtype = contractionDtype(func);
  total(p);
  return p;
}

PlanCost graphopt::costOfEager(func::FuncOp func, const Target &target) {
  // Group the ops: one group per eager tag, one per untagged op.
  llvm::MapVector<std::string, SmallVector<Operation *>,
                  std::map<std::string, unsigned>>
      groups;
  unsigned untagged = 0;
  for (Operation &op : func.getBody().front().without_terminator()) {
    std::optional<std::string> tag = eagerTag(op.getLoc());
    groups[tag ? *tag : "#" + std::to_string(untagged++)].push_back(&op);
  }
  PlanCost p;
  unsigned index = 0, kernelIndex = 0;
  for (auto &[tag, ops] : groups) {
    if (ops.size() == 1) {
      p.steps.push_back(stepOf(ops.front(), index++, target, func, kernelIndex));
      continue;
    }
    // A decomposed ATen op: one kernel reading what flows in from outside
    // the group and writing what flows out of it.
    llvm::DenseSet<Operation *> members(ops.begin(), ops.end());
    llvm::DenseSet<Value> read;
    StepCost s;
    s.index = index++;
    s.kind = "aten";
    s.name = tag.substr(0, tag.rfind('@'));
    bool contraction = false;
    for (Operation *op : ops) {
      s.ops.push_back(shortName(op));
      s.flops += opFlops(op, &target);
      contraction |= isContraction(op);
      for (Value v : op->getOperands()) {
        Operation *def = v.getDefiningOp();
        if ((!def || !members.contains(def)) && read.insert(v).second)
          s.bytesRead += bytesRead(v);
      }
      for (auto [i, r] : llvm::enumerate(op->getResults()))
        if (llvm::any_of(r.getUsers(),
                         [&](Operation *u) { return !members.contains(u); })) {
          s.bytesWritten += byteSize(r);
          addFresh(s, op, i, target);
        }
    }
    s.launches = llvm::any_of(ops, [](Operation *op) {
      return !isView(op) && !isa<ConstantOp>(op);
    });
    if (!s.launches)
      s.bytesRead = s.bytesWritten = s.freshBytes = 0;
    predict(s, target, contraction, contractionDtype(func));
    p.steps.push_back(std::move(s));
  }
  p.dtype = contractionDtype(func);
  total(p);
  return p;
}

llvm::json::Value graphopt::costJson(const Target &t, const PlanCost &eager,
                                     const PlanCost &compiled) {
  using llvm::json::Array, llvm::json::Object;
  auto totals = [](const PlanCost &p) {
    return Object{{"time_s", p.timeS},
                  {"flops", p.flops},
                  {"bytes", p.bytes},
                  {"launches", p.launches}};
  };
  Object matmul;
  for (const auto &[dtype, flops] : t.matmulFlops)
    matmul[dtype] = flops;
  Array steps;
  for (const StepCost &s : compiled.steps) {
    Array ops;
    for (const std::string &o : s.ops)
      ops.push_back(o);
    steps.push_back(Object{{"index", (int64_t)s.index},
                           {"kind", s.kind},
                           {"name", s.name},
                           {"ops", std::move(ops)},
                           {"flops", s.flops},
                           {"bytes_read", s.bytesRead},
                           {"bytes_written", s.bytesWritten},
                           {"fresh_bytes", s.freshBytes},
                           {"intensity", s.intensity()},
                           {"bound", s.computeBound ? "compute" : "memory"},
                           {"launches", s.launches},
                           {"roof_s", s.roofS},
                           {"predicted_s", s.predictedS}});
  }
  double peak = t.matmulPeak(compiled.dtype);
  return Object{
      {"target",
       Object{{"name", t.name},
              {"description", t.description},
              {"kind", t.kind},
              {"peak_flops_matmul", peak},
              {"matmul_flops", std::move(matmul)},
              {"peak_flops_vector", t.vectorFlops},
              {"memory_bandwidth", t.memoryBandwidth},
              {"launch_overhead_s", t.launchOverheadS},
              {"interconnect_bandwidth", t.interconnectBandwidth},
              {"fresh_alloc_bandwidth", t.freshAllocBandwidth},
              {"fresh_alloc_threshold", t.freshAllocThreshold}}},
      {"dtype", compiled.dtype},
      {"eager", totals(eager)},
      {"compiled", totals(compiled)},
      {"predicted_speedup",
       compiled.timeS > 0 ? eager.timeS / compiled.timeS : 1.0},
      {"mfu", compiled.timeS > 0 ? compiled.flops / (compiled.timeS * peak) : 0.0},
      {"steps", std::move(steps)}};
}

static std::string human(double v, StringRef unit) {
  static const char *prefixes[] = {"", "K", "M", "G", "T", "P"};
  int i = 0;
  while (std::abs(v) >= 1000 && i < 5) {
    v /= 1000;
    ++i;
  }
  return llvm::formatv("{0:f1} {1}{2}", v, prefixes[i], unit).str();
}

void graphopt::printCostTable(llvm::raw_ostream &os, const Target &t,
                              const PlanCost &plan, const PlanCost *eager) {
  os << "cost on " << t.name << " (" << human(t.matmulPeak(plan.dtype), "FLOP/s")
     << " " << plan.dtype << " matmul, " << human(t.vectorFlops, "FLOP/s")
     << " vector, " << human(t.memoryBandwidth, "B/s") << ")\n";
  os << llvm::formatv("{0,5}  {1,-28} {2,12} {3,12} {4,9} {5,-8} {6,12}\n",
                      "step", "kernel", "FLOPs", "bytes", "FLOP/B", "bound",
                      "time (us)");
  for (const StepCost &s : plan.steps) {
    if (!s.launches)
      continue;
    std::string name = s.name.size() > 28 ? s.name.substr(0, 25) + "..." : s.name;
    os << llvm::formatv("{0,5}  {1,-28} {2,12} {3,12} {4,9:f2} {5,-8} {6,12:f3}\n",
                        s.index, name, human(s.flops, ""), human(s.bytes(), "B"),
                        s.intensity(), s.computeBound ? "compute" : "memory",
                        s.predictedS * 1e6);
  }
  os << llvm::formatv("total: {0} launches, {1}FLOP, {2}, {3:f3} us", plan.launches,
                      human(plan.flops, ""), human(plan.bytes, "B"),
                      plan.timeS * 1e6);
  if (plan.timeS > 0)
    os << llvm::formatv(", MFU {0:f1}%",
                        100 * plan.flops / (plan.timeS * t.matmulPeak(plan.dtype)));
  os << "\n";
  if (eager && plan.timeS > 0)
    os << llvm::formatv("eager: {0} launches, {1}, {2:f3} us; predicted speedup "
                        "{3:f2}x\n",
                        eager->launches, human(eager->bytes, "B"),
                        eager->timeS * 1e6, eager->timeS / plan.timeS);
}
