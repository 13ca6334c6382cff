//===- Target.h - hardware targets of the cost model ----------------------===//
//
// A target is a JSON file: peak FLOP/s (matmul per dtype, vector), memory
// bandwidth, launch overhead. h100-sxm and a100-sxm-80gb are built in
// (csrc/costmodel/targets/); host-cpu is measured on first use by the Python
// side; users pass their own files for accelerators that do not exist yet.
//
//===----------------------------------------------------------------------===//
#ifndef GRAPHOPT_COSTMODEL_TARGET_H
#define GRAPHOPT_COSTMODEL_TARGET_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace graphopt {

/// The elementwise ops a target may price itself (vector_op_flops).
inline constexpr const char *kPricedVectorOps[] = {
    "exp", "sigmoid", "tanh", "erf", "log", "sqrt", "rsqrt", "div", "pow"};

struct Target {
  std::string name, description, kind; // kind: "gpu" or "cpu"
  std::map<std::string, double> matmulFlops; // by dtype: "f32", "bf16", ...
  double vectorFlops = 0;     // FLOP/s of elementwise and reduction math
  double memoryBandwidth = 0; // bytes/s
  double launchOverheadS = 0; // per kernel launch (or per eager op on a CPU)
  double l2Bytes = 0;
  int64_t smCount = 0;
  double interconnectBandwidth = 0; // bytes/s per device, for data parallel
  /// First touch of freshly allocated memory (bytes/s; 0: free). On a CPU,
  /// allocations above glibc's mmap threshold come from the OS zeroed, page
  /// by page, on every allocation; GPU caching allocators reuse memory.
  double freshAllocBandwidth = 0;
  double freshAllocThreshold = 32 << 20; // bytes; smaller buffers are reused
  /// A 2-D convolution's throughput as a fraction of the matmul peak, by
  /// layout ("nchw", "nhwc") and for the backward by layout
  /// ("nchw_backward", "nhwc_backward"; the forward's where absent); 1
  /// where neither is given. mkldnn on a CPU computes NHWC forward
  /// convolutions about twice as fast as NCHW ones; on an AVX2 CPU its NHWC
  /// weight gradient is slower than its NCHW one.
  std::map<std::string, double> convolutionEfficiency;
  /// FLOPs per element of the costly elementwise ops (kPricedVectorOps),
  /// in vectorFlops' unit, where the target gives them: host-cpu measures
  /// graphopt's own loop of each op against its exp loop. Others keep the
  /// cost model's defaults (flopsPerElement). A price for exp itself
  /// changes what one exp costs against vectorFlops (8 by default).
  std::map<std::string, double, std::less<>> vectorOpFlops;

  /// Matmul peak for an element type name (f32, bf16, ...); f32's if absent.
  double matmulPeak(llvm::StringRef dtype) const;
  /// A convolution's peak in a layout ("nchw" or "nhwc"), forward or
  /// backward.
  double convolutionPeak(llvm::StringRef layout, bool backward,
                         llvm::StringRef dtype) const;
};

/// Parses and validates a target; the error names the missing or bad field.
llvm::Expected<Target> parseTarget(llvm::StringRef json);

/// The targets built into graphopt: (name, JSON text).
const std::vector<std::pair<std::string, std::string>> &builtinTargets();

/// A built-in target by name, or a JSON file by path.
llvm::Expected<Target> resolveTarget(llvm::StringRef nameOrPath);

} // namespace graphopt

#endif // GRAPHOPT_COSTMODEL_TARGET_H
