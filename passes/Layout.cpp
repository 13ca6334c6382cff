//===- Layout.cpp - channels-last convolutions, transposed matmul operands ===//
//
// mkldnn runs a 2-D convolution 1.4x (64 -> 64 channels) to 14x (3 -> 64)
// faster on NHWC data than on NCHW, but converting the layout around each
// call costs about what it gains. So the pass runs every 2-D convolution on
// NHWC operands (graphopt::convolution_channels_last), between permutes, and
// then moves the NHWC -> NCHW permutes down through the elementwise ops and
// reductions that follow until they meet the next convolution's NCHW -> NHWC
// permute and cancel. The BatchNorm / ReLU / residual kernels between two
// convolutions then read and write NHWC, and transposes remain only where
// the layout leaves the graph (as views, or as index math inside a kernel).
//
// Training graphs too: the backward's convolution_backward runs on NHWC
// operands, and a forward graph's saved activations (graphopt.saved_results)
// are returned NHWC, as NCHW views with channels-last strides, which the
// backward graph imports as NHWC arguments: no copy at the graph boundary.
//
// Before that, a matmul operand that copies a transpose of its last two dims
// becomes a transposed view of a copy along the rows (the GEMM takes either).
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/IR/OwningOpRef.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/Support/JSON.h"

namespace graphopt {
#define GEN_PASS_DEF_GRAPHOPTLAYOUT
#include "passes/Passes.h.inc"
} // namespace graphopt

using namespace mlir;
using namespace graphopt;

namespace {

constexpr int64_t kToNHWC[] = {0, 2, 3, 1};
constexpr int64_t kToNCHW[] = {0, 3, 1, 2};
constexpr llvm::StringLiteral kConvolution = "aten::convolution.default";
constexpr llvm::StringLiteral kChannelsLast =
    "graphopt::convolution_channels_last.default";
constexpr llvm::StringLiteral kConvolutionBackward =
    "aten::convolution_backward.default";
constexpr llvm::StringLiteral kChannelsLastBackward =
    "graphopt::convolution_backward_channels_last.default";
/// The results of a training forward graph that only its backward graph
/// reads (saved activations): their layout is graphopt's to choose.
constexpr llvm::StringLiteral kSavedResultsAttr = "graphopt.saved_results";

SmallVector<int64_t> permuted(ArrayRef<int64_t> shape, ArrayRef<int64_t> perm) {
  SmallVector<int64_t> r;
  for (int64_t p : perm)
    r.push_back(shape[p]);
  return r;
}

/// Marks the permutes the pass creates, so the ones that reach a return can
/// be told from the graph's own views (removed when the pass ends).
constexpr llvm::StringLiteral kLayoutAttr = "graphopt.layout";

Value permute(PatternRewriter &rw, Location loc, Value v,
              ArrayRef<int64_t> perm) {
  auto p = PermuteOp::create(
      rw, loc, withShape(v.getType(), permuted(shapeOf(v), perm)), v, perm);
  p->setAttr(kLayoutAttr, rw.getUnitAttr());
  return p;
}

/// `op` (an elementwise op) again, on other operands and of another shape.
Value recreate(PatternRewriter &rw, Operation *op, ValueRange operands,
               Type resultType) {
  OperationState state(op->getLoc(), op->getName());
  state.addOperands(operands);
  state.addTypes(resultType);
  state.addAttributes(op->getAttrs());
  return rw.create(state)->getResult(0);
}

bool isLayoutPermute(Operation *op) {
  auto p = dyn_cast_or_null<PermuteOp>(op);
  return p && p.getPermutation() == ArrayRef<int64_t>(kToNCHW);
}

/// aten::convolution (2-D, not transposed, input operand 0) becomes the
/// channels-last convolution between an NCHW -> NHWC permute of its input and
/// an NHWC -> NCHW permute of its result.
struct ConvolutionToChannelsLast : OpRewritePattern<ExternOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ExternOp op,
                                PatternRewriter &rw) const override {
    if (op.getCallee() != kConvolution || op->getNumResults() != 1 ||
        op.getInputs().size() < 2)
      return failure();
    // {"args": [input, weight, bias, stride, padding, dilation, transposed,
    //           output_padding, groups], "kwargs": {}}
    std::optional<llvm::json::Array> args = externPositionalArgs(op);
    if (!args || args->size() != 9 || !isTensorRef((*args)[0], 0) ||
        (*args)[6].getAsBoolean() != false)
      return failure();
    Value x = op.getInputs()[0], w = op.getInputs()[1], y = op.getResult(0);
    if (shapeOf(x).size() != 4 || shapeOf(w).size() != 4 ||
        shapeOf(y).size() != 4)
      return failure();

    SmallVector<Value> inputs(op.getInputs());
    inputs[0] = permute(rw, op.getLoc(), x, kToNHWC);
    auto conv = ExternOp::create(
        rw, op.getLoc(),
        TypeRange{withShape(y.getType(), permuted(shapeOf(y), kToNHWC))},
        kChannelsLast, inputs, op.getArgs());
    // What the importer knew about the aten op (graphopt.fresh_results)
    // holds for the convolution that replaces it.
    conv->setDiscardableAttrs(op->getDiscardableAttrDictionary());
    rw.replaceOp(op, permute(rw, op.getLoc(), conv.getResult(0), kToNCHW));
    return success();
  }
};

