//===- PlanMemory.cpp - graphopt-plan-memory ------------------------------===//
//
// Liveness -> arena offsets. Steps:
//
//   1. Number the function's top-level ops.
//   2. Union values that may share storage: a view (reshape, permute,
//      broadcast left outside kernels) with its operand, an extern's results
//      with its tensor operands (torch may return views) unless its schema
//      says they are new tensors (graphopt.fresh_results).
//   3. Input mutations: a graph input that the graph updates (a BatchNorm's
//      running statistics: `aten::copy_(input, new)` at the end) is written
//      in place by the kernel computing its new value, when that kernel is
//      the input's last reader and reads it at the same index; the copy goes
//      (and steps 1-2 are redone without it).
//   4. A storage set is live from its first definition to its last use. Sets
//      holding a function argument's or a returned value's storage stay out
//      of the arena: the caller owns those.
//   5. In place: a kernel's output takes the buffer of an input it reads
//      only at the output's own index and that dies at the kernel (same byte
//      size, one arena owner, nothing else aliasing it): their sets merge.
//   6. Buffers created by kernels and contractions get a request each, with
//      their set's interval; planMemory() packs them. Outputs written in
//      place get their input's offset.
//
//===----------------------------------------------------------------------===//
#include "passes/MemoryPlanner.h"
#include "passes/Passes.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/EquivalenceClasses.h"
#include "llvm/Support/MathExtras.h"

namespace graphopt {
#define GEN_PASS_DEF_GRAPHOPTPLANMEMORY
#include "passes/Passes.h.inc"
} // namespace graphopt

using namespace mlir;
using namespace graphopt;

