//===- CostModel.h - FLOPs, bytes and roofline time per step --------------===//
//
// Every top-level op of a graph function is a step, as in the launch plan: a
// fused kernel, a contraction, an extern op or a view. Its predicted time on
// a target is the roofline bound, max(FLOPs / peak, bytes / bandwidth), plus
// the target's launch overhead. The eager baseline costs the imported IR with
// one kernel per ATen op: ops that one ATen op was decomposed into carry the
// same `eager:` tag in their location and count as one kernel.
//
//===----------------------------------------------------------------------===//
#ifndef GRAPHOPT_COSTMODEL_COSTMODEL_H
#define GRAPHOPT_COSTMODEL_COSTMODEL_H

#include "csrc/costmodel/Target.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <string>
#include <vector>

namespace graphopt {

struct StepCost {
  unsigned index = 0; // position among the function's ops (plan step index)
  std::string kind;   // kernel, matmul, bmm, addmm, extern, view, or op name
  std::string name;   // kernel symbol, extern callee, or op name
  std::vector<std::string> ops;
  double flops = 0, bytesRead = 0, bytesWritten = 0;
  /// Bytes of results allocated fresh (not in the arena) and large enough
  /// to pay the target's first-touch cost.
  double freshBytes = 0;
  bool launches = true; // views cost nothing and launch nothing
  bool computeBound = false;
  double predictedS = 0;
  /// The roofline alone: max(FLOPs / peak, bytes / bandwidth), without
  /// launch overhead or first touch. Measured time over it says how close
  /// a kernel runs to what the machine allows.
  double roofS = 0;

  double bytes() const { return bytesRead + bytesWritten; }
  double intensity() const { return bytes() > 0 ? flops / bytes() : 0; }
};

struct PlanCost {
  std::vector<StepCost> steps;
  double timeS = 0, flops = 0, bytes = 0;
  int64_t launches = 0;
  std::string dtype = "f32"; // the element type of the contractions, for MFU
};

/// FLOPs per result element of an elementwise op, as graphopt's kernels
/// compute it (transcendentals are polynomials of several multiply-adds);
/// 0 for views and constants; `target`'s own prices where it gives them
/// (vector_op_flops). Also, without a target, what the CPU emitter weighs
/// recomputing a value against storing it (the row stash).
double flopsPerElement(mlir::Operation *op, const Target *target = nullptr);

/// The row stash of a CPU kernel body over `domain`: the full-size values
/// its emitter stores in row-long local arrays, so that the passes over a
/// row after the first (one per row reduction, then the outputs') load them
/// instead of computing them again. Empty without row reductions.
llvm::DenseSet<mlir::Value> rowStash(mlir::Block &body,
                                     llvm::ArrayRef<int64_t> domain);

/// One step per op of `func`, in order: a fused function's plan, or an
/// unfused function with every op its own kernel.
PlanCost costOfSteps(mlir::func::FuncOp func, const Target &target);

/// The eager baseline of an imported (unfused) function: one kernel per ATen
/// op, reading its inputs and writing its outputs through memory.
PlanCost costOfEager(mlir::func::FuncOp func, const Target &target);

/// cost.json's per-target object: the target, eager and compiled totals,
/// predicted speedup, MFU and the compiled steps.
llvm::json::Value costJson(const Target &target, const PlanCost &eager,
                           const PlanCost &compiled);

/// A per-step table with totals; with `eager`, also the predicted speedup.
void printCostTable(llvm::raw_ostream &os, const Target &target,
                    const PlanCost &plan, const PlanCost *eager);

} // namespace graphopt

#endif // GRAPHOPT_COSTMODEL_COSTMODEL_H
