//===- Pipeline.cpp - the pipeline, one line per step ---------------------===//
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void graphopt::registerGraphOptDialects(DialectRegistry &registry) {
  registry.insert<GraphOptDialect, func::FuncDialect>();
}

void graphopt::buildGraphOptPipeline(OpPassManager &pm) {
  // Fold trivial ops and merge duplicates so fusion sees the real graph.
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  // Convolutions channels-last, NHWC between them; merge the views it made.
  pm.addNestedPass<func::FuncOp>(createGraphOptLayout());
  pm.addPass(createCSEPass());
  // Inference BatchNorm, residual add and ReLU into the convolution call.
  pm.addNestedPass<func::FuncOp>(createGraphOptConvEpilogue());
  // Group elementwise chains and reductions into graphopt.kernel ops.
  pm.addNestedPass<func::FuncOp>(createGraphOptFuse());
  // One kernel for reductions that reduce alike and read a common input.
  pm.addNestedPass<func::FuncOp>(createGraphOptFuseSiblings());
  // Merge the view copies fusion left outside kernels.
  pm.addPass(createCSEPass());
  // Liveness -> offsets in one arena (must run last: it numbers the ops).
  pm.addNestedPass<func::FuncOp>(createGraphOptPlanMemory());
}

void graphopt::registerGraphOptPipeline() {
  PassPipelineRegistration<>(
      "graphopt-pipeline",
      "The full graphopt optimization pipeline (what torch.compile runs)",
      [](OpPassManager &pm) { buildGraphOptPipeline(pm); });
}
