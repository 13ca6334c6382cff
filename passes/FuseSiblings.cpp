//===- FuseSiblings.cpp - graphopt-fuse-siblings --------------------------===//
//
// Kernel-level fusion of what graphopt-fuse's groups leave apart:
//
//  - Sibling reductions: two kernels that reduce inputs of one shape over
//    the same dims (a BatchNorm backward's sum(dy) and sum(dy * x_hat), a
//    LayerNorm backward's bias and weight gradients) and read a common input
//    of that shape become one kernel, which the emitters compute in one loop
//    nest: the shared input is read once, not twice.
//  - Tiny kernels: a pointwise kernel of at most kTinyElements outputs joins
//    another kernel of the same iteration shape, pointwise or a reduction
//    kernel, that it reads (an epilogue graphopt-fuse gave another consumer
//    of the same sum) or that it is independent of (BatchNorm's two
//    running-statistic updates). Such kernels cost their launch, not their
//    loop.
//
// In steps:
//
//   1. Walk the kernels in op order; each looks for a later partner as
//      above, linked to it by no path of uses but the partner's direct reads
//      of its results (otherwise the merged kernel would depend on itself).
//   2. Merge the pair: one kernel with both bodies, the operands of both
//      (each once; the later kernel's reads of the earlier's results become
//      the values inside), the earlier kernel's results that are still used
//      elsewhere, then the later's; it takes the later's place and may take
//      another partner.
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

/// Pointwise kernels of at most this many outputs are launch-bound.
constexpr int64_t kTinyElements = 4096;

/// Whether a path of uses leads from `from`'s results to `to`; with
/// `direct` false, not counting `to`'s own reads of `from`'s results (what a
/// merge absorbs). The walk is not bounded by block order: merged kernels
/// take the later kernel's place, so until the final sort some users precede
/// the values they read.
bool reaches(Operation *from, Operation *to, bool direct) {
  SmallVector<Operation *> stack;
  for (Operation *u : from->getUsers())
    if (direct || u != to)
      stack.push_back(u);
  llvm::SmallPtrSet<Operation *, 32> seen;
  while (!stack.empty()) {
    Operation *op = stack.pop_back_val();
    if (op == to)
      return true;
    if (seen.insert(op).second)
      stack.append(op->getUsers().begin(), op->getUsers().end());
  }
  return false;
}

bool usesResultOf(KernelOp user, KernelOp producer) {
  return llvm::any_of(user->getOperands(),
                      [&](Value v) { return v.getDefiningOp() == producer; });
}

/// `a` and `b` (a before b) reduce alike and read a common input of the
/// reduced shape, and b does not read a's results.
bool areSiblingReductions(KernelOp a, KernelOp b) {
  std::optional<ReductionShape> sa = reductionShape(a), sb = reductionShape(b);
  if (!sa || !sb || !(*sa == *sb) || usesResultOf(b, a))
    return false;
  return llvm::any_of(a->getOperands(), [&](Value v) {
    return shapeOf(v) == ArrayRef<int64_t>(sa->input) &&
           llvm::is_contained(b->getOperands(), v);
  });
}

/// The iteration shape of a kernel whose outputs all have it, pointwise or
/// a reduction kernel (not row reductions), or nothing.
std::optional<SmallVector<int64_t>> plainDomain(KernelOp k) {
  Block &body = k.getBody().front();
  SmallVector<int64_t> domain = kernelDomain(body);
  bool plain = llvm::all_of(k.getResults(), [&](Value r) {
    return shapeOf(r) == ArrayRef<int64_t>(domain);
  });
  if (!plain || (!isPointwiseBody(body) && !reductionShape(k)))
    return std::nullopt;
  return domain;
}

/// One of `a` and `b` (a before b) is a tiny pointwise kernel, the other
/// has its iteration shape.
bool areTinyPartners(KernelOp a, KernelOp b) {
  std::optional<SmallVector<int64_t>> da = plainDomain(a), db = plainDomain(b);
  if (!da || !db || *da != *db)
    return false;
  int64_t n = 1;
  for (int64_t d : *da)
    n *= d;
  return n <= kTinyElements && (isPointwiseBody(a.getBody().front()) ||
                                isPointwiseBody(b.getBody().front()));
}

/// Merging needs b to read nothing computed from a except a's results
/// themselves, and a to read nothing computed from b.
bool shouldMerge(KernelOp a, KernelOp b) {
  return (areSiblingReductions(a, b) || areTinyPartners(a, b)) &&
         !reaches(a, b, /*direct=*/false) && !reaches(b, a, /*direct=*/true);
}

/// One kernel computing `a`'s and `b`'s results, in `b`'s place.
KernelOp merge(KernelOp a, KernelOp b) {
  llvm::SetVector<Value> inputs;
  inputs.insert(a->operand_begin(), a->operand_end());
  for (Value v : b->getOperands())
    if (v.getDefiningOp() != a)
      inputs.insert(v);
  // a's results b alone reads are not outputs any more.
  SmallVector<Value> kept;
  for (Value r : a->getResults())
    if (llvm::any_of(r.getUsers(), [&](Operation *u) { return u != b; }))
      kept.push_back(r);
  SmallVector<Type> types;
  for (Value r : kept)
    types.push_back(r.getType());
  llvm::append_range(types, b->getResultTypes());
  OpBuilder builder(b);
  auto kernel = KernelOp::create(builder, b.getLoc(), types, inputs.getArrayRef());
  Block *body = builder.createBlock(&kernel.getBody());
  IRMapping outer; // values outside -> the merged body's
  for (Value v : inputs)
    outer.map(v, body->addArgument(v.getType(), v.getLoc()));
  builder.setInsertionPointToStart(body);
  auto inlineBody = [&](KernelOp k) {
    Block &old = k.getBody().front();
    IRMapping map;
    for (auto [arg, v] : llvm::zip(old.getArguments(), k->getOperands()))
      map.map(arg, outer.lookup(v));
    for (Operation &op : old.without_terminator())
      builder.clone(op, map);
    SmallVector<Value> yielded;
    for (Value v : old.getTerminator()->getOperands())
      yielded.push_back(map.lookup(v));
    return yielded;
  };
  SmallVector<Value> fromA = inlineBody(a);
  for (auto [r, v] : llvm::zip(a->getResults(), fromA))
    outer.map(r, v);
  SmallVector<Value> fromB = inlineBody(b);
  SmallVector<Value> yielded;
  for (Value r : kept)
    yielded.push_back(outer.lookup(r));
  llvm::append_range(yielded, fromB);
  YieldOp::create(builder, b.getLoc(), yielded);
  for (auto [r, m] : llvm::zip(kept, kernel->getResults()))
    r.replaceAllUsesWith(m);
  b->replaceAllUsesWith(kernel->getResults().drop_front(kept.size()));
  b->erase();
  a->erase();
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
        if (kernels[j] && shouldMerge(kernels[i], kernels[j])) {
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
