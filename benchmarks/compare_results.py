"""Compare two results folders number for number: did a change of code change any answer?

    python benchmarks/compare_results.py BEFORE AFTER [--ignore map_unconstrained ...]

For every model folder present in both, every number in ``results.json`` (the parameter rows, each
solver's status, estimates and diagnostics) and every variable of ``results.nc`` (draws included) is
compared exactly (bitwise, NaN equal to NaN). What is expected to differ between two runs of the same
code is skipped: timings, the cache key, the schema version, library versions and paths. Prints one
line per model and every difference; exit 1 when something differs.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np
import xarray as xr

SKIPPED = {"seconds", "cache_key", "schema_version", "versions", "source", "schema", "compile_seconds", "elapsed"}


def _leaves(value, path=()):
    """(path, value) for every leaf of a JSON value."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key not in SKIPPED:
                yield from _leaves(item, (*path, str(key)))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _leaves(item, (*path, str(i)))
    else:
        yield path, value


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


def compare_json(before: Path, after: Path, ignore: set[str]) -> list[str]:
    """Differences between two results.json files, as 'path: before -> after' lines."""
    a = dict(_leaves(json.loads(before.read_text())))
    b = dict(_leaves(json.loads(after.read_text())))
    out = []
    for key in sorted(set(a) | set(b)):
        if ignore & set(key):
            continue
        if key not in a or key not in b:
            out.append(f"{'/'.join(key)}: {a.get(key, 'absent')!r} -> {b.get(key, 'absent')!r}")
        elif not _same(a[key], b[key]):
            out.append(f"{'/'.join(key)}: {a[key]!r} -> {b[key]!r}")
    return out


def compare_netcdf(before: Path, after: Path, ignore: set[str]) -> list[str]:
    """Differences between two results.nc files, group by group and variable by variable (bitwise)."""
    out = []
    with xr.open_datatree(before) as ta, xr.open_datatree(after) as tb:
        a, b = {n.path: n.to_dataset() for n in ta.subtree}, {n.path: n.to_dataset() for n in tb.subtree}
    for node in sorted(set(a) | set(b)):
        if node not in a or node not in b:
            out.append(f"{node}: group only in {'after' if node not in a else 'before'}")
            continue
        da, db = a[node], b[node]
        for name in sorted(set(da.data_vars) | set(db.data_vars)):
            if name in ignore or "time" in name or name.startswith("perf_counter"):
                continue
            if name not in da or name not in db:
                out.append(f"{node}/{name}: only in {'after' if name not in da else 'before'}")
            elif not np.array_equal(da[name].values, db[name].values, equal_nan=da[name].dtype.kind == "f"):
                out.append(f"{node}/{name}: values differ")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--ignore", nargs="*", default=[], help="keys or variables expected to differ")
    args = parser.parse_args(argv)
    ignore = set(args.ignore)
    models = sorted(p.parent.name for p in args.before.glob("*/results.json"))
    differ = 0
    for model in models:
        a, b = args.before / model, args.after / model
        if not (b / "results.json").is_file():
            print(f"{model}: not in {args.after}")
            differ += 1
            continue
        lines = compare_json(a / "results.json", b / "results.json", ignore)
        if (a / "results.nc").is_file():
            lines += compare_netcdf(a / "results.nc", b / "results.nc", ignore)
        print(f"{model}: {'equal' if not lines else f'{len(lines)} differences'}")
        for line in lines[:40]:
            print(f"    {line}")
        differ += bool(lines)
    print(f"{len(models) - differ} of {len(models)} models equal")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
