//===- Module.cpp - graphopt._C: the only file that sees Python -----------===//
#include "csrc/codegen/Compiler.h"
#include "csrc/costmodel/Target.h"

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

namespace py = pybind11;

PYBIND11_MODULE(_C, m) {
  m.doc() = "graphopt's C++ compiler: MLIR text in, kernels and a plan out";

  py::class_<graphopt::PassSnapshot>(m, "PassSnapshot")
      .def_readonly("name", &graphopt::PassSnapshot::pass)
      .def_readonly("ir", &graphopt::PassSnapshot::ir);

  py::class_<graphopt::Artifact>(m, "Artifact")
      .def_readonly("optimized_ir", &graphopt::Artifact::optimizedIR)
      .def_readonly("cpu_source", &graphopt::Artifact::cpuSource)
      .def_readonly("plan_json", &graphopt::Artifact::planJson)
      .def_readonly("cuda_source", &graphopt::Artifact::cudaSource)
      .def_readonly("cost_json", &graphopt::Artifact::costJson)
      .def_readonly("cost_table", &graphopt::Artifact::costTable)
      .def_readonly("passes", &graphopt::Artifact::passes);

  static py::exception<graphopt::CompileError> compileError(m, "CompileError",
                                                            PyExc_RuntimeError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p)
        std::rethrow_exception(p);
    } catch (const graphopt::CompileError &e) {
      py::object type = py::reinterpret_borrow<py::object>(compileError.ptr());
      py::object err = type(e.what());
      err.attr("failed_pass") = e.failedPass;
      PyErr_SetObject(compileError.ptr(), err.ptr());
    }
  });

  m.def(
      "compile",
      [](const std::string &mlir, bool capturePasses,
         std::vector<std::string> targets) {
        graphopt::CompileOptions options;
        options.capturePasses = capturePasses;
        options.targets = std::move(targets);
        py::gil_scoped_release release;
        return graphopt::compileModule(mlir, options);
      },
      py::arg("mlir"), py::arg("capture_passes") = false,
      py::arg("targets") = std::vector<std::string>(),
      "Optimize an imported module, emit its kernels and launch plan, and "
      "predict its cost on each target (JSON text).");
  m.def("builtin_targets", &graphopt::builtinTargets,
        "The built-in hardware targets as (name, JSON text) pairs.");
  m.def("pipeline", &graphopt::pipelineDescription,
        "The pass pipeline graphopt runs, in textual form.");
}
