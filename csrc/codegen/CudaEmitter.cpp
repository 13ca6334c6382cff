//===- CudaEmitter.cpp - graphopt.kernel -> CUDA C ------------------------===//
//
// The same kernel body as the CPU emitter (KernelBody.h), in one of three
// thread mappings:
//  - flat: one thread per output element over a grid-stride loop; used for
//    pointwise kernels and short column reductions (each thread sums a
//    column, so a warp reads 32 adjacent columns: coalesced);
//  - block: one block per row (pointwise kernels with row reductions, such as
//    softmax and layer norm) or per output element (row and full
//    reductions). Reductions at the block's level are split across its
//    threads, combined with warp shuffles and shared memory
//    (graphopt_block_reduce in graphopt_cuda.h); the row's elements are then
//    computed by a block-stride loop;
//  - split: a long reduction into too few outputs to fill the GPU is summed
//    in ranges by a partials kernel and folded by a second one (Split).
// Pointwise f32 kernels whose inputs and outputs all have the output's shape
// also get a float4 variant (16-byte loads and stores); the launcher picks it
// when every pointer is 16-byte aligned. Each kernel gets an extern "C" host
// launcher taking a stream and returning the launches' CUDA error, so the
// runtime (and the CPU emulation harness) call kernels like C functions.
//
//===----------------------------------------------------------------------===//
#include "csrc/codegen/KernelBody.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace graphopt;

namespace {

constexpr int64_t kFlatThreads = 256;
constexpr int64_t kMaxBlocks = 65535;

class CudaKernelEmitter : public KernelBodyPrinter {
public:
  CudaKernelEmitter(KernelOp kernel, std::string name)
      : KernelBodyPrinter(kernel, std::move(name), /*wideF32Sums=*/false) {}

  LogicalResult emit(std::string &out) {
    FailureOr<SmallVector<std::string>> params = prepare("__restrict__");
    if (failed(params))
      return failure();
    Operation *root = domainReduction();
    bool perOutput = root && !useColumnOrder(root);
    // Row reductions and per-row outputs need a block per row.
    bool rowReductions =
        llvm::any_of(body().without_terminator(),
                     [&](Operation &op) { return isRowReduction(&op, domain); }) ||
        llvm::any_of(yield().getValues(), [&](Value v) { return isRowValue(v); });
    SmallVector<std::string> args;
    for (unsigned i = 0; i < body().getNumArguments(); ++i)
      args.push_back("in" + std::to_string(i));
    for (unsigned i = 0; i < yield().getValues().size(); ++i)
      args.push_back("out" + std::to_string(i));
    if (std::optional<Split> split = planSplit(root, rowReductions)) {
      if (failed(emitSplit(*split, jointReductions(root), *params, args)))
        return failure();
      out += code;
      return success();
    }

    int64_t threads = kFlatThreads, blocks = 1;
    std::string kernelName = name + "_kernel";
    code += llvm::formatv("__global__ void __launch_bounds__({0}) {1}({2}) {{\n",
                          kFlatThreads, kernelName, llvm::join(*params, ", "))
                .str();
    LogicalResult result = success();
    if (perOutput || rowReductions) {
      threads = blockSize(reductionWork());
      result = perOutput ? emitBlockPerOutput(blocks) : emitBlockPerRow(blocks);
    } else {
      result = emitFlat(blocks);
    }
    if (failed(result))
      return failure();
    code += "}\n\n";

    std::string launch =
        llvm::formatv("GRAPHOPT_LAUNCH({0}, {1}, {2}, stream, {3});", kernelName,
                      blocks, threads, llvm::join(args, ", "))
            .str();

    int64_t vecBlocks = 0;
    if (!perOutput && !rowReductions && vectorizable()) {
      code += llvm::formatv("__global__ void __launch_bounds__({0}) "
                            "{1}_vec4_kernel({2}) {{\n",
                            kFlatThreads, name, llvm::join(*params, ", "))
                  .str();
      if (failed(emitFlatVec4(vecBlocks)))
        return failure();
      code += "}\n\n";
    }
    code += launcherHead(*params);
    if (vecBlocks) {
      SmallVector<std::string> addresses;
      for (const std::string &a : args)
        addresses.push_back("(uintptr_t)" + a);
      code += llvm::formatv("  if ((({0}) & 15) == 0)\n    GRAPHOPT_LAUNCH({1}_vec4_kernel, "
                            "{2}, {3}, stream, {4});\n  else\n  ",
                            llvm::join(addresses, " | "), name, vecBlocks,
                            kFlatThreads, llvm::join(args, ", "))
                  .str();
    }
    code += "  " + launch + "\n  return graphopt_launch_status();\n}\n\n";
    out += code;
    return success();
  }

private:
  /// The host launcher's head: it returns the launches' CUDA error (0 when
  /// they were accepted), which the runtime turns into an exception.
  std::string launcherHead(ArrayRef<std::string> params) {
    return llvm::formatv("extern \"C\" int {0}({1}, void *stream) {{\n", name,
                         llvm::join(params, ", "))
        .str();
  }

