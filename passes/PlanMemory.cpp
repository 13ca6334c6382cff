//===- PlanMemory.cpp - graphopt-plan-memory ------------------------------===//
//
// Liveness -> arena offsets. Steps:
//
//   1. Number the function's top-level ops.
//   2. Union values that may share storage: a view (reshape, permute,
//      broadcast left outside kernels) with its operand, an extern's results
//      with its tensor operands (torch may return views) unless its schema
//      says they are new tensors (graphopt.fresh_results).
//   3. A storage set is live from its first definition to its last use. Sets
//      holding a function argument's or a returned value's storage stay out
//      of the arena: the caller owns those.
//   4. In place: a pointwise kernel's output takes the buffer of an input
//      read at the same index that dies at the kernel (same byte size, one
//      arena owner, nothing else aliasing it): their sets merge.
//   5. Buffers created by kernels and contractions get a request each, with
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

/// Per output of `kernel`, the input whose buffer it can overwrite, or -1.
/// The body must be pointwise, so each output element is computed from the
/// inputs' elements at its own index, all loaded before it is stored
/// (KernelBodyPrinter::storeOutputs). The input: of the output's shape and
/// byte size, its set's only arena buffer, dead after this kernel, and not
/// passed to the kernel a second time through a view of another shape.
SmallVector<int64_t> inPlaceInputs(KernelOp kernel, int64_t step,
                                   llvm::EquivalenceClasses<Value> &sets,
                                   DenseMap<Value, SetInfo> &info,
                                   const DenseMap<Value, Value> &ownerOf) {
  Operation *op = kernel;
  SmallVector<int64_t> inPlace(op->getNumResults(), -1);
  Block &body = kernel.getBody().front();
  if (!isPointwiseBody(body))
    return inPlace;
  // Row-shaped outputs are stored once per row, before the row's loop reads
  // the inputs: only outputs of the iteration shape qualify.
  SmallVector<int64_t> domain = kernelDomain(body);
  SmallVector<Value> taken; // inputs' set leaders already written over
  for (auto [ri, r] : llvm::enumerate(op->getResults())) {
    Value rLeader = sets.getLeaderValue(r);
    if (shapeOf(r) != ArrayRef<int64_t>(domain) || info[rLeader].external ||
        !ownerOf.lookup(rLeader))
      continue;
    for (auto [xi, x] : llvm::enumerate(op->getOperands())) {
      Value xLeader = sets.getLeaderValue(x);
      const SetInfo &xs = info[xLeader];
      if (llvm::is_contained(taken, xLeader) || xs.external || xs.end != step ||
          !ownerOf.lookup(xLeader) || shapeOf(x) != shapeOf(r) ||
          checkedByteSize(x.getType()) != checkedByteSize(r.getType()))
        continue;
      bool viewedOtherwise = llvm::any_of(op->getOperands(), [&](Value y) {
        return y != x && sets.getLeaderValue(y) == xLeader;
      });
      if (viewedOtherwise)
        continue;
      taken.push_back(xLeader);
      inPlace[ri] = xi;
      break;
    }
  }
  return inPlace;
}

class PlanMemoryPass : public graphopt::impl::GraphOptPlanMemoryBase<PlanMemoryPass> {
public:
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    Block &block = func.getBody().front();
    MLIRContext *ctx = &getContext();

    // 1. Steps.
    DenseMap<Operation *, int64_t> step;
    for (Operation &op : block)
      step[&op] = step.size();

    // 2. Storage sets.
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

    // 3. Live interval and ownership per set leader.
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

    // 4. In place. The arena owner of each set (null when several).
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
      if (llvm::all_of(inPlace, [](int64_t i) { return i < 0; }))
        continue;
      for (auto [r, in] : llvm::zip(op.getResults(), inPlace)) {
        if (in < 0)
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

    // 5. Requests and packing.
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
