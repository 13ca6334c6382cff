import os
import lit.formats

config.name = "graphopt"
config.test_format = lit.formats.ShTest()
config.suffixes = [".mlir"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(os.path.dirname(config.graphopt_tools_dir), "..", "tests", "lit-out")
config.excludes = ["lit.cfg.py", "lit.site.cfg.py.in"]
config.environment["PATH"] = os.pathsep.join(
    [config.graphopt_tools_dir, config.llvm_tools_dir, config.environment.get("PATH", "")])