  // A long reduction into few outputs (a per-channel sum over a batch of
  // images, a bias gradient over a batch of tokens) would leave most of the
  // GPU idle as one block per output (or one thread per column): its reduced
  // elements are split into ranges, each summed by a block into a partial
  // in a stream-ordered workspace, and a second kernel folds each output's
  // partials in range order (the same result on every run) and computes the
  // epilogue.
  struct Split {
    /// Column order: a warp's lanes take 32 adjacent outputs (coalesced
    /// loads) and the block's 8 warps take every 8th element of the range.
    /// Otherwise one output per block, its threads taking the range in turn.
    bool columns;
    int64_t splits, blocks, threads;
  };
  /// About four blocks per SM of an H100 (132 SMs), enough to hide latency.
  static constexpr int64_t kTargetBlocks = 512;
  static constexpr int64_t kLanes = 32, kGroups = 8;
  /// The least elements a range gets: 8 per thread in column order, 16 per
  /// thread of 256 otherwise; below that the partials cost more than they
  /// save.
  static constexpr int64_t kMinColumnRange = 64, kMinBlockRange = 4096;

  static int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

  int64_t reducedCount(const ReduceInfo &r) {
    int64_t n = 1;
    for (int64_t d : r.dims)
      n *= shapeOf(r.input)[d];
    return n;
  }

  /// A split for a reduction kernel whose reductions all share one loop
  /// (jointReductions) and whose outputs are too few to fill the GPU.
  std::optional<Split> planSplit(Operation *root, bool rowReductions) {
    if (!root || rowReductions)
      return std::nullopt;
    int64_t reductions = 0;
    body().walk([&](Operation *op) {
      reductions += isa<ReduceSumOp, ReduceMaxOp>(op);
    });
    if (reductions != (int64_t)jointReductions(root).size())
      return std::nullopt;
    int64_t outputs = product(domain), n = reducedCount(reduceInfo(root));
    if (outputs == 0 || n == 0) // empty tensors: nothing to split
      return std::nullopt;
    if (useColumnOrder(root)) {
      int64_t tiles = ceilDiv(outputs, kLanes);
      int64_t splits =
          std::min(ceilDiv(kTargetBlocks, tiles), n / kMinColumnRange);
      if (splits < 2)
        return std::nullopt;
      return Split{true, splits, tiles * splits, kLanes * kGroups};
    }
    int64_t splits = std::min(ceilDiv(kTargetBlocks, outputs), n / kMinBlockRange);
    if (splits < 2)
      return std::nullopt;
    return Split{false, splits, outputs * splits, blockSize(ceilDiv(n, splits))};
  }

