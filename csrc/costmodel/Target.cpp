//===- Target.cpp - parsing and finding hardware targets ------------------===//
#include "csrc/costmodel/Target.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"

using namespace graphopt;
using llvm::Expected;
using llvm::StringRef;

double Target::matmulPeak(StringRef dtype) const {
  auto it = matmulFlops.find(dtype.str());
  if (it != matmulFlops.end())
    return it->second;
  it = matmulFlops.find("f32");
  return it != matmulFlops.end() ? it->second : vectorFlops;
}

double Target::convolutionPeak(StringRef layout, bool backward,
                               StringRef dtype) const {
  auto it = convolutionEfficiency.end();
  if (backward)
    it = convolutionEfficiency.find((layout + "_backward").str());
  if (it == convolutionEfficiency.end())
    it = convolutionEfficiency.find(layout.str());
  return matmulPeak(dtype) *
         (it != convolutionEfficiency.end() ? it->second : 1.0);
}

static llvm::Error fieldError(StringRef name, StringRef field,
                              StringRef problem) {
  return llvm::createStringError(
      llvm::inconvertibleErrorCode(),
      "target '" + name + "': field '" + field + "' " + problem);
}

Expected<Target> graphopt::parseTarget(StringRef json) {
  Expected<llvm::json::Value> parsed = llvm::json::parse(json);
  if (!parsed)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "target is not valid JSON: " +
                                       llvm::toString(parsed.takeError()));
  const llvm::json::Object *o = parsed->getAsObject();
  if (!o)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "target must be a JSON object");
  Target t;
  std::optional<StringRef> name = o->getString("name");
  if (!name || name->empty())
    return fieldError("?", "name", "is missing");
  t.name = name->str();
  t.description = o->getString("description").value_or("").str();
  t.kind = o->getString("kind").value_or("gpu").str();

  // Required positive rates: a zero would predict infinite speed.
  auto positive = [&](StringRef field, double &out) -> llvm::Error {
    std::optional<double> v = o->getNumber(field);
    if (!v)
      return fieldError(t.name, field, "is missing or not a number");
    if (!(*v > 0))
      return fieldError(t.name, field, "must be positive");
    out = *v;
    return llvm::Error::success();
  };
  if (auto e = positive("vector_flops", t.vectorFlops))
    return std::move(e);
  if (auto e = positive("memory_bandwidth", t.memoryBandwidth))
    return std::move(e);
  t.launchOverheadS = o->getNumber("launch_overhead_s").value_or(0);
  if (t.launchOverheadS < 0)
    return fieldError(t.name, "launch_overhead_s", "must not be negative");
  t.l2Bytes = o->getNumber("l2_bytes").value_or(0);
  t.smCount = o->getInteger("sm_count").value_or(0);
  t.interconnectBandwidth = o->getNumber("interconnect_bandwidth").value_or(0);
  t.freshAllocBandwidth = o->getNumber("fresh_alloc_bandwidth").value_or(0);
  t.freshAllocThreshold =
      o->getNumber("fresh_alloc_threshold").value_or(t.freshAllocThreshold);
  if (t.freshAllocBandwidth < 0 || t.freshAllocThreshold < 0)
    return fieldError(t.name, "fresh_alloc_bandwidth", "must not be negative");

  if (const llvm::json::Object *conv = o->getObject("convolution_efficiency")) {
    for (const auto &[layout, value] : *conv) {
      std::optional<double> v = value.getAsNumber();
      StringRef base = layout;
      base.consume_back("_backward");
      if ((base != "nchw" && base != "nhwc") || !v || !(*v > 0))
        return fieldError(t.name, "convolution_efficiency." + layout.str(),
                          "must be a positive fraction of the matmul peak, "
                          "for layout nchw or nhwc (forward) or nchw_backward "
                          "or nhwc_backward");
      t.convolutionEfficiency[layout.str()] = *v;
    }
  }

  if (o->get("vector_op_flops") && !o->getObject("vector_op_flops"))
    return fieldError(t.name, "vector_op_flops",
                      "must map op names (exp, div, ...) to FLOPs per element");
  if (const llvm::json::Object *ops = o->getObject("vector_op_flops")) {
    for (const auto &[op, value] : *ops) {
      std::optional<double> v = value.getAsNumber();
      if (!llvm::is_contained(kPricedVectorOps, op.str()) || !v || !(*v > 0)) {
        std::string names;
        for (const char *n : kPricedVectorOps)
          names += (names.empty() ? "" : ", ") + std::string(n);
        return fieldError(t.name, "vector_op_flops." + op.str(),
                          "must be a positive number of FLOPs per element for "
                          "one of " + names);
      }
      t.vectorOpFlops[op.str()] = *v;
    }
  }

  const llvm::json::Object *mm = o->getObject("matmul_flops");
  if (!mm || mm->empty())
    return fieldError(t.name, "matmul_flops",
                      "must map dtypes (f32, bf16, ...) to FLOP/s");
  for (const auto &[dtype, value] : *mm) {
    std::optional<double> v = value.getAsNumber();
    if (!v || !(*v > 0))
      return fieldError(t.name, "matmul_flops." + dtype.str(),
                        "must be a positive number");
    t.matmulFlops[dtype.str()] = *v;
  }
  return t;
}

const std::vector<std::pair<std::string, std::string>> &
graphopt::builtinTargets() {
  static const std::vector<std::pair<std::string, std::string>> targets = {
#include "csrc/costmodel/BuiltinTargets.inc"
  };
  return targets;
}

Expected<Target> graphopt::resolveTarget(StringRef nameOrPath) {
  for (const auto &[name, json] : builtinTargets())
    if (name == nameOrPath)
      return parseTarget(json);
  if (!nameOrPath.ends_with(".json")) {
    std::string names;
    for (const auto &[name, json] : builtinTargets())
      names += (names.empty() ? "" : ", ") + name;
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "unknown target '" + nameOrPath + "'; built-in targets are " + names +
            ", or pass a path to a target .json file");
  }
  auto buffer = llvm::MemoryBuffer::getFile(nameOrPath);
  if (!buffer)
    return llvm::createStringError(buffer.getError(),
                                   "cannot read target file '" + nameOrPath +
                                       "': " + buffer.getError().message());
  return parseTarget((*buffer)->getBuffer());
}
