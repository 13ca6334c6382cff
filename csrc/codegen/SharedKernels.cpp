//===- SharedKernels.cpp - one function for kernels with the same code ----===//
//
// A model repeats itself: a ResNet's blocks, a transformer's layers. Their
// kernels have the same types and bodies and differ only in the buffers they
// are called with, so the emitters print one function for all of them and
// the launch plan calls it for each. The C++ compiler's time, most of a cold
// compile, then grows with the distinct kernels, not with the model's depth.
//
//===----------------------------------------------------------------------===//
#include "csrc/codegen/Codegen.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/Hashing.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace graphopt;

namespace {

/// What an emitter reads of a kernel: its input and result types, which
/// outputs overwrite which inputs (no restrict on those), and its body.
/// Locations are ignored; every attribute of the body's ops counts.
bool sameCode(KernelOp a, KernelOp b) {
  return llvm::equal(a->getOperandTypes(), b->getOperandTypes()) &&
         llvm::equal(a->getResultTypes(), b->getResultTypes()) &&
         a->getAttr(kInPlaceAttr) == b->getAttr(kInPlaceAttr) &&
         OperationEquivalence::isRegionEquivalentTo(
             &a.getBody(), &b.getBody(), OperationEquivalence::IgnoreLocations);
}

llvm::hash_code typesHash(KernelOp k) {
  return llvm::hash_combine(
      llvm::hash_combine_range(k->getOperandTypes().begin(),
                               k->getOperandTypes().end()),
      llvm::hash_combine_range(k->getResultTypes().begin(),
                               k->getResultTypes().end()),
      k.getBody().front().getOperations().size());
}

} // namespace

llvm::SmallVector<std::string> graphopt::kernelCodeSymbols(func::FuncOp func) {
  llvm::SmallVector<std::string> symbols;
  llvm::SmallVector<KernelOp> kernels;
  // Candidates by a hash of their types and body size: (kernel index).
  llvm::DenseMap<llvm::hash_code, llvm::SmallVector<unsigned>> candidates;
  for (KernelOp k : func.getBody().getOps<KernelOp>()) {
    unsigned index = kernels.size();
    kernels.push_back(k);
    llvm::SmallVector<unsigned> &same = candidates[typesHash(k)];
    const unsigned *first = llvm::find_if(
        same, [&](unsigned other) { return sameCode(kernels[other], k); });
    if (first != same.end()) {
      symbols.push_back(symbols[*first]);
      continue;
    }
    same.push_back(index);
    symbols.push_back(kernelSymbol(func.getSymName(), index));
  }
  return symbols;
}