  LogicalResult emitSplit(const Split &split, ArrayRef<Operation *> joint,
                          ArrayRef<std::string> params,
                          ArrayRef<std::string> args) {
    ReduceInfo r = reduceInfo(joint.front());
    int64_t outputs = product(domain), n = reducedCount(r);
    std::string wsParams = llvm::join(params, ", ") + ", " + r.accTy +
                           " *__restrict__ ws";
    // Partials: ws[k][s][o] for reduction k, range s, output o.
    auto partial = [&](size_t k, const std::string &s) {
      std::string base = k ? std::to_string(k * split.splits * outputs) + " + " : "";
      return llvm::formatv("ws[{0}{1} * {2} + o]", base, s, outputs).str();
    };
    code += llvm::formatv("__global__ void __launch_bounds__({0}) "
                          "{1}_partials_kernel({2}) {{\n",
                          split.threads, name, wsParams)
                .str();
    depth = 1;
    int64_t tiles = split.blocks / split.splits;
    if (split.columns) {
      line(llvm::formatv("const int64_t s = blockIdx.x / {0};", tiles).str());
      line(llvm::formatv("const int64_t o = blockIdx.x % {0} * {1} + threadIdx.x % {1};",
                         tiles, kLanes)
               .str());
    } else {
      line(llvm::formatv("const int64_t s = blockIdx.x % {0};", split.splits).str());
      line(llvm::formatv("const int64_t o = blockIdx.x / {0};", split.splits).str());
    }
    line(llvm::formatv("const int64_t lo = s * {0} / {1}, hi = (s + 1) * {0} / {1};",
                       n, split.splits)
             .str());
    SmallVector<std::string> accs;
    for (size_t k = 0; k < joint.size(); ++k) {
      accs.push_back("acc" + std::to_string(counter++));
      line(r.accTy + " " + accs.back() + " = " + r.init + ";");
    }
    if (split.columns) {
      // Threads past the last output still reach the barrier below.
      line(llvm::formatv("if (o < {0}) {{", outputs).str());
      ++depth;
    }
    scopes.emplace_back();
    Index outIdx = delinearize("o", domain, domain.size(), "i");
    if (split.columns)
      line(reductionLoopPragma(r, accs.front()));
    if (failed(accumulateRange(
            joint, outIdx, accs,
            split.columns ? llvm::formatv("lo + threadIdx.x / {0}", kLanes).str()
                          : "lo + threadIdx.x",
            "hi", split.columns ? std::to_string(kGroups) : "blockDim.x")))
      return failure();
    scopes.clear();
    closeTo(1);
    if (split.columns) {
      for (auto [k, acc] : llvm::enumerate(accs)) {
        line(llvm::formatv("__shared__ {0} group{1}[{2}];", r.accTy, k,
                           split.threads)
                 .str());
        line(llvm::formatv("group{0}[threadIdx.x] = {1};", k, acc).str());
      }
      line("__syncthreads();");
      line(llvm::formatv("if (threadIdx.x < {0} && o < {1}) {{", kLanes, outputs)
               .str());
      ++depth;
      for (auto [k, acc] : llvm::enumerate(accs)) {
        line(llvm::formatv("for (int64_t g = 1; g < {0}; ++g) {{", kGroups).str());
        ++depth;
        line(llvm::formatv("const {0} p = group{1}[g * {2} + threadIdx.x];",
                           r.accTy, k, kLanes)
                 .str());
        line(accumulate(r, acc, "p"));
        closeTo(depth - 1);
      }
    } else {
      for (const std::string &acc : accs)
        blockReduce(r, acc);
      line("if (threadIdx.x == 0) {");
      ++depth;
    }
    for (auto [k, acc] : llvm::enumerate(accs))
      line(partial(k, "s") + " = " + acc + ";");
    closeTo(1);
    code += "}\n\n";

    // The fold and the epilogue: one thread per output.
    code += llvm::formatv("__global__ void __launch_bounds__({0}) {1}_kernel({2}) {{\n",
                          kFlatThreads, name, wsParams)
                .str();
    int64_t blocks = openGridLoop("o", outputs, /*perBlock=*/false);
    Index idx = delinearize("o", domain, domain.size(), "i");
    scopes.emplace_back();
    for (auto [k, op] : llvm::enumerate(joint)) {
      std::string acc = "acc" + std::to_string(counter++);
      line(r.accTy + " " + acc + " = " + r.init + ";");
      line(llvm::formatv("for (int64_t s = 0; s < {0}; ++s) {{", split.splits).str());
      ++depth;
      line(llvm::formatv("const {0} p = {1};", r.accTy, partial(k, "s")).str());
      line(accumulate(r, acc, "p"));
      closeTo(depth - 1);
      scopes.back()[{op->getResult(0).getAsOpaquePointer(), llvm::join(idx, ",")}] =
          fresh(elemOf(r.input), "(" + r.cty + ")" + acc);
    }
    if (failed(storeOutputs(idx, "o")))
      return failure();
    scopes.clear();
    closeTo(1);
    code += "}\n\n";

    std::string wsArgs = llvm::join(args, ", ") + ", (" + r.accTy + " *)ws";
    code += launcherHead(params);
    code += llvm::formatv(
                "  void *ws;\n"
                "  if (int error = graphopt_workspace(&ws, {0} * sizeof({1}), stream))\n"
                "    return error;\n"
                "  GRAPHOPT_LAUNCH({2}_partials_kernel, {3}, {4}, stream, {5});\n"
                "  GRAPHOPT_LAUNCH({2}_kernel, {6}, {7}, stream, {5});\n"
                "  graphopt_workspace_release(ws, stream);\n"
                "  return graphopt_launch_status();\n}\n\n",
                joint.size() * split.splits * outputs, r.accTy, name, split.blocks,
                split.threads, wsArgs, blocks, kFlatThreads)
                .str();
    return success();
  }

