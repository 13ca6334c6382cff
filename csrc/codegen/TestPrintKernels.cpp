//===- TestPrintKernels.cpp - graphopt-test-print-{cpu,cuda}-kernels ------===//
//
// Test-only passes: print the source an emitter writes for each function, so
// lit tests can FileCheck the emitters the way they check passes.
//
//===----------------------------------------------------------------------===//
#include "csrc/codegen/Codegen.h"

#include "mlir/Pass/Pass.h"

using namespace mlir;

namespace {

using Emitter = FailureOr<std::string> (*)(func::FuncOp);

template <typename Derived>
struct PrintKernelsBase : PassWrapper<Derived, OperationPass<func::FuncOp>> {
  void runOnOperation() override {
    FailureOr<std::string> source = Derived::emitter(this->getOperation());
    if (failed(source))
      return this->signalPassFailure();
    llvm::outs() << *source;
  }
};

struct TestPrintCpuKernelsPass : PrintKernelsBase<TestPrintCpuKernelsPass> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(TestPrintCpuKernelsPass)
  static constexpr Emitter emitter = graphopt::emitCpuKernels;
  StringRef getArgument() const final { return "graphopt-test-print-cpu-kernels"; }
  StringRef getDescription() const final {
    return "Print the CPU emitter's C++ for every function (test only)";
  }
};

struct TestPrintCudaKernelsPass : PrintKernelsBase<TestPrintCudaKernelsPass> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(TestPrintCudaKernelsPass)
  static constexpr Emitter emitter = graphopt::emitCudaKernels;
  StringRef getArgument() const final { return "graphopt-test-print-cuda-kernels"; }
  StringRef getDescription() const final {
    return "Print the CUDA emitter's source for every function (test only)";
  }
};

} // namespace

void graphopt::registerTestPrintKernelsPasses() {
  PassRegistration<TestPrintCpuKernelsPass>();
  PassRegistration<TestPrintCudaKernelsPass>();
}
