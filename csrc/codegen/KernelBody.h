//===- KernelBody.h - the scalar code of a kernel, shared by emitters -----===//
//
// Both emitters print the same thing inside their loops: the value of each
// kernel output at one index, found by walking the kernel body backwards.
// An elementwise op asks its operands at the broadcast-adjusted index, a
// permute at the permuted index, a block argument loads from memory, a
// reduction loops over its reduced dims. Values asked twice at the same index
// in the same scope are computed once. The CPU emitter (CpuEmitter.cpp) and
// the CUDA emitter (CudaEmitter.cpp) only differ in the loops around this
// code and in how a reduction is split across threads, so a CPU test of a
// kernel checks what the GPU computes.
//
//===----------------------------------------------------------------------===//
#ifndef GRAPHOPT_CODEGEN_KERNELBODY_H
#define GRAPHOPT_CODEGEN_KERNELBODY_H

#include "csrc/codegen/Codegen.h"

#include "llvm/ADT/StringSet.h"

#include <map>
#include <string>

namespace graphopt {

using Index = llvm::SmallVector<std::string>;

mlir::Type elemOf(mlir::Value v);

/// The static facts of a reduce_sum / reduce_max op.
struct ReduceInfo {
  mlir::Value input;
  llvm::ArrayRef<int64_t> dims;
  bool keepdim, isSum;
  std::string cty, accTy, init;
};

class KernelBodyPrinter {
public:
  /// `wideF32Sums`: f32 sums accumulate in double (the CPU emitter sums
  /// short blocks in float SIMD lanes and adds the blocks in double); the
  /// CUDA emitter sums f32 in float over a tree, which is as accurate.
  KernelBodyPrinter(KernelOp kernel, std::string name, bool wideF32Sums)
      : kernel(kernel), name(std::move(name)), wideF32Sums(wideF32Sums) {}
  virtual ~KernelBodyPrinter() = default;

protected:
  KernelOp kernel;
  std::string name;
  bool wideF32Sums;
  llvm::SmallVector<int64_t> domain; // the iteration shape (set by prepare)
  std::string code;
  int depth = 0;
  /// The depth of the body of the open loop under `#pragma omp simd`, or -1.
  int simdDepth = -1;
  int counter = 0;
  llvm::DenseMap<mlir::Value, std::string> argName;
  // Values already computed in an enclosing scope, by (value, index).
  llvm::SmallVector<std::map<std::pair<void *, std::string>, std::string>>
      scopes;

  mlir::Block &body() { return kernel.getBody().front(); }
  YieldOp yield() { return llvm::cast<YieldOp>(body().getTerminator()); }

  /// Checks the kernel is emittable (outputs of the domain's shape or its
  /// row shape, static sizes, supported element types), sets `domain` and
  /// names the block arguments in0, in1, ...; returns the parameter list
  /// (inputs, then outputs out0, out1, ...).
  mlir::FailureOr<llvm::SmallVector<std::string>>
  prepare(llvm::StringRef restrictKeyword);

  void line(const std::string &s);
  std::string fresh(mlir::Type t, const std::string &expr);
  /// Closes loops down to `level`.
  void closeTo(int level);

  /// A computed value as the output buffer stores it (bf16 rounds here).
  static std::string store(mlir::Type t, const std::string &value);
  static Index broadcastIndex(const Index &idx, llvm::ArrayRef<int64_t> to,
                              llvm::ArrayRef<int64_t> from);
  static std::string linearize(const Index &idx, llvm::ArrayRef<int64_t> shape);
  /// Prints `const int64_t i<d> = <flat> / stride % size;` for dims
  /// [0, count) of `shape` and returns the index (literal 0 for size-1 dims).
  Index delinearize(const std::string &flat, llvm::ArrayRef<int64_t> shape,
                    size_t count, const std::string &prefix);

  /// The expression loading block argument `arg` at `idx` (in its C type).
  virtual std::string loadArg(mlir::BlockArgument arg, const Index &idx);

  mlir::FailureOr<std::string> eval(mlir::Value v, const Index &idx);
  mlir::FailureOr<std::string> compute(mlir::Value v, const Index &idx);

  ReduceInfo reduceInfo(mlir::Operation *op) const;
  static std::string accumulate(const ReduceInfo &r, const std::string &acc,
                                const std::string &x);
  /// A reduction of exactly the innermost dim of a domain-shaped input: its
  /// loop is a pass over the row.
  bool isRowPass(const ReduceInfo &r) const;
  /// Sets the innermost reduced dim's entry of `inIdx` (left empty by
  /// openReductionLoops) to `var`, a loop index the caller opened over it;
  /// for a row reduction, `var` then ranges over a whole row (row stash).
  void bindInnermost(const ReduceInfo &r, Index &inIdx, const std::string &var);
  /// Opens one loop per reduced dim and returns the input index. The loops
  /// of the `leave` innermost reduced dims are left to the caller, and their
  /// index entries are empty.
  /// `firstRange`, if set: the bounds (expressions) of the outermost
  /// reduced dim's loop, a range of its rows.
  Index openReductionLoops(
      const ReduceInfo &r, llvm::ArrayRef<std::string> outIdx,
      const std::string &innermostPragma, int &opened, int64_t leave = 0,
      std::optional<std::pair<std::string, std::string>> firstRange = {});
  /// Evaluates the reduction's input at `inIdx` (in a scope of its own:
  /// values inside a reduction loop change every iteration) and folds it
  /// into `acc`.
  mlir::LogicalResult accumulateInput(const ReduceInfo &r, const std::string &acc,
                                      const Index &inIdx);
  /// A reduction evaluated by one thread: loops over the reduced dims, the
  /// innermost one after `reductionLoopPragma`.
  mlir::FailureOr<std::string> sequentialReduce(mlir::Operation *op,
                                                const Index &outIdx);
  virtual std::string reductionLoopPragma(const ReduceInfo &r,
                                          const std::string &acc) = 0;
  /// How the emitter reduces (sequentially, or split across a block).
  virtual mlir::FailureOr<std::string> reduce(mlir::Operation *op,
                                              const Index &outIdx) = 0;

