//===- TestPrintCpuKernels.cpp - graphopt-test-print-cpu-kernels ----------===//
//
// A test-only pass: prints the C++ the CPU emitter writes for each function,
// so lit tests can FileCheck the emitter the way they check passes.
//
//===----------------------------------------------------------------------===//
#include "csrc/codegen/Codegen.h"

#include "mlir/Pass/Pass.h"

using namespace mlir;

namespace {
struct TestPrintCpuKernelsPass
    : PassWrapper<TestPrintCpuKernelsPass, OperationPass<func::FuncOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(TestPrintCpuKernelsPass)
  StringRef getArgument() const final { return "graphopt-test-print-cpu-kernels"; }
  StringRef getDescription() const final {
    return "Print the CPU emitter's C++ for every function (test only)";
  }
  void runOnOperation() override {
    FailureOr<std::string> source = graphopt::emitCpuKernels(getOperation());
    if (failed(source))
      return signalPassFailure();
    llvm::outs() << *source;
  }
};
} // namespace

namespace graphopt {
void registerTestPrintCpuKernelsPass() {
  PassRegistration<TestPrintCpuKernelsPass>();
}
} // namespace graphopt
