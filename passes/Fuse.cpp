//===- Fuse.cpp - graphopt-fuse -------------------------------------------===//
//
// Groups elementwise producer->consumer chains, and reductions with their
// elementwise prologue and epilogue, into graphopt.kernel ops. The algorithm,
// in steps:
//
//   1. Duplicate views and constants per use, so each consumer owns a copy;
//      likewise one-FLOP elementwise ops of a tensor computed elsewhere
//      (x - mean in a BatchNorm) that several fusible ops use: recomputing
//      them in each consumer's kernel costs a re-read, writing them costs a
//      write and a read.
//   2. Walk the ops from last to first; an ungrouped elementwise op or
//      reduction roots a group. A pointwise group may also take in private
//      reductions over the innermost dim of its rows (softmax, layer norm):
//      the emitter computes them per row before the row's loop; or one
//      reduction whose result has the group's shape, as the reduction's
//      epilogue (BatchNorm's mean = sum / N, rstd = rsqrt(var / N + eps)):
//      the emitter computes it per output element, then the pointwise ops.
//   3. Grow the group over its producers, latest first (so a producer's
//      in-group users are known before it is judged), taking a producer when
//      its uses are all inside the group or it has the group's iteration
//      shape, and no path through outside ops (earlier groups contracted to
//      one node each) links it with the group.
//   4. Turn each group into a kernel op and re-sort the block.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/Analysis/TopologicalSortUtils.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/Support/Debug.h"

#include <queue>

#define DEBUG_TYPE "graphopt-fuse"

namespace graphopt {
#define GEN_PASS_DEF_GRAPHOPTFUSE
#include "passes/Passes.h.inc"
} // namespace graphopt

using namespace mlir;
using namespace graphopt;

namespace {

bool isReduction(Operation *op) { return isa<ReduceSumOp, ReduceMaxOp>(op); }

/// Cheap to recompute per consumer: views become index math, constants
/// become literals.
bool isDuplicable(Operation *op) {
  return isIndexView(op) || isa<ConstantOp>(op);
}

/// Ops that start a group. Views and constants alone are not worth a kernel:
/// the runtime keeps them as torch views.
bool isRoot(Operation *op) {
  return isReduction(op) ||
         (isElementwise(op) && !isa<BroadcastOp>(op));
}

bool isFusibleProducer(Operation *op) {
  return isElementwise(op) || isDuplicable(op) || isReduction(op);
}

struct Group {
  Operation *root;
  SmallVector<int64_t> domain; // iteration shape
  llvm::SmallPtrSet<Operation *, 16> members;
  /// Whether a row reduction, or one reduction of the group's shape, was
  /// taken in (after the latter the group takes no other reduction: inside
  /// its loop, another would be computed once per element it reads).
  bool hasRowReduction = false;
  bool hasDomainReduction = false;
};

class FusePass : public graphopt::impl::GraphOptFuseBase<FusePass> {
public:
  void runOnOperation() override {
    // The pass object runs once per function: no state from the last one.
    position.clear();
    groupOf.clear();
    groupMembers.clear();
    Block &block = getOperation().getBody().front();
    duplicatePerUse(block, recomputeInUsers);
    duplicatePerUse(block, isDuplicable);

    for (auto [i, op] : llvm::enumerate(block.getOperations()))
      position[&op] = i;

    SmallVector<Group> groups;
    SmallVector<Operation *> ops;
    for (Operation &op : block)
      ops.push_back(&op);
    for (Operation *op : llvm::reverse(ops)) {
      if (groupOf.count(op) || !isRoot(op))
        continue;
      groups.push_back(growGroup(op, groups.size()));
      groupMembers.emplace_back(groups.back().members.begin(),
                                groups.back().members.end());
    }

    for (Group &g : groups)
      materialize(g);
    if (!sortTopologically(&block)) {
      getOperation().emitError("graphopt-fuse produced a cycle (a bug)");
      return signalPassFailure();
    }
  }

private:
  DenseMap<Operation *, int64_t> position;
  DenseMap<Operation *, size_t> groupOf;
  std::vector<SmallVector<Operation *>> groupMembers; // of finished groups