/// aten::convolution_backward (2-D, not transposed) becomes the channels-last
/// one: its grad_output and input operands are permuted to NHWC, and its
/// input gradient, NHWC, is permuted back. The weight and bias gradients keep
/// their layouts. mkldnn computes both gradients about 2x faster from NHWC
/// operands here (64 -> 64 channels, 3x3).
struct ConvolutionBackwardToChannelsLast : OpRewritePattern<ExternOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ExternOp op,
                                PatternRewriter &rw) const override {
    if (op.getCallee() != kConvolutionBackward || op.getInputs().size() != 3)
      return failure();
    // [grad_output, input, weight, bias_sizes, stride, padding, dilation,
    //  transposed, output_padding, groups, output_mask]
    std::optional<llvm::json::Array> args = externPositionalArgs(op);
    if (!args || args->size() != 11 || !isTensorRef((*args)[0], 0) ||
        !isTensorRef((*args)[1], 1) || !isTensorRef((*args)[2], 2) ||
        (*args)[7].getAsBoolean() != false)
      return failure();
    const llvm::json::Array *mask = (*args)[10].getAsArray();
    if (!mask || mask->size() != 3)
      return failure();
    // The op has a result per true entry of output_mask, in order.
    int64_t results = 0;
    for (const llvm::json::Value &m : *mask) {
      std::optional<bool> b = m.getAsBoolean();
      if (!b)
        return failure();
      results += *b;
    }
    bool inputGradient = *(*mask)[0].getAsBoolean();
    Value dy = op.getInputs()[0], x = op.getInputs()[1], w = op.getInputs()[2];
    if ((int64_t)op->getNumResults() != results || shapeOf(dy).size() != 4 ||
        shapeOf(x).size() != 4 || shapeOf(w).size() != 4 ||
        (inputGradient && shapeOf(op->getResult(0)) != shapeOf(x)))
      return failure();

    SmallVector<Value> inputs = {permute(rw, op.getLoc(), dy, kToNHWC),
                                 permute(rw, op.getLoc(), x, kToNHWC), w};
    SmallVector<Type> types(op->getResultTypes());
    if (inputGradient)
      types[0] = withShape(types[0], permuted(shapeOf(x), kToNHWC));
    auto grads = ExternOp::create(rw, op.getLoc(), types, kChannelsLastBackward,
                                  inputs, op.getArgs());
    grads->setDiscardableAttrs(op->getDiscardableAttrDictionary());
    SmallVector<Value> replacements(grads->getResults());
    if (inputGradient)
      replacements[0] = permute(rw, op.getLoc(), replacements[0], kToNCHW);
    rw.replaceOp(op, replacements);
    return success();
  }
};