namespace {

/// Larger plans are certainly bugs; the bound keeps offset math far from
/// int64 overflow.
constexpr int64_t kMaxArenaBytes = int64_t(1) << 60;

/// Ops whose results are fresh buffers the runtime takes from the arena.
bool ownsStorage(Operation *op) {
  return isa<KernelOp, MatmulOp, BatchMatmulOp, AddmmOp>(op);
}

/// A storage set's live interval (steps, inclusive) and whether the caller
/// owns it (a function argument or a returned value is in it).
struct SetInfo {
  int64_t start = INT64_MAX, end = -1;
  bool external = false;
};

/// Whether `kernel` reads its operand `x` only at each output's own index,
/// after any reduction it computes there: the body is pointwise, or its
/// reductions all have the iteration shape (an epilogue kernel); `x` has the
/// shape and byte size of `result`, which has the iteration shape (row-shaped
/// outputs are stored before the row's loop reads the inputs); only
/// elementwise ops of the iteration shape read `x` (none inside a
/// reduction's loop), and no other operand is in `x`'s storage set.
bool readsAtOwnIndex(KernelOp kernel, Value result, Value x,
                     llvm::EquivalenceClasses<Value> &sets) {
  Block &body = kernel.getBody().front();
  SmallVector<int64_t> domain = kernelDomain(body);
  auto ofDomain = [&](Value v) { return shapeOf(v) == ArrayRef<int64_t>(domain); };
  bool epilogue = llvm::all_of(body.without_terminator(), [&](Operation &op) {
    return isElementwise(&op) || isa<ConstantOp>(op) ||
           isDomainReduction(&op, domain);
  });
  if (!epilogue || !ofDomain(result) || shapeOf(x) != shapeOf(result) ||
      checkedByteSize(x.getType()) != checkedByteSize(result.getType()))
    return false;
  for (OpOperand &use : kernel->getOpOperands())
    if (use.get() == x &&
        !llvm::all_of(body.getArgument(use.getOperandNumber()).getUsers(),
                      [&](Operation *u) {
                        return isElementwise(u) && ofDomain(u->getResult(0));
                      }))
      return false;
  return llvm::none_of(kernel->getOperands(), [&](Value y) {
    return y != x && sets.getLeaderValue(y) == sets.getLeaderValue(x);
  });
}

/// Per output of `kernel`, the input whose buffer it can overwrite, or -1:
/// one it reads at the output's own index only (so each element is loaded
/// before it is stored, KernelBodyPrinter::storeOutputs), its set's only
/// arena buffer, dead after this kernel.
SmallVector<int64_t> inPlaceInputs(KernelOp kernel, int64_t step,
                                   llvm::EquivalenceClasses<Value> &sets,
                                   DenseMap<Value, SetInfo> &info,
                                   const DenseMap<Value, Value> &ownerOf) {
  Operation *op = kernel;
  SmallVector<int64_t> inPlace(op->getNumResults(), -1);
  SmallVector<Value> taken; // inputs' set leaders already written over
  for (auto [ri, r] : llvm::enumerate(op->getResults())) {
    Value rLeader = sets.getLeaderValue(r);
    if (info[rLeader].external || !ownerOf.lookup(rLeader))
      continue;
    for (auto [xi, x] : llvm::enumerate(op->getOperands())) {
      Value xLeader = sets.getLeaderValue(x);
      const SetInfo &xs = info[xLeader];
      if (llvm::is_contained(taken, xLeader) || xs.external || xs.end != step ||
          !ownerOf.lookup(xLeader) || !readsAtOwnIndex(kernel, r, x, sets))
        continue;
      taken.push_back(xLeader);
      inPlace[ri] = xi;
      break;
    }
  }
  return inPlace;
}

/// The `aten::copy_(arg, new)` ops that write a function argument's new
/// value, whose kernel can write it in place instead: `new` is a kernel
/// result used only by the copy, of the argument's type; the kernel reads
/// the argument at its own index; nothing reads the argument's storage after
/// the kernel. Per copy: the kernel's result index and operand index.
struct InputUpdate {
  ExternOp copy;
  KernelOp kernel;
  unsigned result, operand;
};
SmallVector<InputUpdate> inputUpdates(Block &block,
                                      llvm::EquivalenceClasses<Value> &sets,
                                      DenseMap<Operation *, int64_t> &step) {
  SmallVector<InputUpdate> updates;
  for (Operation &op : block) {
    auto copy = dyn_cast<ExternOp>(op);
    if (!copy || copy.getCallee() != "aten::copy_.default" ||
        copy->getNumOperands() != 2 || !copy->use_empty())
      continue;
    auto arg = dyn_cast<BlockArgument>(copy->getOperand(0));
    Value src = copy->getOperand(1);
    auto kernel = src.getDefiningOp<KernelOp>();
    if (!arg || !kernel || arg.getType() != src.getType() || !src.hasOneUse())
      continue;
    auto operand = llvm::find(kernel->getOperands(), arg);
    if (operand == kernel->operand_end() ||
        !readsAtOwnIndex(kernel, src, arg, sets))
      continue;
    // Another reader after the kernel would see the new value early.
    bool readLater = false;
    for (Value v : sets.members(Value(arg)))
      for (Operation *user : v.getUsers())
        readLater |= user != copy && step.lookup(user) > step.lookup(kernel);
    if (readLater)
      continue;
    updates.push_back({copy, kernel, cast<OpResult>(src).getResultNumber(),
                       unsigned(operand - kernel->operand_begin())});
  }
  return updates;
}

DenseMap<Operation *, int64_t> numberOps(Block &block) {
  DenseMap<Operation *, int64_t> step;
  for (Operation &op : block)
    step[&op] = step.size();
  return step;
}

/// Values that may share storage: a view (reshape, permute, broadcast left
/// outside kernels) with its operand, an extern's results with its tensor
/// operands (torch may return views) unless its schema says they are new
/// tensors (graphopt.fresh_results).
llvm::EquivalenceClasses<Value> storageSets(Block &block) {
  llvm::EquivalenceClasses<Value> sets;
  for (BlockArgument arg : block.getArguments())
    sets.insert(arg);
  for (Operation &op : block) {
    for (Value r : op.getResults())
      sets.insert(r);
    if (isView(&op))
      sets.unionSets(op.getResult(0), op.getOperand(0));
    if (isa<ExternOp>(op) && !op.hasAttr(kFreshResultsAttr))
      for (Value r : op.getResults())
        for (Value in : op.getOperands())
          if (isa<TensorType>(in.getType()))
            sets.unionSets(r, in);
  }
  return sets;
}

class PlanMemoryPass : public graphopt::impl::GraphOptPlanMemoryBase<PlanMemoryPass> {
public:
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    Block &block = func.getBody().front();
    MLIRContext *ctx = &getContext();

    // 1-2. Steps and storage sets.
    DenseMap<Operation *, int64_t> step = numberOps(block);
    llvm::EquivalenceClasses<Value> sets = storageSets(block);

    // 3. Input mutations written in place.
    DenseMap<Operation *, SmallVector<int64_t>> inPlaceOf;
    SmallVector<InputUpdate> updates = inputUpdates(block, sets, step);
    for (InputUpdate &u : updates) {
      Operation *k = u.kernel;
      auto [it, fresh] = inPlaceOf.try_emplace(k, k->getNumResults(), -1);
      it->second[u.result] = u.operand;
      u.copy->erase();
    }
    if (!updates.empty()) {
      step = numberOps(block);
      sets = storageSets(block);
      // The result is the argument's storage (the caller's).
      for (auto &[k, inPlace] : inPlaceOf)
        for (auto [r, in] : llvm::zip(k->getResults(), inPlace))
          if (in >= 0)
            sets.unionSets(r, k->getOperand(in));
    }

