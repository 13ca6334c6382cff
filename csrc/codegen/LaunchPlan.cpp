//===- LaunchPlan.cpp - the runtime's view of a planned function ----------===//
//
// The launch plan is plain JSON: every SSA value gets an id (arguments
// first, then results in op order) with its shape, dtype and storage
// (arena, fresh, view, extern, constant, or "input": a graph input's new
// value, written over the input `of`), and every top-level op becomes one
// step the runtime executes in order.
//
//===----------------------------------------------------------------------===//
#include "csrc/codegen/Codegen.h"

#include "llvm/Support/JSON.h"

#include <cmath>

using namespace mlir;
using namespace graphopt;
namespace json = llvm::json;

namespace {

json::Array shapeJson(Value v) {
  json::Array a;
  for (int64_t d : cast<ShapedType>(v.getType()).getShape())
    a.push_back(d);
  return a;
}

std::string locString(Location loc) {
  std::string s;
  llvm::raw_string_ostream os(s);
  loc.print(os);
  return s;
}

} // namespace

FailureOr<std::string> graphopt::buildLaunchPlan(func::FuncOp func) {
  Block &block = func.getBody().front();
  DenseMap<Value, int64_t> ids;
  json::Array values, steps, inputs, outputs;

  auto addValue = [&](Value v, StringRef storage, int64_t offset) {
    int64_t id = ids.size();
    ids[v] = id;
    json::Object o{{"id", id}, {"storage", storage}};
    if (auto t = dyn_cast<RankedTensorType>(v.getType())) {
      o["shape"] = shapeJson(v);
      o["dtype"] = dtypeName(t.getElementType());
    } else {
      o["type"] = dtypeName(v.getType());
    }
    if (offset >= 0)
      o["offset"] = offset;
    values.push_back(std::move(o));
    return id;
  };
  auto idList = [&](ValueRange vs) {
    json::Array a;
    for (Value v : vs)
      a.push_back(ids.lookup(v));
    return a;
  };

  for (BlockArgument arg : block.getArguments())
    inputs.push_back(addValue(arg, "input", -1));

  SmallVector<std::string> symbols = kernelCodeSymbols(func);
  unsigned kernelIndex = 0;
  for (Operation &op : block) {
    if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      outputs = idList(ret.getOperands());
      continue;
    }
    auto offsets = op.getAttrOfType<DenseI64ArrayAttr>("graphopt.arena_offsets");
    auto inPlace = op.getAttrOfType<DenseI64ArrayAttr>(kInPlaceAttr);
    for (auto [i, r] : llvm::enumerate(op.getResults())) {
      int64_t off = offsets ? offsets[i] : -1;
      StringRef storage = off >= 0 ? "arena" : "fresh";
      // A graph input's new value, written over it (graphopt-plan-memory).
      Value over = inPlace && inPlace[i] >= 0 ? op.getOperand(inPlace[i]) : Value();
      if (isView(&op))
        storage = "view";
      else if (isa<ExternOp>(op))
        storage = "extern";
      else if (isa<ConstantOp>(op))
        storage = "constant";
      else if (isa_and_nonnull<BlockArgument>(over))
        storage = "input";
      addValue(r, storage, off);
      if (storage == "input")
        values.back().getAsObject()->insert({"of", ids.lookup(over)});
    }

    json::Object step{{"inputs", idList(op.getOperands())},
                      {"outputs", idList(op.getResults())},
                      {"loc", locString(op.getLoc())}};
    if (auto k = dyn_cast<KernelOp>(op)) {
      step["kind"] = "kernel";
      // Its own name (what the cost model reports) and the function that
      // runs it, which kernels with the same code share.
      step["name"] = kernelSymbol(func.getSymName(), kernelIndex);
      step["symbol"] = symbols[kernelIndex++];
      json::Array ops;
      for (Operation &inner : k.getBody().front().without_terminator())
        ops.push_back(inner.getName().stripDialect());
      step["ops"] = std::move(ops);
    } else if (isa<MatmulOp>(op)) {
      step["kind"] = "matmul";
    } else if (isa<BatchMatmulOp>(op)) {
      step["kind"] = "bmm";
    } else if (auto a = dyn_cast<AddmmOp>(op)) {
      step["kind"] = "addmm";
      step["beta"] = a.getBeta().convertToDouble();
      step["alpha"] = a.getAlpha().convertToDouble();
    } else if (isa<ReshapeOp>(op)) {
      step["kind"] = "reshape";
      step["shape"] = shapeJson(op.getResult(0));
    } else if (auto p = dyn_cast<PermuteOp>(op)) {
      step["kind"] = "permute";
      json::Array perm;
      for (int64_t d : p.getPermutation())
        perm.push_back(d);
      step["perm"] = std::move(perm);
    } else if (isa<BroadcastOp>(op)) {
      step["kind"] = "broadcast";
      step["shape"] = shapeJson(op.getResult(0));
    } else if (auto sl = dyn_cast<SliceOp>(op)) {
      step["kind"] = "slice";
      json::Array offsets;
      for (int64_t o : sl.getOffsets())
        offsets.push_back(o);
      step["offsets"] = std::move(offsets);
      step["shape"] = shapeJson(op.getResult(0));
    } else if (auto c = dyn_cast<ConstantOp>(op)) {
      auto dense = dyn_cast<DenseElementsAttr>(c.getValue());
      if (!dense || !dense.isSplat())
        return op.emitOpError() << "only splat constants can run outside kernels";
      step["kind"] = "constant";
      Attribute s = dense.getSplatValue<Attribute>();
      if (auto f = dyn_cast<FloatAttr>(s)) {
        // JSON has no inf/nan: those travel as the strings Python's float() reads.
        double d = f.getValueAsDouble();
        if (std::isfinite(d))
          step["value"] = d;
        else
          step["value"] = std::isnan(d) ? "nan" : (d > 0 ? "inf" : "-inf");
      }
      else if (dense.getElementType().isInteger(1))
        step["value"] = (int64_t)cast<IntegerAttr>(s).getValue().getZExtValue();
      else
        step["value"] = cast<IntegerAttr>(s).getValue().getSExtValue();
      step["shape"] = shapeJson(op.getResult(0));
    } else if (auto e = dyn_cast<ExternOp>(op)) {
      step["kind"] = "extern";
      step["callee"] = e.getCallee();
      step["args"] = e.getArgs();
    } else {
      return op.emitOpError() << "cannot run outside a graphopt.kernel; was "
                                 "graphopt-fuse run?";
    }
    steps.push_back(std::move(step));
  }

  auto intAttr = [&](StringRef name) -> int64_t {
    auto a = func->getAttrOfType<IntegerAttr>(name);
    return a ? a.getInt() : 0;
  };
  json::Object plan{{"function", func.getSymName()},
                    {"arena_size", intAttr("graphopt.arena_size")},
                    {"naive_size", intAttr("graphopt.naive_size")},
                    {"inputs", std::move(inputs)},
                    {"outputs", std::move(outputs)},
                    {"values", std::move(values)},
                    {"steps", std::move(steps)},
                    {"num_kernels", (int64_t)kernelIndex}};
  std::string s;
  llvm::raw_string_ostream os(s);
  os << llvm::formatv("{0:2}", json::Value(std::move(plan)));
  return s;
}
