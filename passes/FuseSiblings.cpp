//===- FuseSiblings.cpp - graphopt-fuse-siblings --------------------------===//
//
// Horizontal fusion of reduction kernels. Two kernels that reduce inputs of
// one shape over the same dims (a BatchNorm backward's sum(dy) and
// sum(dy * x_hat), a LayerNorm backward's bias and weight gradients) and
// read a common input of that shape become one kernel, which the emitters
// compute in one loop nest: the shared input is read once, not twice, and
// one launch goes. In steps:
//
//   1. Walk the kernels in op order; a kernel whose reductions all have its
//      iteration shape (a reduction kernel, with or without an epilogue)
//      looks for a later sibling: same reduction structure, a shared input
//      of the reduced shape, and no path from the first to the second (the
//      merged kernel could not be placed).
//   2. Merge the pair: one kernel with both bodies, the operands of both
//      (each once), the results of the first then the second's; it takes
//      the second's place and may take another sibling.
//   3. Re-sort the block: users of the first kernel's results that came
//      before the second now follow the merged kernel.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/Analysis/TopologicalSortUtils.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/SetVector.h"

namespace graphopt {
#define GEN_PASS_DEF_GRAPHOPTFUSESIBLINGS
#include "passes/Passes.h.inc"
} // namespace graphopt

using namespace mlir;
using namespace graphopt;

namespace {

/// The shape of a reduction kernel's loops: the input shape, reduced dims
/// and result shape its reductions share, or nothing when the kernel is not
/// a reduction kernel (pointwise, row reductions, or reductions of
/// different shapes).
struct ReductionShape {
  SmallVector<int64_t> input, dims, result;
  bool operator==(const ReductionShape &o) const {
    return input == o.input && dims == o.dims && result == o.result;
  }
};

std::optional<ReductionShape> reductionShape(KernelOp kernel) {
  Block &body = kernel.getBody().front();
  SmallVector<int64_t> domain = kernelDomain(body);
  std::optional<ReductionShape> shape;
  for (Operation &op : body.without_terminator()) {
    if (!isa<ReduceSumOp, ReduceMaxOp>(op))
      continue;
    if (!isDomainReduction(&op, domain))
      return std::nullopt;
    ArrayRef<int64_t> dims = isa<ReduceSumOp>(op)
                                 ? cast<ReduceSumOp>(op).getDims()
                                 : cast<ReduceMaxOp>(op).getDims();
    ReductionShape s{SmallVector<int64_t>(shapeOf(op.getOperand(0))),
                     SmallVector<int64_t>(dims),
                     SmallVector<int64_t>(shapeOf(op.getResult(0)))};
    if (shape && !(*shape == s))
      return std::nullopt;
    shape = std::move(s);
  }
  // Every output of the reduced shape (no row-shaped outputs).
  if (shape && !llvm::all_of(kernel.getResults(), [&](Value r) {
        return shapeOf(r) == ArrayRef<int64_t>(shape->result);
      }))
    return std::nullopt;
  return shape;
}

/// Whether `to` uses a value computed from `from`'s results. Ops are in
/// topological order, so the search stops at `to`'s position.
bool reaches(KernelOp from, KernelOp to) {
  SmallVector<Operation *> stack(from->getUsers().begin(), from->getUsers().end());
  llvm::SmallPtrSet<Operation *, 32> seen;
  while (!stack.empty()) {
    Operation *op = stack.pop_back_val();
    if (op == to)
      return true;
    if (!seen.insert(op).second || to->isBeforeInBlock(op))
      continue;
    stack.append(op->getUsers().begin(), op->getUsers().end());
  }
  return false;
}

/// `a` and `b` (a before b) reduce alike, read a common input of the
/// reduced shape, and b does not depend on a.
bool areSiblings(KernelOp a, KernelOp b) {
  std::optional<ReductionShape> sa = reductionShape(a), sb = reductionShape(b);
  if (!sa || !sb || !(*sa == *sb))
    return false;
  bool shared = llvm::any_of(a->getOperands(), [&](Value v) {
    return shapeOf(v) == ArrayRef<int64_t>(sa->input) &&
           llvm::is_contained(b->getOperands(), v);
  });
  return shared && !reaches(a, b);
}

/// One kernel computing `a`'s and `b`'s results, in `b`'s place.
KernelOp merge(KernelOp a, KernelOp b) {
  llvm::SetVector<Value> inputs;
  inputs.insert(a->operand_begin(), a->operand_end());
  inputs.insert(b->operand_begin(), b->operand_end());
  SmallVector<Type> types(a->getResultTypes());
  llvm::append_range(types, b->getResultTypes());
  OpBuilder builder(b);
  auto kernel = KernelOp::create(builder, b.getLoc(), types, inputs.getArrayRef());
  Block *body = builder.createBlock(&kernel.getBody());
  DenseMap<Value, Value> argOf;
  for (Value v : inputs)
    argOf[v] = body->addArgument(v.getType(), v.getLoc());
  builder.setInsertionPointToStart(body);
  SmallVector<Value> yielded;
  for (KernelOp k : {a, b}) {
    Block &old = k.getBody().front();
    IRMapping map;
    for (auto [arg, v] : llvm::zip(old.getArguments(), k->getOperands()))
      map.map(arg, argOf[v]);
    for (Operation &op : old.without_terminator())
      builder.clone(op, map);
    for (Value v : old.getTerminator()->getOperands())
      yielded.push_back(map.lookup(v));
  }
  YieldOp::create(builder, b.getLoc(), yielded);
  unsigned n = a->getNumResults();
  a->replaceAllUsesWith(kernel->getResults().take_front(n));
  b->replaceAllUsesWith(kernel->getResults().drop_front(n));
  a->erase();
  b->erase();
  return kernel;
}

class FuseSiblingsPass
    : public graphopt::impl::GraphOptFuseSiblingsBase<FuseSiblingsPass> {
public:
  void runOnOperation() override {
    Block &block = getOperation().getBody().front();
    SmallVector<KernelOp> kernels(block.getOps<KernelOp>());
    bool merged = false;
    for (size_t i = 0; i < kernels.size(); ++i)
      for (size_t j = i + 1; kernels[i] && j < kernels.size(); ++j)
        if (kernels[j] && areSiblings(kernels[i], kernels[j])) {
          // The merged kernel, in the later one's place, meets the kernels
          // after it when the walk gets there.
          kernels[j] = merge(kernels[i], kernels[j]);
          kernels[i] = nullptr;
          merged = true;
        }
    if (merged && !sortTopologically(&block)) {
      getOperation().emitError("graphopt-fuse-siblings produced a cycle (a bug)");
      return signalPassFailure();
    }
  }
};

} // namespace
