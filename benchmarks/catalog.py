"""Whole-catalog wall time: cold (empty compile cache), warm (compiled), cached (results reused).

Runs ``modemean run all`` and ``modemean report`` in fresh processes, exactly as a user would:

1. **cold** — an empty PyTensor compile directory, ``--force``: every function is compiled;
2. **warm** — the compile cache from step 1, ``--force``: solving only;
3. **cached** — nothing changed, so the stored results are reused and the reports re-rendered.

Prints a markdown table (wall time, peak memory of the largest process, per-model seconds per
solver) and, with ``--readme``, replaces the "Whole catalog" section of ``benchmarks/README.md``.

Usage: ``python benchmarks/catalog.py [--readme]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from readme_section import write_section

MODEMEAN = [sys.executable, "-m", "modemean.cli"]


def timed(args: list[str], env: dict) -> tuple[float, float]:
    """Run a command; return (wall seconds, peak RSS in MB of the largest process so far)."""
    t = time.perf_counter()
    proc = subprocess.run(args, env=env, capture_output=True, text=True)
    if proc.returncode:
        sys.exit(f"{' '.join(args)} failed:\n{proc.stderr[-2000:]}")
    return time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readme", action="store_true", help="write the table into benchmarks/README.md")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="modemean-bench-"))
    site = work / "site"
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTENSOR_FLAGS": f"base_compiledir={work / 'compiledir'}"}
    rows, per_model = [], {}
    for label, force in (
        ("cold (empty compile cache)", True),
        ("warm (compiled)", True),
        ("cached (results reused)", False),
    ):
        run_s, rss = timed([*MODEMEAN, "run", "all", "--out", str(site), *(["--force"] if force else [])], env)
        report_s, rss = timed([*MODEMEAN, "report", "--out", str(site)], env)
        rows.append((label, run_s, report_s, rss))
        if force:
            per_model[label] = {
                p.parent.name: json.loads(p.read_text())["solvers"] for p in sorted(site.glob("*/results.json"))
            }
        print(f"{label}: run {run_s:.1f} s, report {report_s:.1f} s, peak RSS {rss:.0f} MB", flush=True)
    lines = [
        f"Measured {date.today()} on {platform.machine()} with {os.cpu_count()} cores "
        f"(Python {platform.python_version()}), `python benchmarks/catalog.py`.",
        "",
        "| run | `modemean run all` | `modemean report` | total | peak RSS (largest process) |",
        "|---|---:|---:|---:|---:|",
    ]
    lines += [f"| {label} | {r:.1f} s | {p:.1f} s | {r + p:.1f} s | {m:.0f} MB |" for label, r, p, m in rows]
    lines += [
        "",
        "Seconds per model and solver (cold / warm):",
        "",
        "| model | map | em | nuts |",
        "|---|---:|---:|---:|",
    ]
    cold, warm = per_model["cold (empty compile cache)"], per_model["warm (compiled)"]
    for model in cold:
        cells = [
            f"{cold[model][s]['seconds']:.1f} / {warm[model][s]['seconds']:.1f}" if s in cold[model] else "—"
            for s in ("map", "em", "nuts")
        ]
        lines.append(f"| {model} | {' | '.join(cells)} |")
    table = "\n".join(lines)
    print(table)
    if args.readme:
        write_section("catalog", "Whole catalog: cold, warm and cached", table)


if __name__ == "__main__":
    main()
