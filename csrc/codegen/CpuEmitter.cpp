//===- CpuEmitter.cpp - graphopt.kernel -> C++ ----------------------------===//
//
// A kernel's iteration space is the shape of its outputs. The CPU emitter
// prints a loop nest over it (OpenMP over the outer dims, a unit-stride
// innermost loop the C++ compiler vectorizes) around the kernel body's scalar
// code (KernelBody.h). Row reductions inside a pointwise kernel (softmax,
// layer norm) are computed once per row, before the row's loop; column
// reductions walk their input row by row with a strip of accumulators.
//
//===----------------------------------------------------------------------===//
#include "csrc/codegen/KernelBody.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace graphopt;

namespace {

class CpuKernelEmitter : public KernelBodyPrinter {
public:
  CpuKernelEmitter(KernelOp kernel, std::string name)
      : KernelBodyPrinter(kernel, std::move(name), /*wideF32Sums=*/true) {}

  LogicalResult emit(std::string &out) {
    FailureOr<SmallVector<std::string>> params = prepare("__restrict");
    if (failed(params))
      return failure();
    code += "extern \"C\" void " + name + "(" + llvm::join(*params, ", ") +
            ") {\n";
    Operation *root = rootReduction();
    LogicalResult result = root && useColumnOrder(root)
                               ? emitColumnReduction(root)
                               : emitLoopNest();
    if (failed(result))
      return failure();
    code += "}\n\n";
    out += code;
    return success();
  }

private:
  static constexpr int64_t kParallelWork = 1 << 15;

  FailureOr<std::string> reduce(Operation *op, const Index &outIdx) override {
    return sequentialReduce(op, outIdx);
  }

  // Sums may be reordered across SIMD lanes (the accumulator is wider than
  // the data for f32); max keeps its NaN-propagating order.
  std::string reductionLoopPragma(const ReduceInfo &r,
                                  const std::string &acc) override {
    return r.isSum ? "#pragma omp simd reduction(+ : " + acc + ")" : "";
  }

  /// Loops over the domain: OpenMP over all dims but the last.
  LogicalResult emitLoopNest() {
    int64_t rank = domain.size();
    int64_t outer = 1;
    for (int64_t d = 0; d + 1 < rank; ++d)
      outer *= domain[d];
    int64_t inner = rank ? domain.back() : 1;
    double work = double(outer) * double(inner) * double(reductionWork());
    Index idx;
    depth = 1;
    if (rank > 0) {
      if (outer > 1 && work >= kParallelWork)
        line("#pragma omp parallel for schedule(static)");
      line(llvm::formatv("for (int64_t o = 0; o < {0}; ++o) {{", outer).str());
      ++depth;
      idx = delinearize("o", ArrayRef<int64_t>(domain).drop_back(), rank - 1, "i");
      idx.push_back("0");
      // Row values, once per row, in block order; the loop body then finds
      // them by their index.
      scopes.emplace_back();
      if (failed(emitRowValues(idx, "o", "")))
        return failure();
      line(llvm::formatv("for (int64_t i{0} = 0; i{0} < {1}; ++i{0}) {{",
                         rank - 1, inner)
               .str());
      ++depth;
      idx.back() = inner == 1 ? "0" : "i" + std::to_string(rank - 1);
    }
    scopes.emplace_back();
    std::string flat =
        rank ? llvm::formatv("o * {0} + i{1}", inner, rank - 1).str() : "0";
    for (auto [i, v] : llvm::enumerate(yield().getValues())) {
      if (isRowValue(v))
        continue;
      FailureOr<std::string> val = eval(v, idx);
      if (failed(val))
        return failure();
      line(llvm::formatv("out{0}[{1}] = {2};", i, flat, store(elemOf(v), *val))
               .str());
    }
    scopes.clear();
    closeTo(1);
    return success();
  }

  /// Reductions that keep the input's innermost dim (bias gradients) walk
  /// the input row by row: a strip of accumulators along the innermost dim,
  /// so every load is unit-stride.
  LogicalResult emitColumnReduction(Operation *op) {
    static constexpr int64_t kStrip = 256;
    ReduceInfo r = reduceInfo(op);
    ArrayRef<int64_t> inShape = shapeOf(r.input);
    ArrayRef<int64_t> outShape = shapeOf(op->getResult(0));
    int64_t inner = inShape.back();
    int64_t strip = std::min(kStrip, inner);
    int64_t strips = (inner + strip - 1) / strip;
    int64_t outer = 1;
    for (int64_t d = 0; d + 1 < (int64_t)outShape.size(); ++d)
      outer *= outShape[d];
    int64_t work = 1;
    for (int64_t d : inShape)
      work *= d;

    depth = 1;
    if (outer * strips > 1 && work >= kParallelWork)
      line("#pragma omp parallel for schedule(static)");
    line(llvm::formatv("for (int64_t b = 0; b < {0}; ++b) {{", outer * strips)
             .str());
    ++depth;
    line(llvm::formatv("const int64_t o = b / {0};", strips).str());
    line(llvm::formatv("const int64_t c0 = b % {0} * {1};", strips, strip).str());
    line(llvm::formatv("const int64_t cn = c0 + {0} <= {1} ? {0} : {1} - c0;",
                       strip, inner)
             .str());
    Index outIdx =
        delinearize("o", outShape.drop_back(), outShape.size() - 1, "i");
    outIdx.push_back("(c0 + j)");
    line(r.accTy + " acc[" + std::to_string(strip) + "];");
    line("for (int64_t j = 0; j < cn; ++j) acc[j] = " + r.init + ";");

    int opened = 0;
    Index inIdx = openReductionLoops(r, outIdx, "", opened);
    line("#pragma omp simd");
    line("for (int64_t j = 0; j < cn; ++j) {");
    ++depth;
    if (failed(accumulateInput(r, "acc[j]", inIdx)))
      return failure();
    closeTo(depth - 1 - opened);
    line(llvm::formatv("for (int64_t j = 0; j < cn; ++j) out0[o * {0} + c0 + j] "
                       "= {1};",
                       inner, store(elemOf(r.input), "(" + r.cty + ")acc[j]"))
             .str());
    closeTo(1);
    return success();
  }
};

} // namespace

FailureOr<std::string> graphopt::emitCpuKernels(func::FuncOp func) {
  return emitKernels<CpuKernelEmitter>(
      func, "// Generated by graphopt from @" + func.getSymName().str() +
                ". One function per graphopt.kernel.\n"
                "#include <cmath>\n#include <cstdint>\n#include <limits>\n"
                "#include \"graphopt_kernel_math.h\"\n\n");
}
