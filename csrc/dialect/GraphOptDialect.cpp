//===- GraphOptDialect.cpp - dialect registration -------------------------===//
#include "csrc/dialect/GraphOpt.h"

using namespace mlir;
using namespace graphopt;

#include "csrc/dialect/GraphOptDialect.cpp.inc"

void GraphOptDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "csrc/dialect/GraphOptOps.cpp.inc"
      >();
}