/// f(permute(a), b) -> permute(f(a, b')): an elementwise op whose full-size
/// operands are all NHWC -> NCHW permutes computes in NHWC. Smaller
/// (broadcast) operands are brought to the same rank and permuted to NHWC;
/// rank-0 scalars broadcast as they are.
struct SinkPermuteThroughElementwise : RewritePattern {
  SinkPermuteThroughElementwise(MLIRContext *ctx)
      : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/1, ctx) {}
  LogicalResult matchAndRewrite(Operation *op,
                                PatternRewriter &rw) const override {
    if (!isElementwise(op) || op->getNumResults() != 1 ||
        op->getNumRegions() != 0)
      return failure();
    ArrayRef<int64_t> shape = shapeOf(op->getResult(0));
    if (shape.size() != 4)
      return failure();
    bool any = false;
    for (Value in : op->getOperands()) {
      if (shapeOf(in) != shape)
        continue;
      if (!isLayoutPermute(in.getDefiningOp()))
        return failure();
      any = true;
    }
    if (!any)
      return failure();
    SmallVector<Value> operands;
    for (Value in : op->getOperands()) {
      if (shapeOf(in) == shape) {
        operands.push_back(in.getDefiningOp<PermuteOp>().getInput());
        continue;
      }
      ArrayRef<int64_t> s = shapeOf(in);
      if (s.empty()) {
        operands.push_back(in);
        continue;
      }
      Value aligned = in;
      if (s.size() < 4) {
        SmallVector<int64_t> padded(4 - s.size(), 1);
        padded.append(s.begin(), s.end());
        aligned = ReshapeOp::create(rw, op->getLoc(),
                                    withShape(in.getType(), padded), in);
      }
      operands.push_back(permute(rw, op->getLoc(), aligned, kToNHWC));
    }
    Value nhwc = recreate(rw, op, operands,
                          withShape(op->getResult(0).getType(),
                                    permuted(shape, kToNHWC)));
    rw.replaceOp(op, permute(rw, op->getLoc(), nhwc, kToNCHW));
    return success();
  }
};

/// broadcast(x) of a [N, C, 1, 1] value to [N, C, H, W] (a global average
/// pool's gradient, a squeeze-excitation scale) is the NCHW view of the NHWC
/// broadcast of x as [N, 1, 1, C]: a layout permute, which the rewrites above
/// and below move down as they move a convolution's. Without it, a backward
/// graph that starts from a pool's gradient would compute NCHW until its
/// first convolution_backward.
struct BroadcastPerChannelToNHWC : OpRewritePattern<BroadcastOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(BroadcastOp op,
                                PatternRewriter &rw) const override {
    ArrayRef<int64_t> in = shapeOf(op.getInput()), out = shapeOf(op);
    // C > 1: the NHWC broadcast this makes does not match again.
    if (in.size() != 4 || out.size() != 4 || in[1] == 1 || in[2] != 1 ||
        in[3] != 1 || (out[2] == 1 && out[3] == 1))
      return failure();
    Value x = ReshapeOp::create(
        rw, op.getLoc(),
        withShape(op.getType(), {in[0], 1, 1, in[1]}), op.getInput());
    Value nhwc = BroadcastOp::create(
        rw, op.getLoc(), withShape(op.getType(), permuted(out, kToNHWC)), x);
    rw.replaceOp(op, permute(rw, op.getLoc(), nhwc, kToNCHW));
    return success();
  }
};

/// reduce(permute(a), dims) -> reduce(a, dims') and, where the kept dims
/// come out in another order, a permute of the result.
template <typename ReduceOp>
struct SinkPermuteThroughReduction : OpRewritePattern<ReduceOp> {
  using OpRewritePattern<ReduceOp>::OpRewritePattern;
  LogicalResult matchAndRewrite(ReduceOp op,
                                PatternRewriter &rw) const override {
    auto p = op.getInput().template getDefiningOp<PermuteOp>();
    if (!p || !isLayoutPermute(p))
      return failure();
    ArrayRef<int64_t> perm = p.getPermutation();
    SmallVector<int64_t> dims;
    for (int64_t d : op.getDims())
      dims.push_back(perm[d]);
    llvm::sort(dims);
    Value a = p.getInput();
    SmallVector<int64_t> shape(shapeOf(a));
    SmallVector<int64_t> kept; // a's dims the result keeps, in a's order
    for (int64_t d = 0; d < (int64_t)shape.size(); ++d) {
      if (llvm::is_contained(dims, d)) {
        shape[d] = 1;
        if (!op.getKeepdim())
          continue;
      }
      kept.push_back(d);
    }
    SmallVector<int64_t> resultShape;
    for (int64_t d : kept)
      resultShape.push_back(shape[d]);
    auto reduced = ReduceOp::create(
        rw, op.getLoc(), withShape(op.getType(), resultShape), a,
        rw.getDenseI64ArrayAttr(dims), op.getKeepdim());
    // The result's dim i is the original's kept dim i, i.e. a's dim perm[j]
    // for the j-th kept original dim.
    SmallVector<int64_t> order;
    for (int64_t d = 0; d < (int64_t)perm.size(); ++d)
      if (op.getKeepdim() || !llvm::is_contained(op.getDims(), d))
        order.push_back(llvm::find(kept, perm[d]) - kept.begin());
    bool identity = llvm::equal(order, llvm::seq<int64_t>(0, order.size()));
    rw.replaceOp(op, identity ? reduced.getResult()
                              : permute(rw, op.getLoc(), reduced, order));
    return success();
  }
};