    // 4. Live interval and ownership per set leader.
    DenseMap<Value, SetInfo> info;
    for (BlockArgument arg : block.getArguments())
      info[sets.getLeaderValue(arg)].external = true;
    for (Operation &op : block) {
      int64_t s = step[&op];
      for (Value r : op.getResults()) {
        SetInfo &si = info[sets.getLeaderValue(r)];
        si.start = std::min(si.start, s);
        si.end = std::max(si.end, s);
      }
      for (Value in : op.getOperands()) {
        if (!sets.contains(in))
          continue;
        SetInfo &si = info[sets.getLeaderValue(in)];
        si.end = std::max(si.end, s);
        if (op.hasTrait<mlir::OpTrait::IsTerminator>())
          si.external = true;
      }
    }

    // 5. In place. The arena owner of each set (null when several).
    DenseMap<Value, Value> ownerOf;
    for (Operation &op : block)
      if (ownsStorage(&op))
        for (Value r : op.getResults()) {
          auto [it, fresh] = ownerOf.try_emplace(sets.getLeaderValue(r), r);
          if (!fresh)
            it->second = Value();
        }
    DenseMap<Value, Value> writtenOver; // output -> the owner whose bytes it takes
    for (Operation &op : block) {
      auto kernel = dyn_cast<KernelOp>(op);
      if (!kernel)
        continue;
      SmallVector<int64_t> inPlace = inPlaceInputs(kernel, step[&op], sets,
                                                   info, ownerOf);
      SmallVector<int64_t> updated =
          inPlaceOf.lookup_or(&op, SmallVector<int64_t>(inPlace.size(), -1));
      for (auto [arena, input] : llvm::zip(inPlace, updated))
        if (input >= 0)
          arena = input;
      if (llvm::all_of(inPlace, [](int64_t i) { return i < 0; }))
        continue;
      for (auto [r, in, input] : llvm::zip(op.getResults(), inPlace, updated)) {
        if (in < 0 || input >= 0)
          continue;
        Value x = op.getOperand(in);
        Value owner = ownerOf.lookup(sets.getLeaderValue(x));
        SetInfo merged = info[sets.getLeaderValue(x)];
        const SetInfo &out = info[sets.getLeaderValue(r)];
        merged.start = std::min(merged.start, out.start);
        merged.end = std::max(merged.end, out.end);
        sets.unionSets(x, r);
        Value leader = sets.getLeaderValue(x);
        info[leader] = merged;
        ownerOf[leader] = owner;
        writtenOver[r] = owner;
      }
      op.setAttr(kInPlaceAttr, DenseI64ArrayAttr::get(ctx, inPlace));
    }

    // 6. Requests and packing.
    std::vector<BufferRequest> requests;
    SmallVector<Value> planned;
    int64_t naive = 0;
    for (Operation &op : block) {
      if (!ownsStorage(&op))
        continue;
      for (Value r : op.getResults()) {
        const SetInfo &si = info[sets.getLeaderValue(r)];
        if (si.external)
          continue;
        std::optional<int64_t> bytes = checkedByteSize(r.getType());
        if (!bytes || llvm::AddOverflow(naive, *bytes, naive) ||
            naive > kMaxArenaBytes) {
          op.emitOpError() << "result " << r.getType()
                           << " has no static size the arena can hold "
                              "(dynamic, not a number type, or over 2^60 bytes)";
          return signalPassFailure();
        }
        if (writtenOver.count(r))
          continue;
        requests.push_back({*bytes, si.start, si.end});
        planned.push_back(r);
      }
    }
    MemoryPlan plan = planMemory(requests, alignment);

    DenseMap<Value, int64_t> offsetOf;
    for (auto [v, off] : llvm::zip(planned, plan.offsets))
      offsetOf[v] = off;
    for (auto [r, owner] : writtenOver) // owner: its merged set's buffer
      offsetOf[r] = offsetOf.lookup(owner);
    for (Operation &op : block) {
      if (!ownsStorage(&op))
        continue;
      SmallVector<int64_t> offsets;
      for (Value r : op.getResults())
        offsets.push_back(offsetOf.lookup_or(r, -1));
      op.setAttr("graphopt.arena_offsets",
                 DenseI64ArrayAttr::get(ctx, offsets));
    }
    auto i64 = IntegerType::get(ctx, 64);
    func->setAttr("graphopt.arena_size", IntegerAttr::get(i64, plan.arenaSize));
    func->setAttr("graphopt.naive_size", IntegerAttr::get(i64, naive));
  }
};

} // namespace
