//===- Passes.h - graphopt's passes and pipeline --------------------------===//
#ifndef GRAPHOPT_PASSES_PASSES_H
#define GRAPHOPT_PASSES_PASSES_H

#include "csrc/dialect/GraphOpt.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"

namespace graphopt {

#define GEN_PASS_DECL
#include "passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

/// Registers the dialects graphopt's IR uses.
void registerGraphOptDialects(mlir::DialectRegistry &registry);

/// The one optimization pipeline, shared by graphopt._C and graphopt-opt:
/// canonicalize/cse, layout, fuse, cleanup, plan memory.
void buildGraphOptPipeline(mlir::OpPassManager &pm);

/// Registers `graphopt-pipeline` so graphopt-opt runs the same pipeline.
void registerGraphOptPipeline();

} // namespace graphopt

#endif // GRAPHOPT_PASSES_PASSES_H
