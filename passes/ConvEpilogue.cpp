//===- ConvEpilogue.cpp - a convolution's epilogue inside the call --------===//
//
// An inference BatchNorm after a convolution is a per-channel affine map of
// its output, a * conv(x, W) + b, which equals conv(x, W * a) + b: folded
// into the weights (a scale of each output channel's filter) and the bias,
// it costs nothing. mkldnn then applies a residual add and a ReLU while the
// output is still in cache (its post-ops), where graphopt would run a kernel
// that reads and writes the whole output again. On this CPU a 16x64x64x64,
// 3x3 convolution took the same 20.6 ms with a bias and a ReLU as without,
// and 22.2 ms with a residual add too; the kernel each replaces took ~2 ms.
//
// The pass walks from each channels-last convolution down its chain of
// single-use elementwise ops while they are, in this order: per-channel
// affine ops (add, sub, mul, div by a value that varies along the channels
// only), at most one add of a full-size residual, at most one ReLU. The
// chain becomes one graphopt::convolution_pointwise_channels_last call, and
// the scale and bias are computed on [1, 1, 1, C] values (tiny kernels).
// Only where kernels run on the CPU: the call is mkldnn's.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/IR/Builders.h"
#include "llvm/Support/JSON.h"

namespace graphopt {
#define GEN_PASS_DEF_GRAPHOPTCONVEPILOGUE
#include "passes/Passes.h.inc"
} // namespace graphopt

using namespace mlir;
using namespace graphopt;

namespace {

constexpr llvm::StringLiteral kChannelsLast =
    "graphopt::convolution_channels_last.default";
constexpr llvm::StringLiteral kPointwise =
    "graphopt::convolution_pointwise_channels_last.default";

/// The chain of one convolution, as the call will compute it.
struct Epilogue {
  /// The per-channel ops (add, sub, mul, div) with their per-channel operand.
  SmallVector<std::pair<Operation *, Value>> affine;
  Value residual; // full size, or null
  bool relu = false;
  SmallVector<Operation *> ops; // the chain, in order
};

/// An f32 value that varies along the channels only: shape [.., 1, C] or
/// [.., 1, 1] of rank <= 4, or a scalar.
bool isPerChannel(Value v, int64_t channels) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  if (!t || !t.getElementType().isF32() || t.getRank() > 4)
    return false;
  ArrayRef<int64_t> s = t.getShape();
  return s.empty() || ((s.back() == channels || s.back() == 1) &&
                       llvm::all_of(s.drop_back(), [](int64_t d) { return d == 1; }));
}

class EpilogueBuilder {
public:
  EpilogueBuilder(OpBuilder &b, Location loc, int64_t channels)
      : b(b), loc(loc), channels(channels) {}

  /// A per-channel value (isPerChannel) as a [1, 1, 1, n] one, n = C or 1.
  Value perChannel(Value v) {
    ArrayRef<int64_t> s = shapeOf(v);
    int64_t column[] = {1, 1, 1, s.empty() ? 1 : s.back()};
    if (s == ArrayRef<int64_t>(column))
      return v;
    return ReshapeOp::create(b, loc, withShape(v.getType(), column), v);
  }

  template <typename OpTy> Value binary(Value lhs, Value rhs) {
    int64_t n = std::max(shapeOf(lhs).back(), shapeOf(rhs).back());
    int64_t column[] = {1, 1, 1, n};
    return OpTy::create(b, loc, withShape(lhs.getType(), column), lhs, rhs);
  }

  /// The filter scale as the weight's [Cout, 1, 1, 1] broadcast operand.
  Value weightScale(Value scale) {
    int64_t n = shapeOf(scale).back();
    int64_t shape[] = {n, 1, 1, 1};
    return ReshapeOp::create(b, loc, withShape(scale.getType(), shape), scale);
  }

  /// The shift as a [C] bias (broadcast when it is one value for all).
  Value bias(Value shift) {
    int64_t c[] = {channels};
    if (shapeOf(shift).back() == 1) {
      int64_t one[] = {1};
      Value flat = ReshapeOp::create(b, loc, withShape(shift.getType(), one), shift);
      return BroadcastOp::create(b, loc, withShape(shift.getType(), c), flat);
    }
    return ReshapeOp::create(b, loc, withShape(shift.getType(), c), shift);
  }

  OpBuilder &b;
  Location loc;
  int64_t channels;
};

