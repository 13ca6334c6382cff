//===- Codegen.h - from optimized IR to kernels and a launch plan ---------===//
#ifndef GRAPHOPT_CODEGEN_CODEGEN_H
#define GRAPHOPT_CODEGEN_CODEGEN_H

#include "csrc/dialect/GraphOpt.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <string>

namespace graphopt {

/// Per graphopt.kernel of `func` (in op order), the C symbol of the function
/// that runs it: its own kernelSymbol, or that of the first kernel with the
/// same code (types, in-place outputs and body), which it shares.
llvm::SmallVector<std::string> kernelCodeSymbols(mlir::func::FuncOp func);

/// One C++ translation unit holding an `extern "C"` function per distinct
/// graphopt.kernel of `func` (in op order; see kernelCodeSymbols): inputs
/// first, then outputs, all as pointers to contiguous row-major buffers.
/// Fails with a located diagnostic on IR it cannot emit.
mlir::FailureOr<std::string> emitCpuKernels(mlir::func::FuncOp func);

/// One CUDA translation unit for the same kernels: per distinct kernel a
/// __global__ function and an `extern "C"` launcher with the CPU kernel's
/// parameters plus a stream (`void *`). Includes graphopt_cuda.h, which
/// also compiles as host C++ against the SIMT emulation header.
mlir::FailureOr<std::string> emitCudaKernels(mlir::func::FuncOp func);

/// The launch plan of a planned function as JSON: values (shape, dtype,
/// storage), steps in execution order, arena size. See docs/architecture.md.
mlir::FailureOr<std::string> buildLaunchPlan(mlir::func::FuncOp func);

/// The C type of a tensor element type ("float", "int64_t", ...), or failure.
mlir::FailureOr<std::string> cTypeOf(mlir::Type elementType);

/// The C type of a buffer element: like cTypeOf, but uint16_t for bf16 and
/// uint8_t for i1 (torch bools are bytes).
std::string storageTypeOf(mlir::Type elementType);

/// Registers graphopt-test-print-cpu-kernels and
/// graphopt-test-print-cuda-kernels (for graphopt-opt and lit).
void registerTestPrintKernelsPasses();

} // namespace graphopt

#endif // GRAPHOPT_CODEGEN_CODEGEN_H
