"""The `graphopt` command.

    graphopt cache info      where the kernel cache is and what it holds
    graphopt cache clear     delete every cached kernel library
"""
from __future__ import annotations

import argparse
import sys


def _cache(args) -> int:
    from .runtime import cpp_compiler
    if args.action == "info":
        info = cpp_compiler.cache_info()
        print(f"kernel cache: {info['path']}")
        print(f"  {info['libraries']} libraries, {info['bytes'] / 2**20:.1f} MiB")
    else:
        removed = cpp_compiler.clear_cache()
        print(f"removed {removed} cached kernel libraries")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="graphopt", description="graphopt, a graph compiler for PyTorch")
    sub = parser.add_subparsers(dest="command", required=True)
    cache = sub.add_parser("cache", help="inspect or clear the kernel cache (GRAPHOPT_CACHE_DIR)")
    cache.add_argument("action", choices=["info", "clear"])
    cache.set_defaults(run=_cache)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
