//===- CostPass.cpp - graphopt-cost: a per-step cost table ----------------===//
//
// `graphopt-opt --graphopt-pipeline --graphopt-cost=target=h100-sxm` prints
// the predicted cost of each kernel of each function; on unfused IR every op
// is its own kernel, which is the eager view. The IR is left unchanged.
//
//===----------------------------------------------------------------------===//
#include "csrc/costmodel/CostModel.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassRegistry.h"

using namespace mlir;
using namespace graphopt;

namespace {

struct CostPass : PassWrapper<CostPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(CostPass)

  CostPass() = default;
  CostPass(const CostPass &other) : PassWrapper(other) {}

  StringRef getArgument() const final { return "graphopt-cost"; }
  StringRef getDescription() const final {
    return "Print FLOPs, bytes and roofline time of each kernel on a target";
  }

  Option<std::string> target{
      *this, "target",
      llvm::cl::desc("a built-in target (h100-sxm, a100-sxm-80gb) or a path "
                     "to a target .json file"),
      llvm::cl::init("h100-sxm")};

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

void graphopt::registerCostPass() { PassRegistration<CostPass>(); }