  /// Inside a block's uniform code, reductions are split across its threads.
  bool cooperative = false;
  /// In a float4 kernel: the lane a block argument's loads read.
  std::string vectorLane;

  /// f32 in and out, every input and output of the output's shape, only
  /// elementwise ops and constants, and a multiple of 4 elements.
  bool vectorizable() {
    if (product(domain) % 4 != 0)
      return false;
    auto f32OfDomain = [&](Value v) {
      return elemOf(v).isF32() && shapeOf(v) == ArrayRef<int64_t>(domain);
    };
    return llvm::all_of(body().getArguments(), f32OfDomain) &&
           llvm::all_of(yield().getValues(), f32OfDomain) &&
           isPointwiseBody(body());
  }

  std::string loadArg(BlockArgument arg, const Index &idx) override {
    if (vectorLane.empty())
      return KernelBodyPrinter::loadArg(arg, idx);
    return "v" + argName[arg] + "." + vectorLane;
  }

  /// Opens the kernel's outer loop: `var` over [0, n), one thread per
  /// iteration (grid-stride) or one block per iteration (block-stride);
  /// returns the grid size to launch.
  int64_t openGridLoop(const std::string &var, int64_t n, bool perBlock) {
    depth = 1;
    if (perBlock)
      line(llvm::formatv("for (int64_t {0} = blockIdx.x; {0} < {1}; {0} += "
                         "gridDim.x) {{",
                         var, n)
               .str());
    else
      line(llvm::formatv("for (int64_t {0} = (int64_t)blockIdx.x * blockDim.x + "
                         "threadIdx.x; {0} < {1}; {0} += (int64_t)gridDim.x * "
                         "blockDim.x) {{",
                         var, n)
               .str());
    ++depth;
    int64_t blocks = perBlock ? n : (n + kFlatThreads - 1) / kFlatThreads;
    return std::min(kMaxBlocks, std::max<int64_t>(1, blocks));
  }

  LogicalResult emitFlatVec4(int64_t &blocks) {
    blocks = openGridLoop("v", product(domain) / 4, /*perBlock=*/false);
    for (BlockArgument arg : body().getArguments())
      line(llvm::formatv("const float4 v{0} = reinterpret_cast<const float4 "
                         "*>({0})[v];",
                         argName[arg])
               .str());
    for (unsigned i = 0; i < yield().getValues().size(); ++i)
      line(llvm::formatv("float4 r{0};", i).str());
    // Every operand has the output's shape: the index only keys the reuse of
    // values within a lane.
    Index idx(domain.size(), "v");
    for (const char *lane : {"x", "y", "z", "w"}) {
      vectorLane = lane;
      scopes.emplace_back();
      for (auto [i, v] : llvm::enumerate(yield().getValues())) {
        FailureOr<std::string> val = eval(v, idx);
        if (failed(val))
          return failure();
        line(llvm::formatv("r{0}.{1} = {2};", i, lane, *val).str());
      }
      scopes.pop_back();
    }
    vectorLane.clear();
    for (unsigned i = 0; i < yield().getValues().size(); ++i)
      line(llvm::formatv("reinterpret_cast<float4 *>(out{0})[v] = r{0};", i).str());
    closeTo(1);
    return success();
  }

  /// Threads per block for a reduction of `n` elements: a power of two in
  /// [32, 256], no wider than the work.
  static int64_t blockSize(int64_t n) {
    int64_t b = 32;
    while (b < 256 && b < n)
      b *= 2;
    return b;
  }