/// permute(permute(x, a), b) -> permute(x, a o b), or x.
struct ComposePermutes : OpRewritePattern<PermuteOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(PermuteOp op,
                                PatternRewriter &rw) const override {
    ArrayRef<int64_t> outer = op.getPermutation();
    if (llvm::equal(outer, llvm::seq<int64_t>(0, outer.size()))) {
      rw.replaceOp(op, op.getInput());
      return success();
    }
    auto inner = op.getInput().getDefiningOp<PermuteOp>();
    if (!inner)
      return failure();
    SmallVector<int64_t> composed;
    for (int64_t d : outer)
      composed.push_back(inner.getPermutation()[d]);
    Value p = permute(rw, op.getLoc(), inner.getInput(), composed);
    if (!op->hasAttr(kLayoutAttr) && !inner->hasAttr(kLayoutAttr))
      p.getDefiningOp()->removeAttr(kLayoutAttr);
    rw.replaceOp(op, p);
    return success();
  }
};

/// A permute that keeps the order of the dims larger than 1 is a reshape
/// (a per-channel [1,C,1,1] parameter to [1,1,1,C]).
struct PermuteOfUnitDimsToReshape : OpRewritePattern<PermuteOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(PermuteOp op,
                                PatternRewriter &rw) const override {
    ArrayRef<int64_t> in = shapeOf(op.getInput());
    int64_t last = -1;
    for (int64_t p : op.getPermutation()) {
      if (in[p] == 1)
        continue;
      if (p < last)
        return failure();
      last = p;
    }
    rw.replaceOpWithNewOp<ReshapeOp>(op, op.getType(), op.getInput());
    return success();
  }
};

/// reshape(f(a, b)) -> f(reshape(a), reshape(b)) for an elementwise f whose
/// operands have its shape (or are scalars) and a reshape that only adds,
/// drops or moves size-1 dims: the reshape of a per-channel parameter moves
/// to the parameter, and the arithmetic on it (BatchNorm's rsqrt(var + eps))
/// can join the kernel that uses it, which a reshape between them prevents.
struct HoistUnitReshapeThroughElementwise : OpRewritePattern<ReshapeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ReshapeOp op,
                                PatternRewriter &rw) const override {
    Operation *def = op.getInput().getDefiningOp();
    if (!def || !isElementwise(def) || def->getNumResults() != 1 ||
        def->getNumRegions() != 0)
      return failure();
    auto nonUnit = [](ArrayRef<int64_t> shape) {
      SmallVector<int64_t> r;
      for (int64_t d : shape)
        if (d != 1)
          r.push_back(d);
      return r;
    };
    ArrayRef<int64_t> from = shapeOf(op.getInput()), to = shapeOf(op);
    if (from.empty() || nonUnit(from) != nonUnit(to))
      return failure();
    if (llvm::any_of(def->getOperands(), [&](Value in) {
          return !shapeOf(in).empty() && shapeOf(in) != from;
        }))
      return failure();
    SmallVector<Value> operands;
    for (Value in : def->getOperands())
      operands.push_back(shapeOf(in).empty()
                             ? in
                             : ReshapeOp::create(rw, op.getLoc(),
                                                 withShape(in.getType(), to),
                                                 in));
    rw.replaceOp(op, recreate(rw, def, operands, op.getType()));
    return success();
  }
};

