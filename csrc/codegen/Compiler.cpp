//===- Compiler.cpp - parse, optimize, emit -------------------------------===//
#include "csrc/codegen/Compiler.h"
#include "csrc/codegen/Codegen.h"
#include "csrc/costmodel/CostModel.h"
#include "passes/Passes.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassInstrumentation.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/SourceMgr.h"

using namespace mlir;
using namespace graphopt;

namespace {

/// Records the module after each pass instead of printing it.
class CapturingPrinter : public PassManager::IRPrinterConfig {
public:
  explicit CapturingPrinter(std::vector<PassSnapshot> &out)
      : IRPrinterConfig(/*printModuleScope=*/true), out(out) {}
  void printAfterIfEnabled(Pass *pass, Operation *op,
                           PrintCallbackFn printCallback) override {
    std::string s;
    llvm::raw_string_ostream os(s);
    printCallback(os);
    out.push_back({pass->getArgument().str(), s});
  }

private:
  std::vector<PassSnapshot> &out;
};

/// Remembers which pass failed, for the repro and the error message.
class FailureRecorder : public PassInstrumentation {
public:
  explicit FailureRecorder(std::string &out) : out(out) {}
  void runAfterPassFailed(Pass *pass, Operation *) override {
    if (out.empty())
      out = pass->getArgument().str();
  }

private:
  std::string &out;
};

/// `file:line:col` like a compiler, `name (file:line:col)` for FX nodes.
std::string formatLoc(Location loc) {
  if (auto f = dyn_cast<FileLineColLoc>(loc))
    return (f.getFilename().str() + ":" + std::to_string(f.getLine()) + ":" +
            std::to_string(f.getColumn()));
  if (auto n = dyn_cast<NameLoc>(loc)) {
    std::string inner = formatLoc(n.getChildLoc());
    return n.getName().str() + (inner.empty() ? "" : " (" + inner + ")");
  }
  if (auto c = dyn_cast<CallSiteLoc>(loc))
    return formatLoc(c.getCallee());
  if (auto f = dyn_cast<FusedLoc>(loc))
    return f.getLocations().empty() ? "" : formatLoc(f.getLocations().front());
  return "";
}

std::string printOp(Operation *op) {
  std::string s;
  llvm::raw_string_ostream os(s);
  op->print(os);
  return s;
}

} // namespace

std::string graphopt::pipelineDescription() {
  OpPassManager pm("builtin.module");
  buildGraphOptPipeline(pm);
  std::string s;
  llvm::raw_string_ostream os(s);
  pm.printAsTextualPipeline(os);
  return s;
}

Artifact graphopt::compileModule(const std::string &mlirText,
                                 const CompileOptions &options) {
  DialectRegistry registry;
  registerGraphOptDialects(registry);
  MLIRContext context(registry, MLIRContext::Threading::DISABLED);
  context.loadAllAvailableDialects();

  std::string diagnostics;
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diag) {
    llvm::raw_string_ostream os(diagnostics);
    os << formatLoc(diag.getLocation()) << ": "
       << (diag.getSeverity() == DiagnosticSeverity::Error ? "error: "
                                                           : "note: ")
       << diag << "\n";
    for (Diagnostic &note : diag.getNotes())
      os << formatLoc(note.getLocation()) << ": note: " << note << "\n";
    return success();
  });

  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(mlirText, "graph.mlir"),
      llvm::SMLoc());
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(sourceMgr, &context);
  if (!module)
    throw CompileError("parsing the imported module failed:\n" + diagnostics,
                       "parse");

  auto funcs = module->getOps<func::FuncOp>();
  if (std::distance(funcs.begin(), funcs.end()) != 1)
    throw CompileError("expected exactly one func.func in the module", "parse");

  // The eager baseline is costed on the imported IR, before any pass.
  std::vector<Target> targets;
  std::vector<PlanCost> eager;
  for (const std::string &json : options.targets) {
    llvm::Expected<Target> t = parseTarget(json);
    if (!t)
      throw CompileError(llvm::toString(t.takeError()), "cost");
    eager.push_back(costOfEager(*module->getOps<func::FuncOp>().begin(), *t));
    targets.push_back(std::move(*t));
  }

  Artifact artifact;
  PassManager pm(&context);
  buildGraphOptPipeline(pm);
  if (options.capturePasses)
    pm.enableIRPrinting(std::make_unique<CapturingPrinter>(artifact.passes));
  std::string failedPass;
  pm.addInstrumentation(std::make_unique<FailureRecorder>(failedPass));
  if (failed(pm.run(*module)))
    throw CompileError("pass '" + failedPass + "' failed:\n" + diagnostics,
                       failedPass);

  artifact.optimizedIR = printOp(*module);
  func::FuncOp func = *module->getOps<func::FuncOp>().begin();

  FailureOr<std::string> source = emitCpuKernels(func);
  if (failed(source))
    throw CompileError("emitting CPU kernels failed:\n" + diagnostics, "emit");
  FailureOr<std::string> plan = buildLaunchPlan(func);
  if (failed(plan))
    throw CompileError("building the launch plan failed:\n" + diagnostics,
                       "emit");
  FailureOr<std::string> cuda = emitCudaKernels(func);
  if (failed(cuda))
    throw CompileError("emitting CUDA kernels failed:\n" + diagnostics, "emit");
  artifact.cudaSource = std::move(*cuda);
  artifact.cpuSource = std::move(*source);
  artifact.planJson = std::move(*plan);

  llvm::json::Array costs;
  llvm::raw_string_ostream table(artifact.costTable);
  for (auto [target, base] : llvm::zip(targets, eager)) {
    PlanCost compiled = costOfSteps(func, target);
    costs.push_back(costJson(target, base, compiled));
    printCostTable(table, target, compiled, &base);
  }
  artifact.costJson = llvm::formatv("{0:2}", llvm::json::Value(std::move(costs)));
  return artifact;
}