/// Follows `conv`'s result down the ops the call can absorb (each the only
/// user of the one before).
std::optional<Epilogue> matchEpilogue(ExternOp conv) {
  Epilogue e;
  Value cur = conv.getResult(0);
  int64_t channels = shapeOf(cur).back();
  while (cur.hasOneUse() && !e.relu) {
    Operation *user = *cur.getUsers().begin();
    if (isa<ReluOp>(user)) {
      e.relu = true;
    } else if (!e.residual && isa<AddOp, SubOp, MulOp, DivOp>(user)) {
      Value lhs = user->getOperand(0), rhs = user->getOperand(1);
      Value other = lhs == cur ? rhs : lhs;
      if (other == cur)
        break;
      bool perChannel = isPerChannel(other, channels);
      bool residual = isa<AddOp>(user) && shapeOf(other) == shapeOf(cur) &&
                      cast<RankedTensorType>(other.getType()).getElementType().isF32();
      // cur - c and cur / c: the convolution must be on the left.
      if (isa<SubOp, DivOp>(user) && lhs != cur)
        break;
      if (!perChannel && !residual)
        break;
      if (perChannel)
        e.affine.push_back({user, other});
      else
        e.residual = other;
    } else {
      break;
    }
    e.ops.push_back(user);
    cur = user->getResult(0);
  }
  if (e.ops.empty())
    return std::nullopt;
  return e;
}

struct GraphOptConvEpilogue
    : graphopt::impl::GraphOptConvEpilogueBase<GraphOptConvEpilogue> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (kernelsRunOnCuda(func))
      return;
    SmallVector<ExternOp> convs;
    func.walk([&](ExternOp op) {
      if (op.getCallee() == kChannelsLast && op->getNumResults() == 1)
        convs.push_back(op);
    });
    for (ExternOp conv : convs)
      fold(conv);
  }

  /// Rewrites `conv` and its epilogue into one call, if it has one.
  void fold(ExternOp conv) {
    // [input, weight, bias, stride, padding, dilation, transposed,
    //  output_padding, groups], input and weight operands 0 and 1.
    std::optional<llvm::json::Array> args = externPositionalArgs(conv);
    if (!args || args->size() != 9 || !isTensorRef((*args)[0], 0) ||
        !isTensorRef((*args)[1], 1) || (*args)[6].getAsBoolean() != false)
      return;
    bool hasBias = (*args)[2].getAsNull() == std::nullopt;
    if (hasBias && (!isTensorRef((*args)[2], 2) || conv.getInputs().size() < 3))
      return;
    Value y = conv.getResult(0), w = conv.getInputs()[1];
    if (!cast<RankedTensorType>(y.getType()).getElementType().isF32() ||
        shapeOf(w).size() != 4 || shapeOf(w)[0] != shapeOf(y).back())
      return;
    std::optional<Epilogue> e = matchEpilogue(conv);
    if (!e)
      return;

    Operation *last = e->ops.back();
    OpBuilder b(last);
    EpilogueBuilder eb(b, conv.getLoc(), shapeOf(y).back());
    Value scale, shift;
    if (hasBias)
      shift = eb.perChannel(conv.getInputs()[2]);
    for (auto [op, other] : e->affine) {
      Value c = eb.perChannel(other);
      if (isa<AddOp>(op)) {
        shift = shift ? eb.binary<AddOp>(shift, c) : c;
      } else if (isa<SubOp>(op)) {
        shift = shift ? eb.binary<SubOp>(shift, c)
                      : Value(NegOp::create(b, conv.getLoc(), c.getType(), c));
      } else if (isa<MulOp>(op)) {
        scale = scale ? eb.binary<MulOp>(scale, c) : c;
        if (shift)
          shift = eb.binary<MulOp>(shift, c);
      } else { // DivOp
        if (!scale) {
          auto one = ConstantOp::create(
              b, conv.getLoc(),
              DenseElementsAttr::get(withShape(c.getType(), {}), ArrayRef<float>{1.0f}));
          scale = eb.binary<DivOp>(eb.perChannel(one), c);
        } else {
          scale = eb.binary<DivOp>(scale, c);
        }
        if (shift)
          shift = eb.binary<DivOp>(shift, c);
      }
    }

    SmallVector<Value> inputs{conv.getInputs()[0], w};
    if (scale)
      inputs[1] = MulOp::create(b, conv.getLoc(), w.getType(), w,
                                eb.weightScale(scale));
    llvm::json::Array call{(*args)[0], (*args)[1], nullptr, (*args)[3],
                           (*args)[4], (*args)[5], (*args)[8], nullptr,
                           e->relu ? "relu" : "none"};
    if (shift) {
      call[2] = llvm::json::Object{{"t", (int64_t)inputs.size()}};
      inputs.push_back(eb.bias(shift));
    }
    if (e->residual) {
      call[7] = llvm::json::Object{{"t", (int64_t)inputs.size()}};
      inputs.push_back(e->residual);
    }
    std::string payload;
    llvm::raw_string_ostream os(payload);
    os << llvm::json::Value(llvm::json::Object{
        {"args", std::move(call)}, {"kwargs", llvm::json::Object{}}});
    auto fused = ExternOp::create(b, conv.getLoc(), TypeRange{y.getType()},
                                  kPointwise, inputs, payload);
    fused->setDiscardableAttrs(conv->getDiscardableAttrDictionary());
    last->getResult(0).replaceAllUsesWith(fused.getResult(0));
    for (Operation *op : llvm::reverse(e->ops))
      op->erase();
    conv->erase();
  }
};

} // namespace