  /// One FLOP per element, so recomputing is cheaper than a round trip
  /// through memory.
  static bool isCheap(Operation *op) {
    return isa<AddOp, SubOp, MulOp, NegOp, AbsOp, ReluOp, CastOp, MaxOp, MinOp,
               CmpOp, WhereOp>(op);
  }

  /// Whether `op` should be recomputed in each consumer rather than written
  /// once: it is cheap, all its users are fusible (a matmul or extern user
  /// needs it in memory anyway), and at most one operand is as large as the
  /// result, computed by something that is not itself recomputed (so copies
  /// never multiply along a chain).
  static bool recomputeInUsers(Operation *op) {
    if (!isCheap(op) || op->getNumResults() != 1 || op->getResult(0).hasOneUse() ||
        op->getResult(0).use_empty())
      return false;
    if (!llvm::all_of(op->getUsers(), [](Operation *u) {
          return isElementwise(u) || isReduction(u);
        }))
      return false;
    auto size = [](Value v) {
      return cast<RankedTensorType>(v.getType()).getNumElements();
    };
    int64_t full = 0;
    for (Value v : op->getOperands()) {
      if (size(v) < size(op->getResult(0)))
        continue;
      ++full;
      Operation *def = v.getDefiningOp();
      while (def && isIndexView(def))
        def = def->getOperand(0).getDefiningOp();
      if (def && isElementwise(def))
        return false;
    }
    return full <= 1;
  }

  /// Gives each use of every op `shouldCopy` accepts a copy of its own.
  template <typename Predicate>
  static void duplicatePerUse(Block &block, Predicate shouldCopy) {
    for (Operation &op : llvm::make_early_inc_range(block)) {
      if (op.getNumResults() != 1 || !shouldCopy(&op))
        continue;
      SmallVector<OpOperand *> uses;
      for (OpOperand &use : op.getResult(0).getUses())
        uses.push_back(&use);
      for (size_t i = 1; i < uses.size(); ++i) {
        OpBuilder b(&op);
        b.setInsertionPointAfter(&op);
        uses[i]->set(b.clone(op)->getResult(0));
      }
    }
  }

  Group growGroup(Operation *root, size_t id) {
    Group g;
    g.root = root;
    Value domainValue = isReduction(root) ? root->getOperand(0)
                                          : root->getResult(0);
    g.domain.assign(shapeOf(domainValue).begin(), shapeOf(domainValue).end());
    g.members.insert(root);
    groupOf[root] = id;

    auto later = [&](Operation *a, Operation *b) {
      return position[a] < position[b];
    };
    std::priority_queue<Operation *, std::vector<Operation *>, decltype(later)>
        work(later);
    llvm::SmallPtrSet<Operation *, 16> queued;
    auto pushProducers = [&](Operation *op) {
      for (Value v : op->getOperands())
        if (Operation *p = v.getDefiningOp())
          if (p->getBlock() == root->getBlock() && queued.insert(p).second)
            work.push(p);
    };
    pushProducers(root);

    while (!work.empty()) {
      Operation *p = work.top();
      work.pop();
      if (groupOf.count(p) || !isFusibleProducer(p) || p->getNumResults() != 1)
        continue;
      bool private_ = llvm::all_of(p->getUsers(), [&](Operation *u) {
        return g.members.contains(u);
      });
      // Row reductions (softmax, layer norm) join pointwise groups whose
      // rows they reduce; one reduction of the group's shape joins a group
      // with no other reduction as its epilogue's input.
      bool rowReduction = isRowReduction(p, g.domain);
      bool domainReduction = isDomainReduction(p, g.domain);
      if (isReduction(p) &&
          (isReduction(root) || g.hasDomainReduction ||
           !(rowReduction || (domainReduction && !g.hasRowReduction))))
        continue;
      if (!private_) {
        // Escaping values are extra outputs of the same kernel: of the
        // group's iteration shape (written in the loop), or of its row shape
        // (written once per row: the mean and rstd a training LayerNorm
        // saves); reductions keep one output.
        ArrayRef<int64_t> shape = shapeOf(p->getResult(0));
        if (isReduction(root) || (shape != ArrayRef<int64_t>(g.domain) &&
                                  !isRowShape(shape, g.domain)))
          continue;
      }
      if (createsCycle(p, g))
        continue;
      g.members.insert(p);
      groupOf[p] = id;
      g.hasRowReduction |= rowReduction;
      g.hasDomainReduction |= domainReduction;
      pushProducers(p);
    }
    LLVM_DEBUG(llvm::dbgs() << "group " << id << " rooted at " << *root
                            << " has " << g.members.size() << " ops\n");
    return g;
  }

