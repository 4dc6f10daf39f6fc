"""`python -m bench [name ...]`: run every benchmark module in this folder, or the named ones."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import inspect
import pkgutil
import sys
import time
from pathlib import Path


def discover() -> dict[str, object]:
    found = {}
    for info in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if info.name.startswith("_") or info.name in {"report"}:
            continue
        module = importlib.import_module(f"bench.{info.name}")
        if hasattr(module, "run"):
            found[getattr(module, "NAME", info.name)] = module
    return found


def main() -> int:
    benches = discover()
    parser = argparse.ArgumentParser(prog="bench")
    parser.add_argument("names", nargs="*", help=f"any of: {', '.join(sorted(benches))}")
    parser.add_argument("--quick", action="store_true", help="smaller workloads (a smoke run)")
    args = parser.parse_args()
    chosen = args.names or sorted(benches)
    unknown = [n for n in chosen if n not in benches]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    for name in chosen:
        module = benches[name]
        print(f"\n=== {name}: {getattr(module, 'DESCRIPTION', '')}", flush=True)
        started = time.perf_counter()
        result = module.run(args)  # type: ignore[attr-defined]
        if inspect.iscoroutine(result):
            asyncio.run(result)
        print(f"--- {name} took {time.perf_counter() - started:.1f}s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