/// A matmul operand that copies a transpose of its last two dims, and maybe
/// merges the leading dims (attention's k.transpose(-2, -1) made contiguous
/// for bmm), is instead the transposed view of a copy of the untransposed
/// tensor: matmul(reshape(copy(transpose(x)))) -> matmul(transpose(
/// reshape(copy(x)))), without the copy when x is not a view. The GEMM
/// reads a transposed operand at no cost; the copy, now along x's rows,
/// streams instead of striding by a row per element (GPT-2's k head split
/// ran at a third of copy bandwidth).
struct TransposeIntoMatmulOperand : RewritePattern {
  TransposeIntoMatmulOperand(MLIRContext *ctx)
      : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/1, ctx) {}

  LogicalResult matchAndRewrite(Operation *op,
                                PatternRewriter &rw) const override {
    if (!isa<MatmulOp, BatchMatmulOp, AddmmOp>(op))
      return failure();
    for (OpOperand &operand : op->getOpOperands())
      if (!(isa<AddmmOp>(op) && operand.getOperandNumber() == 0) && // bias
          succeeded(fold(operand, rw)))
        return success();
    return failure();
  }

private:
  static SmallVector<int64_t> swapLastTwo(int64_t rank) {
    auto perm = llvm::to_vector(llvm::seq<int64_t>(0, rank));
    std::swap(perm[rank - 1], perm[rank - 2]);
    return perm;
  }

  /// Whether `use` is the operand of a return that lists it among the
  /// function's saved results (a forward graph's activations for its
  /// backward graph, which takes any strides: see graphopt-layout's doc).
  static bool isSavedResult(OpOperand &use) {
    auto ret = dyn_cast<func::ReturnOp>(use.getOwner());
    if (!ret)
      return false;
    auto saved = ret->getParentOfType<func::FuncOp>()->getAttrOfType<DenseI64ArrayAttr>(
        kSavedResultsAttr);
    return saved && llvm::is_contained(saved.asArrayRef(),
                                       (int64_t)use.getOperandNumber());
  }

  static LogicalResult fold(OpOperand &operand, PatternRewriter &rw) {
    Value v = operand.get();
    auto reshape = v.getDefiningOp<ReshapeOp>();
    Value copied = reshape ? reshape.getInput() : v;
    auto copy = copied.getDefiningOp<CastOp>();
    // Its other uses may be saved results: they leave as the transposed
    // view too (the backward graph's bmm reads k^T saved that way).
    if (!copy || copy.getType() != copy.getInput().getType() ||
        (reshape && !copy->hasOneUse()) ||
        llvm::any_of(v.getUses(), [&](OpOperand &use) {
          return &use != &operand && !isSavedResult(use);
        }))
      return failure();
    auto transpose = copy.getInput().getDefiningOp<PermuteOp>();
    ArrayRef<int64_t> from = shapeOf(copied), to = shapeOf(v);
    if (!transpose || from.size() < 2 || to.size() < 2 ||
        transpose.getPermutation() != ArrayRef<int64_t>(swapLastTwo(from.size())) ||
        from.take_back(2) != to.take_back(2))
      return failure();
    rw.setInsertionPoint(operand.getOwner());
    // x is copied only if it is an index view (a head split's slice and
    // permute); other values are contiguous tensors already.
    Value x = transpose.getInput(), c = x;
    if (Operation *def = x.getDefiningOp(); def && isIndexView(def))
      c = CastOp::create(rw, copy.getLoc(), x.getType(), x);
    if (reshape) {
      SmallVector<int64_t> shape(to);
      std::swap(shape[to.size() - 1], shape[to.size() - 2]);
      c = ReshapeOp::create(rw, reshape.getLoc(), withShape(v.getType(), shape), c);
    }
    Value t = PermuteOp::create(rw, transpose.getLoc(), v.getType(), c,
                                swapLastTwo(to.size()));
    rw.replaceAllUsesWith(v, t);
    if (reshape)
      rw.eraseOp(reshape);
    rw.eraseOp(copy);
    if (transpose->use_empty())
      rw.eraseOp(transpose);
    return success();
  }
};

/// Whether training graphs change layout (convolution_backward and the
/// per-channel broadcast rewritten, saved results left NHWC): not where the
/// kernels run on CUDA. The CUDA emitter sums a per-channel reduction of
/// NHWC data with one block per channel over strided rows: on an H100,
/// resnet_train's NHWC graphs took 161 ms against 7.5 ms NCHW, their
/// BatchNorm sums 3-16 ms each.
bool trainsChannelsLast(func::FuncOp func) { return !kernelsRunOnCuda(func); }