  /// Taking `p` into `g` makes a cycle if an outside op depends on `p` and
  /// the group depends on that op, or an outside op depends on the group and
  /// `p` depends on that op. Groups formed earlier will each become one
  /// kernel op, so they count as one node: reaching any of their members
  /// reaches all of them. (That contraction is also why the searches cannot
  /// stop at the group's position range.)
  bool createsCycle(Operation *p, const Group &g) {
    auto expand = [&](Operation *op, SmallVectorImpl<Operation *> &stack) {
      auto it = groupOf.find(op);
      if (it != groupOf.end() && !g.members.contains(op))
        for (Operation *m : groupMembers[it->second])
          stack.push_back(m);
    };
    // Forward: p -> outside op(s) -> member.
    SmallVector<Operation *> stack;
    llvm::SmallPtrSet<Operation *, 32> seen;
    for (Operation *u : p->getUsers())
      if (!g.members.contains(u))
        stack.push_back(u);
    while (!stack.empty()) {
      Operation *op = stack.pop_back_val();
      if (!seen.insert(op).second)
        continue;
      expand(op, stack);
      for (Operation *u : op->getUsers()) {
        if (g.members.contains(u))
          return true;
        stack.push_back(u);
      }
    }
    // Backward: member -> outside op(s) -> p.
    seen.clear();
    for (Value v : p->getOperands())
      if (Operation *d = v.getDefiningOp())
        if (!g.members.contains(d))
          stack.push_back(d);
    while (!stack.empty()) {
      Operation *op = stack.pop_back_val();
      if (!seen.insert(op).second)
        continue;
      expand(op, stack);
      for (Value v : op->getOperands()) {
        Operation *d = v.getDefiningOp();
        if (!d)
          continue;
        if (g.members.contains(d))
          return true;
        stack.push_back(d);
      }
    }
    return false;
  }

  void materialize(Group &g) {
    SmallVector<Operation *> members(g.members.begin(), g.members.end());
    llvm::sort(members, [&](Operation *a, Operation *b) {
      return position[a] < position[b];
    });

    llvm::SetVector<Value> inputs;
    SmallVector<Value> outputs;
    for (Operation *op : members) {
      for (Value v : op->getOperands()) {
        Operation *d = v.getDefiningOp();
        if (!d || !g.members.contains(d))
          inputs.insert(v);
      }
      Value r = op->getResult(0);
      bool escapes = op == g.root || llvm::any_of(r.getUsers(), [&](Operation *u) {
                       return !g.members.contains(u);
                     });
      if (escapes)
        outputs.push_back(r);
    }

    OpBuilder b(g.root);
    SmallVector<Type> resultTypes;
    for (Value v : outputs)
      resultTypes.push_back(v.getType());
    auto kernel = KernelOp::create(b, g.root->getLoc(), resultTypes,
                                     inputs.getArrayRef());
    Block *body = b.createBlock(&kernel.getBody());
    IRMapping map;
    for (Value v : inputs)
      map.map(v, body->addArgument(v.getType(), v.getLoc()));
    b.setInsertionPointToStart(body);
    for (Operation *op : members)
      b.clone(*op, map);
    SmallVector<Value> yielded;
    for (Value v : outputs)
      yielded.push_back(map.lookup(v));
    YieldOp::create(b, g.root->getLoc(), yielded);

    for (auto [v, r] : llvm::zip(outputs, kernel.getResults()))
      v.replaceUsesWithIf(r, [&](OpOperand &use) {
        return !g.members.contains(use.getOwner());
      });
    for (Operation *op : llvm::reverse(members))
      op->erase();
  }
};

} // namespace
