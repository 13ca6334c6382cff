//===- RowStash.cpp - which row values a CPU kernel keeps in local arrays -===//
//
// In a kernel with row reductions (softmax, a LayerNorm) each reduction is a
// pass over the row, and a later pass would recompute what an earlier one
// computed. The CPU emitter stores values worth more than a load that several
// passes use in a row-long local array (softmax's exp, a LayerNorm's output);
// the cost model counts the FLOPs of the code that results.
//
//===----------------------------------------------------------------------===//
#include "csrc/costmodel/CostModel.h"
#include "csrc/dialect/GraphOpt.h"

using namespace mlir;
using namespace graphopt;

namespace {

/// Each row reduction's input, in body order, then the row's outputs.
SmallVector<SmallVector<Value>> rowPasses(Block &body, ArrayRef<int64_t> domain) {
  SmallVector<SmallVector<Value>> passes;
  for (Operation &op : body.without_terminator())
    if (isRowReduction(&op, domain))
      passes.push_back({op.getOperand(0)});
  if (passes.empty())
    return passes;
  passes.emplace_back();
  for (Value v : body.getTerminator()->getOperands())
    if (!isRowShape(shapeOf(v), domain))
      passes.back().push_back(v);
  return passes;
}

/// The per-element cost of all passes if `stashed` are stashed: a pass
/// computes what it reaches from its roots, down to loads (block arguments,
/// values an earlier pass stashed), row values (computed before the row)
/// and reductions; a stashed value it computes first it also stores. Loads
/// and stores count one each.
double passCost(ArrayRef<SmallVector<Value>> passes, ArrayRef<int64_t> domain,
                const llvm::DenseSet<Value> &stashed) {
  llvm::DenseSet<Value> written;
  double total = 0;
  for (ArrayRef<Value> pass : passes) {
    llvm::DenseSet<Value> seen, writtenHere;
    SmallVector<Value> work(pass);
    while (!work.empty()) {
      Value v = work.pop_back_val();
      if (!seen.insert(v).second)
        continue;
      Operation *op = v.getDefiningOp();
      if (!op || written.contains(v)) {
        total += 1; // a load
        continue;
      }
      if (isRowShape(shapeOf(v), domain))
        continue;
      total += flopsPerElement(op);
      if (stashed.contains(v)) {
        total += 1; // the store
        writtenHere.insert(v);
      }
      if (!isa<ReduceSumOp, ReduceMaxOp>(op))
        for (Value in : op->getOperands())
          work.push_back(in);
    }
    written.insert(writtenHere.begin(), writtenHere.end());
  }
  return total;
}

} // namespace

llvm::DenseSet<Value> graphopt::rowStash(Block &body, ArrayRef<int64_t> domain) {
  static constexpr int64_t kMaxBytes = 64 << 10; // stays in L1/L2
  llvm::DenseSet<Value> chosen;
  if (domain.empty() || domain.back() <= 1)
    return chosen;
  SmallVector<SmallVector<Value>> passes = rowPasses(body, domain);
  if (passes.empty())
    return chosen;
  // Greedily from the last value back: a value is stashed when that makes
  // the passes cheaper, given what is stashed after it.
  double best = passCost(passes, domain, chosen);
  int64_t slotBytes = domain.back() * 8;
  int64_t bytes = 0;
  SmallVector<Operation *> ops;
  for (Operation &op : body.without_terminator())
    ops.push_back(&op);
  for (Operation *op : llvm::reverse(ops)) {
    if (op->getNumResults() != 1 || flopsPerElement(op) == 0 ||
        isa<ReduceSumOp, ReduceMaxOp>(op) ||
        shapeOf(op->getResult(0)) != domain || bytes + slotBytes > kMaxBytes)
      continue;
    chosen.insert(op->getResult(0));
    double c = passCost(passes, domain, chosen);
    if (c < best) {
      best = c;
      bytes += slotBytes;
    } else {
      chosen.erase(op->getResult(0));
    }
  }
  return chosen;
}
