//===- ViewCanonicalization.cpp - canonical forms of the view ops ---------===//
//
// Chains of one view op compose (reshape of reshape, slice of slice). And:
// graphopt-fuse pulls a slice into the kernel that reads it (index math over
// the sliced buffer), but not a reshape. PyTorch code reshapes right after
// slicing (q, k, v = qkv.split(d, -1); q.view(b, t, h, d / h)), so the
// canonicalizer swaps the two where the reshape is a view of the slice:
// reshape(slice(x)) becomes slice(reshape(x)), a reshape of a whole
// contiguous buffer (free) and a slice the kernel absorbs. Without it, the
// runtime copies each sliced third to a contiguous tensor before the kernel
// reads it.
//
//===----------------------------------------------------------------------===//
#include "csrc/dialect/GraphOpt.h"

#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace graphopt;

namespace {

/// The strides of `shape` viewed from a tensor of `oldShape` and
/// `oldStrides` without a copy, or nullopt where the reshape would copy
/// (torch's rule for Tensor.view: dims merge only where their strides are
/// contiguous with each other).
std::optional<SmallVector<int64_t>> viewStrides(ArrayRef<int64_t> oldShape,
                                                ArrayRef<int64_t> oldStrides,
                                                ArrayRef<int64_t> shape) {
  SmallVector<int64_t> strides(shape.size(), 1);
  if (oldShape.empty())
    return strides;
  int64_t viewD = (int64_t)shape.size() - 1;
  int64_t chunkBase = oldStrides.back(), tensorN = 1, viewN = 1;
  for (int64_t d = (int64_t)oldShape.size() - 1; d >= 0; --d) {
    tensorN *= oldShape[d];
    // A chunk of dims contiguous with each other ends at d.
    if (d == 0 || (oldShape[d - 1] != 1 &&
                   oldStrides[d - 1] != tensorN * chunkBase)) {
      while (viewD >= 0 && (viewN < tensorN || shape[viewD] == 1)) {
        strides[viewD] = viewN * chunkBase;
        viewN *= shape[viewD];
        --viewD;
      }
      if (viewN != tensorN)
        return std::nullopt;
      if (d > 0) {
        chunkBase = oldStrides[d - 1];
        tensorN = viewN = 1;
      }
    }
  }
  if (viewD != -1)
    return std::nullopt;
  return strides;
}

/// reshape(slice(x)) -> slice(reshape(x)) when the reshaped slice is itself
/// a box of some reshape of x: its strides, as a view of contiguous x, are
/// those of a contiguous tensor (innermost 1, each dividing the next), and
/// its start decomposes into in-range offsets.
struct SliceBeforeReshape : OpRewritePattern<ReshapeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ReshapeOp op,
                                PatternRewriter &rw) const override {
    auto slice = op.getInput().getDefiningOp<SliceOp>();
    if (!slice)
      return failure();
    ArrayRef<int64_t> whole = shapeOf(slice.getInput());
    ArrayRef<int64_t> box = shapeOf(slice), to = shapeOf(op);
    std::optional<int64_t> total = checkedNumElements(whole);
    if (!total || *total == 0 || checkedNumElements(box).value_or(0) == 0 ||
        !checkedNumElements(to))
      return failure();
    // The slice as a strided view of x: x's contiguous strides, and the
    // element where the box starts.
    SmallVector<int64_t> strides(whole.size(), 1);
    for (int64_t d = (int64_t)whole.size() - 2; d >= 0; --d)
      strides[d] = strides[d + 1] * whole[d + 1];
    int64_t start = 0;
    for (auto [d, off] : llvm::enumerate(slice.getOffsets()))
      start += off * strides[d];
    std::optional<SmallVector<int64_t>> viewed = viewStrides(box, strides, to);
    if (!viewed)
      return failure();
    // x reshaped: each dim larger than 1 spans the stride of the one
    // outside it; size-1 dims stay 1 with offset 0 (the start is carried by
    // the others).
    SmallVector<int64_t> shape(to.size(), 1), offsets(to.size(), 0);
    int64_t outer = *total, rest = start, inner = -1;
    for (size_t d = 0; d < to.size(); ++d) {
      if (to[d] == 1)
        continue;
      int64_t stride = (*viewed)[d];
      if (stride <= 0 || outer % stride != 0)
        return failure();
      shape[d] = outer / stride;
      offsets[d] = rest / stride;
      rest %= stride;
      if (offsets[d] + to[d] > shape[d])
        return failure();
      outer = stride;
      inner = d;
    }
    if (inner < 0 || outer != 1 || rest != 0)
      return failure();
    auto reshapedTy = RankedTensorType::get(
        shape, cast<RankedTensorType>(op.getType()).getElementType());
    Value reshaped = slice.getInput();
    if (reshapedTy != reshaped.getType())
      reshaped = ReshapeOp::create(rw, op.getLoc(), reshapedTy, reshaped);
    rw.replaceOpWithNewOp<SliceOp>(op, op.getType(), reshaped,
                                   rw.getDenseI64ArrayAttr(offsets));
    return success();
  }
};

/// reshape(reshape(x)) -> reshape(x).
struct ComposeReshapes : OpRewritePattern<ReshapeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ReshapeOp op,
                                PatternRewriter &rw) const override {
    auto inner = op.getInput().getDefiningOp<ReshapeOp>();
    if (!inner)
      return failure();
    if (inner.getInput().getType() == op.getType())
      rw.replaceOp(op, inner.getInput());
    else
      rw.replaceOpWithNewOp<ReshapeOp>(op, op.getType(), inner.getInput());
    return success();
  }
};

/// slice(slice(x)) -> slice(x), the offsets added.
struct ComposeSlices : OpRewritePattern<SliceOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SliceOp op,
                                PatternRewriter &rw) const override {
    auto inner = op.getInput().getDefiningOp<SliceOp>();
    if (!inner)
      return failure();
    SmallVector<int64_t> offsets(op.getOffsets());
    for (auto [o, i] : llvm::zip(offsets, inner.getOffsets()))
      o += i;
    rw.replaceOpWithNewOp<SliceOp>(op, op.getType(), inner.getInput(),
                                   rw.getDenseI64ArrayAttr(offsets));
    return success();
  }
};

} // namespace

void ReshapeOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                            MLIRContext *ctx) {
  patterns.add<ComposeReshapes, SliceBeforeReshape>(ctx);
}

void SliceOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                          MLIRContext *ctx) {
  patterns.add<ComposeSlices>(ctx);
}