/// The rewrites of this pass, applied to `func` until nothing changes.
LogicalResult propagate(func::FuncOp func) {
  RewritePatternSet patterns(func.getContext());
  if (trainsChannelsLast(func))
    patterns.add<ConvolutionBackwardToChannelsLast, BroadcastPerChannelToNHWC>(
        func.getContext());
  patterns.add<ConvolutionToChannelsLast, SinkPermuteThroughElementwise,
               SinkPermuteThroughReduction<ReduceSumOp>,
               SinkPermuteThroughReduction<ReduceMaxOp>, ComposePermutes,
               PermuteOfUnitDimsToReshape,
               HoistUnitReshapeThroughElementwise>(func.getContext());
  // The reshapes these rewrites make compose as the canonicalizer composes
  // them.
  ReshapeOp::getCanonicalizationPatterns(patterns, func.getContext());
  return applyPatternsGreedily(func, std::move(patterns));
}

/// Returned values that are views through a permute this pass made, other
/// than the results the backward graph alone reads (kSavedResultsAttr),
/// which it receives in whatever layout this graph leaves them.
SmallVector<OpOperand *> returnedLayouts(func::FuncOp func) {
  auto saved = trainsChannelsLast(func)
                   ? func->getAttrOfType<DenseI64ArrayAttr>(kSavedResultsAttr)
                   : DenseI64ArrayAttr();
  auto viaLayoutPermute = [](Value v) {
    while (Operation *def = v.getDefiningOp()) {
      if (!isa<PermuteOp, ReshapeOp, BroadcastOp>(def))
        return false;
      if (def->hasAttr(kLayoutAttr))
        return true;
      v = def->getOperand(0);
    }
    return false;
  };
  SmallVector<OpOperand *> r;
  func.walk([&](func::ReturnOp ret) {
    for (OpOperand &operand : ret->getOpOperands())
      if (viaLayoutPermute(operand.get()) &&
          !(saved && llvm::is_contained(saved.asArrayRef(),
                                        (int64_t)operand.getOperandNumber())))
        r.push_back(&operand);
  });
  return r;
}

struct GraphOptLayout : graphopt::impl::GraphOptLayoutBase<GraphOptLayout> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    RewritePatternSet transposes(func.getContext());
    // ComposePermutes: a backward graph's transpose of a saved k^T, which
    // arrives as the transposed view of k, cancels with the import's.
    transposes.add<TransposeIntoMatmulOperand, ComposePermutes>(func.getContext());
    if (failed(applyPatternsGreedily(func, std::move(transposes))))
      return signalPassFailure();
    // Decide on a copy first: a graph that returns activations the caller
    // reads would copy each back to NCHW, a strided pass that costs more than
    // a convolution gains. Keep the layout only when there are at most half
    // as many such copies as convolutions. (Saved activations need none.)
    OwningOpRef<func::FuncOp> trial = func.clone();
    if (failed(propagate(*trial)))
      return signalPassFailure();
    int64_t convolutions = 0;
    trial->walk([&](ExternOp e) {
      convolutions += e.getCallee() == kChannelsLast ||
                      e.getCallee() == kChannelsLastBackward;
    });
    if (convolutions == 0 ||
        2 * (int64_t)returnedLayouts(*trial).size() > convolutions)
      return;
    func.getBody().takeBody(trial->getBody());
    materializeReturnedLayouts(func);
  }

  /// A returned value must have the layout the caller expects (contiguous
  /// NCHW, as eager returns it; AOTAutograd rebuilds aliased outputs from
  /// their strides): one that is a view through a permute this pass made
  /// is copied (`cast` to its own type), which fusion turns into the kernel
  /// writing NCHW directly.
  static void materializeReturnedLayouts(func::FuncOp func) {
    for (OpOperand *operand : returnedLayouts(func)) {
      OpBuilder b(operand->getOwner());
      operand->set(CastOp::create(b, operand->getOwner()->getLoc(),
                                  operand->get().getType(), operand->get()));
    }
    func.walk([](PermuteOp p) { p->removeAttr(kLayoutAttr); });
  }
};

} // namespace