  /// Values of the domain's row shape (row reductions and what is computed
  /// from them, per-row outputs): computed once per row, before the row's
  /// elements, in body order.
  bool isRowValue(mlir::Value v) const {
    return isRowShape(shapeOf(v), domain);
  }

  // Row stash (CPU): in a kernel with row reductions each reduction is a
  // pass over the row, and a later pass recomputes what an earlier one
  // computed. Values worth more than a load that several passes use are
  // stored in a row-long local array by the first pass and loaded by the
  // others (softmax's exp, a LayerNorm's output), at L1 cost.
  struct Stash {
    std::string array;
    int writtenInPhase = -1;
  };
  llvm::DenseMap<mlir::Value, Stash> stash;
  /// Passes over the row completed so far: a stash written in an earlier
  /// pass holds the whole row.
  int phase = 0;
  /// The row's outer index, and the loop variables that range over a whole
  /// row (the row reductions' and the elements' loops).
  Index rowPrefix;
  llvm::StringSet<> rowVars;
  /// Declares an array for each value the cost model's rowStash chose (call
  /// once per row, before emitRowValues, with the row index).
  void planRowStash(const Index &rowIdx);
  bool onRow(const Index &idx) const;

  /// Evaluates the body's row values at the row index `rowIdx`, then stores
  /// the row-shaped outputs at flat row index `row` (after `guard`, if any).
  mlir::LogicalResult emitRowValues(const Index &rowIdx, const std::string &row,
                                    const std::string &guard);

  /// Evaluates every output of the iteration shape at `idx`, then stores
  /// them at flat index `flat`: no store precedes a load, so an output may
  /// share its buffer with an input read at the same index (in place).
  mlir::LogicalResult storeOutputs(const Index &idx, const std::string &flat);

  /// `op` and the kernel's other reductions of the iteration shape with its
  /// input shape, dims, kind and accumulator, none of which computes from
  /// another (its loop would need the other's final value): they can share
  /// one loop nest (graphopt-fuse-siblings' merged kernels). `op` first, the
  /// others in body order.
  llvm::SmallVector<mlir::Operation *> jointReductions(mlir::Operation *op);
  /// Accumulates the elements [from, to) (every `step`-th) of each of
  /// `joint`'s reductions, in the order of their row-major index over the
  /// reduced dims, into `accs` (declared by the caller), at output `outIdx`.
  mlir::LogicalResult accumulateRange(llvm::ArrayRef<mlir::Operation *> joint,
                                      const Index &outIdx,
                                      llvm::ArrayRef<std::string> accs,
                                      const std::string &from,
                                      const std::string &to,
                                      const std::string &step);
  /// The largest reduction factor (input / output elements) in the body.
  int64_t reductionWork();
  /// Reductions that keep the input's innermost dim (column sums).
  bool useColumnOrder(mlir::Operation *op) const;
  /// The reduction whose result has the kernel's iteration shape, if any:
  /// the kernel is then a reduction kernel (its outputs are that reduction
  /// and pointwise ops of it, its epilogue, all of the reduced shape).
  mlir::Operation *domainReduction() {
    for (mlir::Operation &op : body().without_terminator())
      if (isDomainReduction(&op, domain))
        return &op;
    return nullptr;
  }
};

/// The source of every distinct graphopt.kernel of `func`, in op order,
/// after `header`, each printed by an `Emitter` (a KernelBodyPrinter with
/// `LogicalResult emit(std::string &)`). A kernel that shares an earlier
/// one's code (kernelCodeSymbols) is not printed again.
template <typename Emitter>
mlir::FailureOr<std::string> emitKernels(mlir::func::FuncOp func,
                                         std::string header) {
  llvm::SmallVector<std::string> symbols = kernelCodeSymbols(func);
  unsigned index = 0;
  for (KernelOp k : func.getBody().getOps<KernelOp>()) {
    unsigned i = index++;
    if (symbols[i] != kernelSymbol(func.getSymName(), i))
      continue;
    Emitter e(k, symbols[i]);
    if (mlir::failed(e.emit(header)))
      return mlir::failure();
  }
  return header;
}

} // namespace graphopt

#endif // GRAPHOPT_CODEGEN_KERNELBODY_H
