//===- PlanMemory.cpp - graphopt-plan-memory ------------------------------===//
//
// Liveness -> arena offsets. Steps:
//
//   1. Number the function's top-level ops.
//   2. Union values that may share storage: a view (reshape, permute,
//      broadcast left outside kernels) with its operand, an extern's results
//      with its tensor operands (torch may return views).
//   3. A storage set is live from its first definition to its last use. Sets
//      holding a function argument's or a returned value's storage stay out
//      of the arena: the caller owns those.
//   4. Buffers created by kernels and contractions get a request each, with
//      their set's interval; planMemory() packs them.
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
      if (isa<ReshapeOp, PermuteOp, BroadcastOp>(op))
        sets.unionSets(op.getResult(0), op.getOperand(0));
      if (isa<ExternOp>(op))
        for (Value r : op.getResults())
          for (Value in : op.getOperands())
            if (isa<TensorType>(in.getType()))
              sets.unionSets(r, in);
    }

    // 3. Live interval and ownership per set leader.
    struct SetInfo {
      int64_t start = INT64_MAX, end = -1;
      bool external = false;
    };
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

    // 4. Requests and packing.
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
        requests.push_back({*bytes, si.start, si.end});
        planned.push_back(r);
      }
    }
    MemoryPlan plan = planMemory(requests, alignment);

    DenseMap<Value, int64_t> offsetOf;
    for (auto [v, off] : llvm::zip(planned, plan.offsets))
      offsetOf[v] = off;
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
