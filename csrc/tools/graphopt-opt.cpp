//===- graphopt-opt.cpp - mlir-opt for the graphopt dialect ---------------===//
#include "csrc/codegen/Codegen.h"
#include "passes/Passes.h"

#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  graphopt::registerGraphOptDialects(registry);
  mlir::registerCanonicalizerPass();
  mlir::registerCSEPass();
  graphopt::registerGraphOptPasses();
  graphopt::registerGraphOptPipeline();
  graphopt::registerTestPrintKernelsPasses();
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "graphopt optimizer driver\n", registry));
}