  static int64_t product(ArrayRef<int64_t> shape) {
    int64_t n = 1;
    for (int64_t d : shape)
      n *= d;
    return n;
  }

  LogicalResult emitFlat(int64_t &blocks) {
    blocks = openGridLoop("o", product(domain), /*perBlock=*/false);
    Index idx = delinearize("o", domain, domain.size(), "i");
    scopes.emplace_back();
    if (failed(storeOutputs(idx, "o")))
      return failure();
    scopes.clear();
    closeTo(1);
    return success();
  }

  LogicalResult emitBlockPerRow(int64_t &blocks) {
    int64_t rank = domain.size(), inner = domain.back();
    blocks = openGridLoop("o", product(ArrayRef<int64_t>(domain).drop_back()),
                          /*perBlock=*/true);
    Index idx = delinearize("o", ArrayRef<int64_t>(domain).drop_back(), rank - 1, "i");
    idx.push_back("0");
    scopes.emplace_back();
    cooperative = true;
    if (failed(emitRowValues(idx, "o", "threadIdx.x == 0")))
      return failure();
    cooperative = false;
    std::string i = "i" + std::to_string(rank - 1);
    line(llvm::formatv("for (int64_t {0} = threadIdx.x; {0} < {1}; {0} += "
                       "blockDim.x) {{",
                       i, inner)
             .str());
    ++depth;
    idx.back() = inner == 1 ? "0" : i;
    scopes.emplace_back();
    if (failed(storeOutputs(idx, llvm::formatv("o * {0} + {1}", inner, i))))
      return failure();
    scopes.clear();
    closeTo(1);
    return success();
  }

  LogicalResult emitBlockPerOutput(int64_t &blocks) {
    blocks = openGridLoop("o", product(domain), /*perBlock=*/true);
    Index idx = delinearize("o", domain, domain.size(), "i");
    scopes.emplace_back();
    cooperative = true;
    SmallVector<std::string> vals;
    for (Value v : yield().getValues()) {
      FailureOr<std::string> val = eval(v, idx);
      if (failed(val))
        return failure();
      vals.push_back(*val);
    }
    cooperative = false;
    line("if (threadIdx.x == 0) {");
    ++depth;
    for (auto [i, v] : llvm::enumerate(yield().getValues()))
      line(llvm::formatv("out{0}[o] = {1};", i, store(elemOf(v), vals[i])).str());
    scopes.clear();
    closeTo(1);
    return success();
  }

  /// Combines each thread's `acc` across the block (every thread gets it).
  void blockReduce(const ReduceInfo &r, const std::string &acc) {
    line(llvm::formatv("{0} = graphopt_block_reduce({0}, ({1})({2}), {3}());", acc,
                       r.accTy, r.init, r.isSum ? "graphopt_sum" : "graphopt_max")
             .str());
  }

  // A fully unrolled loop of loads keeps them all in flight, and in
  // registers: ptxas spills on loops of a few dozen iterations.
  std::string reductionLoopPragma(const ReduceInfo &,
                                  const std::string &) override {
    return "#pragma unroll 4";
  }

  FailureOr<std::string> reduce(Operation *op, const Index &outIdx) override {
    if (!cooperative)
      return sequentialReduce(op, outIdx);
    // The block's threads take the reduced elements in turn; reductions
    // nested inside are per thread.
    cooperative = false;
    ReduceInfo r = reduceInfo(op);
    std::string acc = "acc" + std::to_string(counter++);
    line(r.accTy + " " + acc + " = " + r.init + ";");
    if (failed(accumulateRange({op}, outIdx, {acc}, "threadIdx.x",
                               std::to_string(reducedCount(r)), "blockDim.x")))
      return failure();
    blockReduce(r, acc);
    cooperative = true;
    return fresh(elemOf(r.input), "(" + r.cty + ")" + acc);
  }
};

} // namespace

FailureOr<std::string> graphopt::emitCudaKernels(func::FuncOp func) {
  return emitKernels<CudaKernelEmitter>(
      func, "// Generated by graphopt from @" + func.getSymName().str() +
                ". One __global__ function and one extern \"C\" launcher "
                "per distinct\n// graphopt.kernel (kernels with the same code share "
                "them).\n#include \"graphopt_cuda.h\"\n\n");
}
