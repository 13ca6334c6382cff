//===- Compiler.h - the C++ side of graphopt, behind one call -------------===//
//
// The narrow boundary between Python and C++: MLIR text in, an Artifact of
// strings out. No MLIR type appears here, so the pybind11 module stays thin.
//
//===----------------------------------------------------------------------===//
#ifndef GRAPHOPT_CODEGEN_COMPILER_H
#define GRAPHOPT_CODEGEN_COMPILER_H

#include <stdexcept>
#include <string>
#include <vector>

namespace graphopt {

struct CompileOptions {
  /// Keep the IR after every pass (for GRAPHOPT_DUMP_DIR).
  bool capturePasses = false;
  /// Hardware targets (JSON text, see csrc/costmodel/Target.h) to predict
  /// the eager and compiled cost on.
  std::vector<std::string> targets;
};

struct PassSnapshot {
  std::string pass; // the pass's argument, e.g. "graphopt-fuse"
  std::string ir;
};

struct Artifact {
  std::string optimizedIR;
  std::string cpuSource; // one C++ translation unit, all kernels
  std::string planJson;  // the launch plan
  std::string cudaSource; // one CUDA translation unit, the same kernels
  std::string costJson;   // a JSON array, one object per target
  std::string costTable;  // the same, as printed tables
  std::vector<PassSnapshot> passes;
};

/// Raised with the diagnostics (`loc: error: ...`) when parsing, a pass or
/// emission fails. `failedPass` names the pass, or is empty.
struct CompileError : std::runtime_error {
  CompileError(const std::string &msg, std::string failedPass)
      : std::runtime_error(msg), failedPass(std::move(failedPass)) {}
  std::string failedPass;
};

/// Parses a module with one func.func, runs the graphopt pipeline, emits the
/// CPU kernels and the launch plan.
Artifact compileModule(const std::string &mlirText,
                       const CompileOptions &options);

/// The pipeline as a textual pass pipeline (what graphopt-opt would run).
std::string pipelineDescription();

} // namespace graphopt

#endif // GRAPHOPT_CODEGEN_COMPILER_H
