//===- CompileFuzzer.cpp - libFuzzer target for the C++ entry point -------===//
//
// Feeds arbitrary bytes to graphopt::compileModule, the function behind
// graphopt._C.compile and (through the same pipeline) graphopt-opt. Any
// outcome but a result or a CompileError (a crash, a sanitizer report, a
// hang past -timeout) is a bug.
//
//===----------------------------------------------------------------------===//
#include "csrc/codegen/Compiler.h"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string text(reinterpret_cast<const char *>(data), size);
  graphopt::CompileOptions options;
  options.capturePasses = size % 2 == 0; // exercise both printer paths
  try {
    graphopt::compileModule(text, options);
  } catch (const graphopt::CompileError &) {
    // A diagnostic: the expected outcome for bad input.
  }
  return 0;
}
