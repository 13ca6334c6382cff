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

#include "mlir/Analysis/SliceAnalysis.h"
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
    Operation *root = domainReduction();
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
  // Pointwise kernels with fewer rows than this are split into chunks of
  // kChunk elements of a row (a multiple of 16 lanes, ~32 KB of f32 in and
  // out: an L1's worth).
  static constexpr int64_t kMinParallelRows = 16;
  static constexpr int64_t kChunk = 4096;

  static constexpr int64_t kLanes = 16;
  static constexpr int64_t kSumBlock = 256;
  // Column reductions: the widest strip of one reduction's accumulators, the
  // most accumulators of a kernel's strips, and the most bytes of partial
  // strips its row ranges leave on the stack for the serial fold.
  static constexpr int64_t kMaxStrip = 4096;
  static constexpr int64_t kNarrowStrip = 256;
  static constexpr int64_t kStripElems = 8192;
  static constexpr int64_t kRangeBytes = 256 << 10;
  // Fewer rows per block than this and the partials cost more than they save.
  static constexpr int64_t kMinSumBlock = 4;

  FailureOr<std::string> reduce(Operation *op, const Index &outIdx) override {
    ReduceInfo r = reduceInfo(op);
    int64_t rank = shapeOf(r.input).size();
    if (!r.isSum && r.dims.back() == rank - 1 &&
        shapeOf(r.input).back() >= kLanes)
      return laneReduce(r, outIdx);
    if (r.isSum && r.accTy != r.cty) {
      // Sums of the same loops (graphopt-fuse-siblings' merged kernels) are
      // computed together, so an input they share is read once; the others'
      // values wait in the scope for their own evaluation at this index.
      SmallVector<Operation *> sums = jointReductions(op);
      SmallVector<ReduceInfo> infos;
      for (Operation *s : sums)
        infos.push_back(reduceInfo(s));
      FailureOr<SmallVector<std::string>> values = blockedSums(infos, outIdx);
      if (failed(values))
        return failure();
      for (auto [s, v] : llvm::drop_begin(llvm::zip(sums, *values)))
        scopes.back()[{s->getResult(0).getAsOpaquePointer(), llvm::join(outIdx, ",")}] = v;
      return values->front();
    }
    return sequentialReduce(op, outIdx);
  }

  // Sums may be reordered across SIMD lanes; max reduces in lanes
  // (laneReduce).
  std::string reductionLoopPragma(const ReduceInfo &r,
                                  const std::string &acc) override {
    return r.isSum ? "#pragma omp simd reduction(+ : " + acc + ")" : "";
  }

  /// Opens a loop over blocks of kSumBlock along a reduced dim of length `n`
  /// when it is longer, and returns the bounds of one block. `blocks`, if
  /// set: a range of the blocks (expressions of multiples of kSumBlock).
  std::pair<std::string, std::string>
  openSumBlock(int64_t n, int &opened,
               std::optional<std::pair<std::string, std::string>> blocks = {}) {
    if (n <= kSumBlock)
      return {"0", std::to_string(n)};
    std::string block = "r" + std::to_string(counter++);
    line(llvm::formatv("for (int64_t {0} = {3}; {0} < {4}; {0} += {2}) {{",
                       block, n, kSumBlock, blocks ? blocks->first : "0",
                       blocks ? blocks->second : std::to_string(n))
             .str());
    ++depth;
    ++opened;
    return {block, llvm::formatv("({0} + {1} < {2} ? {0} + {1} : {2})", block,
                                 kSumBlock, n)
                       .str()};
  }

  /// An f32 sum: blocks of up to kSumBlock elements of the innermost reduced
  /// dim are summed in float SIMD lanes (a few elements per lane, so each
  /// lane's rounding stays small), the blocks in double. Summing everything
  /// in double halves the SIMD width and costs a conversion per element;
  /// summing everything in float loses the cancellations of gradient sums.
  FailureOr<SmallVector<std::string>> blockedSums(ArrayRef<ReduceInfo> rs,
                                                  const Index &outIdx) {
    const ReduceInfo &r = rs.front();
    SmallVector<std::string> accs;
    for (size_t k = 0; k < rs.size(); ++k) {
      accs.push_back("acc" + std::to_string(counter++));
      line(r.accTy + " " + accs.back() + " = 0;");
    }
    if (int64_t rows = rowsPerSumBlock(r))
      return rowBlockedSums(rs, outIdx, accs, rows);
    int opened = 0;
    Index inIdx = openReductionLoops(r, outIdx, "", opened,
                                     /*leave=*/1);
    int64_t n = shapeOf(r.input)[r.dims.back()];
    auto [lo, hi] = openSumBlock(n, opened);
    SmallVector<std::string> parts;
    for (size_t k = 0; k < rs.size(); ++k) {
      parts.push_back("acc" + std::to_string(counter++));
      line(r.cty + " " + parts.back() + " = 0;");
    }
    std::string v = "r" + std::to_string(counter++);
    line(rs.size() == 1 ? reductionLoopPragma(r, parts[0])
                        : "#pragma omp simd reduction(+ : " +
                              llvm::join(parts, ", ") + ")");
    line(llvm::formatv("for (int64_t {0} = {1}; {0} < {2}; ++{0}) {{", v, lo,
                       hi)
             .str());
    ++depth;
    bindInnermost(r, inIdx, v);
    for (auto [q, part] : llvm::zip(rs, parts))
      if (failed(accumulateInput(q, part, inIdx)))
        return failure();
    closeTo(depth - 1);
    for (auto [acc, part] : llvm::zip(accs, parts))
      line(acc + " += " + part + ";");
    closeTo(depth - opened);
    SmallVector<std::string> values;
    for (const std::string &acc : accs)
      values.push_back(fresh(elemOf(r.input), "(" + r.cty + ")" + acc));
    return values;
  }

  /// How many rows of the input a float block of an f32 sum spans when the
  /// two innermost input dims are reduced and a row is shorter than a block
  /// (an image row of a per-channel sum: 64 of H x W): a divisor of the
  /// second-innermost dim, at least 2. 0 otherwise.
  int64_t rowsPerSumBlock(const ReduceInfo &r) {
    ArrayRef<int64_t> shape = shapeOf(r.input);
    int64_t rank = shape.size();
    if (r.dims.size() < 2 || r.dims.back() != rank - 1 ||
        r.dims[r.dims.size() - 2] != rank - 2)
      return 0;
    int64_t n = shape[rank - 1], m = shape[rank - 2];
    if (n % kLanes != 0 || n >= kSumBlock)
      return 0;
    int64_t rows = std::min(kSumBlock / n, m);
    while (m % rows != 0)
      --rows;
    return rows >= 2 ? rows : 0;
  }

  /// blockedSums over short rows: a block is `rows` rows, summed in kLanes
  /// float lanes (the same elements per lane as a block of one long row),
  /// which add into `acc` once per block. A horizontal sum and a double add
  /// per 64-float row cost a per-channel sum a third of its bandwidth when
  /// the input streams from memory.
  FailureOr<SmallVector<std::string>>
  rowBlockedSums(ArrayRef<ReduceInfo> rs, const Index &outIdx,
                 ArrayRef<std::string> accs, int64_t rows) {
    const ReduceInfo &r = rs.front();
    ArrayRef<int64_t> shape = shapeOf(r.input);
    int64_t rank = shape.size();
    int opened = 0;
    Index inIdx = openReductionLoops(r, outIdx, "", opened, /*leave=*/2);
    std::string block = "r" + std::to_string(counter++);
    std::string row = "r" + std::to_string(counter++);
    std::string strip = "r" + std::to_string(counter++);
    std::string lane = "l" + std::to_string(counter++);
    SmallVector<std::string> parts;
    for (size_t k = 0; k < rs.size(); ++k)
      parts.push_back("acc" + std::to_string(counter++));
    line(llvm::formatv("for (int64_t {0} = 0; {0} < {1}; {0} += {2}) {{", block,
                       shape[rank - 2], rows)
             .str());
    ++depth;
    for (const std::string &part : parts)
      line(llvm::formatv("{0} {1}[{2}] = {{};", r.cty, part, kLanes).str());
    line(llvm::formatv("for (int64_t {0} = {1}; {0} < {1} + {2}; ++{0}) {{",
                       row, block, rows)
             .str());
    line(llvm::formatv("  for (int64_t {0} = 0; {0} < {1}; {0} += {2}) {{",
                       strip, shape[rank - 1], kLanes)
             .str());
    depth += 2;
    line("#pragma omp simd");
    line(llvm::formatv("for (int64_t {0} = 0; {0} < {1}; ++{0}) {{", lane, kLanes)
             .str());
    ++depth;
    inIdx[rank - 2] = row;
    inIdx[rank - 1] = "(" + strip + " + " + lane + ")";
    for (auto [q, part] : llvm::zip(rs, parts))
      if (failed(accumulateInput(q, part + "[" + lane + "]", inIdx)))
        return failure();
    closeTo(depth - 3);
    for (auto [acc, part] : llvm::zip(accs, parts))
      line(llvm::formatv("for (int64_t {0} = 0; {0} < {1}; ++{0}) {2} += {3}[{0}];",
                         lane, kLanes, acc, part)
               .str());
    closeTo(depth - 1 - opened);
    SmallVector<std::string> values;
    for (const std::string &acc : accs)
      values.push_back(fresh(elemOf(r.input), "(" + r.cty + ")" + acc));
    return values;
  }

  /// A max over a contiguous innermost dim, kLanes accumulators wide: each
  /// lane keeps its NaN-propagating max (a select the compiler vectorizes,
  /// where one accumulator is a serial chain), then the lanes combine.
  FailureOr<std::string> laneReduce(const ReduceInfo &r, const Index &outIdx) {
    std::string acc = "acc" + std::to_string(counter++);
    std::string lane = "l" + std::to_string(counter++);
    line(llvm::formatv("{0} {1}[{2}];", r.accTy, acc, kLanes).str());
    line(llvm::formatv("for (int {0} = 0; {0} < {1}; ++{0}) {2}[{0}] = {3};",
                       lane, kLanes, acc, r.init)
             .str());
    int opened = 0;
    Index inIdx = openReductionLoops(r, outIdx, "", opened,
                                     /*leave=*/1);
    int64_t n = shapeOf(r.input).back();
    int64_t main = n / kLanes * kLanes;
    std::string strip = "r" + std::to_string(counter++);
    line(llvm::formatv("for (int64_t {0} = 0; {0} < {1}; {0} += {2}) {{", strip,
                       main, kLanes)
             .str());
    ++depth;
    line("#pragma omp simd");
    line(llvm::formatv("for (int64_t {0} = 0; {0} < {1}; ++{0}) {{", lane, kLanes)
             .str());
    ++depth;
    bindInnermost(r, inIdx, "(" + strip + " + " + lane + ")");
    if (failed(accumulateInput(r, acc + "[" + lane + "]", inIdx)))
      return failure();
    closeTo(depth - 2);
    if (main < n) {
      std::string rest = "r" + std::to_string(counter++);
      line(llvm::formatv("for (int64_t {0} = {1}; {0} < {2}; ++{0}) {{", rest,
                         main, n)
               .str());
      ++depth;
      bindInnermost(r, inIdx, rest);
      if (failed(accumulateInput(r, acc + "[0]", inIdx)))
        return failure();
      closeTo(depth - 1);
    }
    closeTo(depth - opened);
    std::string all = "acc" + std::to_string(counter++);
    line(r.accTy + " " + all + " = " + acc + "[0];");
    line(llvm::formatv("for (int {0} = 1; {0} < {1}; ++{0}) ", lane, kLanes)
             .str() +
         accumulate(r, all, acc + "[" + lane + "]"));
    return fresh(elemOf(r.input), "(" + r.cty + ")" + all);
  }

  /// Loops over the domain: OpenMP over all dims but the last.
  LogicalResult emitLoopNest() {
    int64_t rank = domain.size();
    int64_t outer = 1;
    for (int64_t d = 0; d + 1 < rank; ++d)
      outer *= domain[d];
    int64_t inner = rank ? domain.back() : 1;
    double work = double(outer) * double(inner) * double(reductionWork());
    // A pointwise kernel with few rows (a flat tensor is one row) splits
    // its rows into chunks, so every thread gets work.
    bool pointwise = isPointwiseBody(body());
    int64_t chunks = 1;
    if (outer < kMinParallelRows && inner >= 2 * kChunk && pointwise)
      chunks = (inner + kChunk - 1) / kChunk;
    // Few rows of independent reductions (a per-channel sum: one row of 64
    // channels, each summing a whole batch) share out the row instead.
    bool rowValues = false;
    body().walk([&](Operation *op) {
      for (Value r : op->getResults())
        rowValues |= isRowValue(r);
    });
    bool parallelRow = outer < kMinParallelRows && inner > 1 && !rowValues &&
                       !pointwise && work >= kParallelWork;
    Index idx;
    depth = 1;
    scopes.emplace_back();
    if (outer > 1 && failed(emitColumnValues()))
      return failure();
    if (rank > 0) {
      if (outer * chunks > 1 && work >= kParallelWork && !parallelRow)
        line("#pragma omp parallel for schedule(static)");
      if (chunks > 1) {
        line(llvm::formatv("for (int64_t b = 0; b < {0}; ++b) {{", outer * chunks)
                 .str());
        ++depth;
        line(llvm::formatv("const int64_t o = b / {0};", chunks).str());
        line(llvm::formatv("const int64_t lo = b % {0} * {1};", chunks, kChunk)
                 .str());
        line(llvm::formatv("const int64_t hi = lo + {0} < {1} ? lo + {0} : {1};",
                           kChunk, inner)
                 .str());
      } else {
        line(llvm::formatv("for (int64_t o = 0; o < {0}; ++o) {{", outer).str());
        ++depth;
      }
      idx = delinearize("o", ArrayRef<int64_t>(domain).drop_back(), rank - 1, "i");
      idx.push_back("0");
      // Row values, once per row, in block order; the loop body then finds
      // them by their index.
      scopes.emplace_back();
      planRowStash(idx);
      rowVars.insert("i" + std::to_string(rank - 1));
      if (failed(emitRowValues(idx, "o", "")))
        return failure();
      if (parallelRow)
        line("#pragma omp parallel for schedule(static)");
      if (chunks > 1)
        line(llvm::formatv("for (int64_t i{0} = lo; i{0} < hi; ++i{0}) {{",
                           rank - 1)
                 .str());
      else
        line(llvm::formatv("for (int64_t i{0} = 0; i{0} < {1}; ++i{0}) {{",
                           rank - 1, inner)
                 .str());
      ++depth;
      idx.back() = inner == 1 ? "0" : "i" + std::to_string(rank - 1);
    }
    scopes.emplace_back();
    std::string flat =
        rank ? llvm::formatv("o * {0} + i{1}", inner, rank - 1).str() : "0";
    if (failed(storeOutputs(idx, flat)))
      return failure();
    scopes.clear();
    closeTo(1);
    return success();
  }

  /// Column values: values of the column shape that elementwise ops compute
  /// from the kernel's inputs (BatchNorm's rsqrt(var / n + eps) on NHWC
  /// data) and that a full-size op reads. Every row would compute them
  /// again along its inner loop, where the compiler cannot hoist them; one
  /// loop before the rows computes each into an array of its own, and the
  /// rows load them (the scope maps each value at its column index to its
  /// array's element).
  LogicalResult emitColumnValues() {
    auto column = [&](Value v) { return isColumnShape(shapeOf(v), domain); };
    SmallVector<Value> values;
    for (Operation &op : body().without_terminator()) {
      if (op.getNumResults() != 1 || isView(&op) || isa<ConstantOp>(&op) ||
          isa<ReduceSumOp, ReduceMaxOp>(op) || !column(op.getResult(0)) ||
          llvm::none_of(op.getUsers(), [&](Operation *user) {
            return user->getNumResults() == 1 && !column(user->getResult(0));
          }))
        continue;
      // Elementwise from inputs and constants: no reduction on the way.
      llvm::SetVector<Operation *> slice;
      BackwardSliceOptions inBody; // stop at the kernel's arguments
      inBody.omitBlockArguments = true;
      if (succeeded(getBackwardSlice(&op, &slice, inBody)) &&
          llvm::none_of(slice, [](Operation *o) {
            return isa<ReduceSumOp, ReduceMaxOp>(o);
          }))
        values.push_back(op.getResult(0));
    }
    if (values.empty())
      return success();
    std::string var = "i" + std::to_string(domain.size() - 1);
    SmallVector<std::string> arrays;
    for (Value v : values) {
      arrays.push_back("col" + std::to_string(arrays.size()));
      line(*cTypeOf(elemOf(v)) + " " + arrays.back() + "[" +
           std::to_string(domain.back()) + "];");
    }
    line(llvm::formatv("for (int64_t {0} = 0; {0} < {1}; ++{0}) {{", var,
                       domain.back())
             .str());
    ++depth;
    scopes.emplace_back();
    SmallVector<std::string> keys;
    for (auto [v, array] : llvm::zip(values, arrays)) {
      Index idx(shapeOf(v).size() - 1, "0");
      idx.push_back(var);
      FailureOr<std::string> value = eval(v, idx);
      if (failed(value))
        return failure();
      line(array + "[" + var + "] = " + *value + ";");
      keys.push_back(llvm::join(idx, ","));
    }
    scopes.pop_back();
    closeTo(depth - 1);
    for (auto [v, array, key] : llvm::zip(values, arrays, keys))
      scopes.back()[{v.getAsOpaquePointer(), key}] = array + "[" + var + "]";
    return success();
  }

  /// Reductions that keep the input's innermost dim (bias gradients) walk
  /// the input row by row: a strip of accumulators along the innermost dim,
  /// so every load is unit-stride. Every reduction of the kernel with `op`'s
  /// input shape, dims and accumulator (graphopt-fuse-siblings merges a
  /// LayerNorm's bias and weight gradients) adds into strips of its own in
  /// the same loops, so an input they share is read once.
  LogicalResult emitColumnReduction(Operation *op) {
    ReduceInfo r = reduceInfo(op);
    SmallVector<Operation *> joint = jointReductions(op);
    auto strips = [&](StringRef prefix, size_t k) {
      return (prefix + (k ? "_" + std::to_string(k) : "")).str();
    };
    ArrayRef<int64_t> inShape = shapeOf(r.input);
    ArrayRef<int64_t> outShape = shapeOf(op->getResult(0));
    int64_t inner = inShape.back();
    int64_t outer = 1;
    for (int64_t d = 0; d + 1 < (int64_t)outShape.size(); ++d)
      outer *= outShape[d];
    int64_t work = 1;
    for (int64_t d : inShape)
      work *= d;
    // An f32 sum adds blocks of up to kSumBlock rows in float partials, the
    // blocks in double (as blockedSums does): float lanes are twice as wide,
    // and GCC if-converts a select (ReLU) feeding a float accumulator but not
    // one feeding a double, leaving a branch on the data's sign.
    int64_t n = inShape[r.dims.back()];
    bool blocked = r.isSum && r.accTy != r.cty && n >= kMinSumBlock;
    // Few strips (a bias gradient or a per-channel sum of NHWC data is one
    // strip) would leave threads idle: the outermost reduced dim is split
    // into row ranges, each folded into a partial strip, and a serial pass
    // folds the partials in range order (the same result for any thread
    // count). When that dim is the one summed in float blocks, a range is
    // whole blocks, so a block's float partial is the same either way.
    int64_t first = r.dims.front();
    bool blockRanges = blocked && r.dims.size() == 1 && n > kSumBlock;
    int64_t splittable = blockRanges ? (n + kSumBlock - 1) / kSumBlock
                         : blocked && r.dims.size() == 1 ? 1
                                                         : inShape[first];
    // A strip spans a whole row where the accumulators fit (kStripElems
    // per kernel, ~96 KB of float partials and double sums), so a thread
    // streams its rows: strips of 256 columns of a 768-column row read
    // 1 KB runs at half the bandwidth of whole rows. Longer rows are cut
    // into equal strips; so are rows that cannot be split into ranges,
    // into kNarrowStrip columns, for the threads.
    int64_t cap = std::max<int64_t>(
        kLanes, std::min<int64_t>(kMaxStrip, kStripElems / (int64_t)joint.size()) /
                    kLanes * kLanes);
    if (splittable == 1 && outer < kMinParallelRows && work >= kParallelWork)
      cap = std::min(cap, kNarrowStrip);
    int64_t stripCount = (inner + cap - 1) / cap;
    int64_t strip = std::min(
        inner, ((inner + stripCount - 1) / stripCount + kLanes - 1) / kLanes * kLanes);
    int64_t units = outer * stripCount, ranges = 1;
    if (units < kMinParallelRows && work >= kParallelWork) {
      int64_t bytes = units * strip * 8 * (int64_t)joint.size();
      ranges = std::clamp<int64_t>(kRangeBytes / bytes, 1,
                                   std::min<int64_t>(splittable, 16));
    }
    auto openUnit = [&](const std::string &u) {
      line(llvm::formatv("const int64_t o = {0} / {1};", u, stripCount).str());
      line(llvm::formatv("const int64_t c0 = {0} % {1} * {2};", u, stripCount,
                         strip)
               .str());
      line(llvm::formatv("const int64_t cn = c0 + {0} <= {1} ? {0} : {1} - c0;",
                         strip, inner)
               .str());
    };

    depth = 1;
    if (ranges > 1)
      for (size_t k = 0; k < joint.size(); ++k)
        line(llvm::formatv("{0} {1}[{2}][{3}];", r.accTy, strips("ranges", k),
                           units * ranges, strip)
                 .str());
    if (units * ranges > 1 && work >= kParallelWork)
      line("#pragma omp parallel for schedule(static)");
    line(llvm::formatv("for (int64_t b = 0; b < {0}; ++b) {{", units * ranges)
             .str());
    ++depth;
    // This range of `count` rows (or blocks of `scale` rows, the last one
    // cut at `limit`), b % ranges of ranges.
    auto range = [&](int64_t count, int64_t scale, int64_t limit) {
      std::string times = scale == 1 ? "" : " * " + std::to_string(scale);
      std::string lo = llvm::formatv("b % {0} * {1} / {0}{2}", ranges, count, times);
      std::string hi = llvm::formatv("(b % {0} + 1) * {1} / {0}{2}", ranges, count, times);
      if (scale != 1)
        hi = llvm::formatv("({0} < {1} ? {0} : {1})", hi, limit);
      return std::make_pair(lo, hi);
    };
    std::optional<std::pair<std::string, std::string>> rows, blockRows;
    if (ranges > 1) {
      openUnit(llvm::formatv("(b / {0})", ranges).str());
      if (blockRanges)
        blockRows = range((n + kSumBlock - 1) / kSumBlock, kSumBlock, n);
      else
        rows = range(inShape[first], 1, inShape[first]);
    } else {
      openUnit("b");
    }
    Index outIdx =
        delinearize("o", outShape.drop_back(), outShape.size() - 1, "i");
    outIdx.push_back("(c0 + j)");
    auto declareStrips = [&] {
      for (size_t k = 0; k < joint.size(); ++k) {
        line(r.accTy + " " + strips("acc", k) + "[" + std::to_string(strip) + "];");
        line("for (int64_t j = 0; j < cn; ++j) " + strips("acc", k) +
             "[j] = " + r.init + ";");
      }
    };
    declareStrips();

    std::string target = blocked ? "part" : "acc";
    int opened = 0;
    Index inIdx = openReductionLoops(r, outIdx, "", opened,
                                     /*leave=*/blocked ? 1 : 0, rows);
    if (blocked) {
      auto [lo, hi] = openSumBlock(n, opened, blockRows);
      for (size_t k = 0; k < joint.size(); ++k) {
        line(r.cty + " " + strips("part", k) + "[" + std::to_string(strip) + "];");
        line("for (int64_t j = 0; j < cn; ++j) " + strips("part", k) + "[j] = 0;");
      }
      std::string v = "r" + std::to_string(counter++);
      line(llvm::formatv("for (int64_t {0} = {1}; {0} < {2}; ++{0}) {{", v, lo,
                         hi)
               .str());
      ++depth;
      bindInnermost(r, inIdx, v);
    }
    line("#pragma omp simd");
    line("for (int64_t j = 0; j < cn; ++j) {");
    ++depth;
    for (auto [k, o] : llvm::enumerate(joint))
      if (failed(accumulateInput(reduceInfo(o), strips(target, k) + "[j]", inIdx)))
        return failure();
    if (blocked) {
      closeTo(depth - 2);
      for (size_t k = 0; k < joint.size(); ++k)
        line(llvm::formatv("for (int64_t j = 0; j < cn; ++j) {0}[j] += {1}[j];",
                           strips("acc", k), strips("part", k))
                 .str());
      closeTo(depth - opened);
    } else {
      closeTo(depth - 1 - opened);
    }
    if (ranges > 1) {
      // This range's partials; then, serially, each strip folds its ranges.
      for (size_t k = 0; k < joint.size(); ++k)
        line(llvm::formatv("for (int64_t j = 0; j < cn; ++j) {0}[b][j] = {1}[j];",
                           strips("ranges", k), strips("acc", k))
                 .str());
      closeTo(1);
      line(llvm::formatv("for (int64_t u = 0; u < {0}; ++u) {{", units).str());
      ++depth;
      openUnit("u");
      delinearize("o", outShape.drop_back(), outShape.size() - 1, "i");
      declareStrips();
      line(llvm::formatv("for (int64_t s = 0; s < {0}; ++s)", ranges).str());
      line("  for (int64_t j = 0; j < cn; ++j) {");
      for (auto [k, o] : llvm::enumerate(joint))
        line("    " + accumulate(reduceInfo(o), strips("acc", k) + "[j]",
                                 strips("ranges", k) + "[u * " +
                                     std::to_string(ranges) + " + s][j]"));
      line("  }");
    }
    // The outputs (the sums and their epilogue) at each column of the strip.
    line("for (int64_t j = 0; j < cn; ++j) {");
    ++depth;
    scopes.emplace_back();
    for (auto [k, o] : llvm::enumerate(joint))
      scopes.back()[{o->getResult(0).getAsOpaquePointer(), llvm::join(outIdx, ",")}] =
          fresh(elemOf(r.input), "(" + r.cty + ")" + strips("acc", k) + "[j]");
    if (failed(storeOutputs(outIdx, llvm::formatv("o * {0} + c0 + j", inner))))
      return failure();
    scopes.clear();
    closeTo(1);
    return success();
  }
};

} // namespace

FailureOr<std::string> graphopt::emitCpuKernels(func::FuncOp func) {
  return emitKernels<CpuKernelEmitter>(
      func, "// Generated by graphopt from @" + func.getSymName().str() +
                ". One function per distinct graphopt.kernel (kernels with\n"
                "// the same code share one).\n"
                "#include \"graphopt_kernel_math.h\"\n\n");
}
