//===- CostPass.cpp - graphopt-cost: a per-step cost table ----------------===//
//
// `graphopt-opt --graphopt-pipeline --graphopt-cost=target=h100-sxm` prints
// the predicted cost of each kernel of each function; on unfused IR every op
// is its own kernel, which is the eager view. The IR is left unchanged.
//
//===----------------------------------------------------------------------===//
#include "csrc/costmodel/CostModel.h"
#include "passes/Passes.h"

#include "mlir/IR/BuiltinOps.h"

namespace graphopt {
#define GEN_PASS_DEF_GRAPHOPTCOST
#include "passes/Passes.h.inc"
} // namespace graphopt

using namespace mlir;
using namespace graphopt;

namespace {

struct CostPass : graphopt::impl::GraphOptCostBase<CostPass> {
  using GraphOptCostBase::GraphOptCostBase;

  LogicalResult initialize(MLIRContext *context) override {
    llvm::Expected<Target> t = resolveTarget(target);
    if (!t)
      return emitError(UnknownLoc::get(context))
             << "graphopt-cost: " << llvm::toString(t.takeError());
    resolved = std::move(*t);
    return success();
  }

  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      llvm::outs() << "// @" << func.getSymName() << "\n";
      printCostTable(llvm::outs(), resolved, costOfSteps(func, resolved),
                     nullptr);
    }
    markAllAnalysesPreserved();
  }

private:
  Target resolved;
};

} // namespace
