"""Run stage: compile emitted C++ into a cached shared library and execute launch plans."""
from .cpp_compiler import load_kernel_library
from .executor import CompiledGraph

__all__ = ["load_kernel_library", "CompiledGraph"]
