"""Whole-catalog wall time and memory: cold (empty compile cache), warm (compiled), cached (results reused).

Runs ``modemean run all`` and ``modemean report`` in fresh processes, exactly as a user would:

1. **cold** — an empty PyTensor compile directory, ``--force``: every function is compiled;
2. **warm** — the compile cache from step 1, ``--force``: solving only (with the default ``--jobs 2``,
   then with ``--jobs 1``: does solving two models at once pay on two cores?);
3. **cached** — nothing changed, so the stored results are reused and the reports re-rendered.

Memory, sampled every 0.2 s from ``/proc`` over the command's process tree (workers and NUTS chains
included): the largest peak RSS of one process (its ``VmHWM``), and the peak over time of the sum over
the tree of RSS (pages shared between forked processes counted in each) and of PSS (shared pages split
between their processes: what the run really occupies). The load average is printed, as the machine
may be shared.

Prints a markdown table (wall time, memory, per-model seconds per solver) and, with ``--readme``,
replaces the "Whole catalog" section of ``benchmarks/README.md``.

Usage: ``python benchmarks/catalog.py [--readme] [--models NAME ...]`` (default: ``all``, the whole
catalog; ``--models`` times a subset, e.g. the 12 models of an older table, into its own README section).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

from readme_section import write_section

MODEMEAN = [sys.executable, "-m", "modemean.cli"]


def _tree(root: int) -> list[int]:
    """``root`` and its descendants, from ``/proc/*/stat``."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += children.get(pid, [])
    return out


def _kb(pid: int, path: str, key: str) -> int:
    try:
        with open(f"/proc/{pid}/{path}") as f:
            return next((int(line.split()[1]) for line in f if line.startswith(key)), 0)
    except OSError:
        return 0


def timed(args: list[str], env: dict) -> tuple[float, float, float, float]:
    """Run a command; return (wall seconds, in MB: the largest peak RSS of one process of its tree (VmHWM),
    the peak sum of RSS and the peak sum of PSS over the tree)."""
    t = time.perf_counter()
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peaks = [0, 0, 0]
    stop = threading.Event()

    def sample():
        while not stop.wait(0.2):
            pids = _tree(proc.pid)
            peaks[0] = max(peaks[0], sum(_kb(p, "status", "VmRSS:") for p in pids))
            peaks[1] = max(peaks[1], sum(_kb(p, "smaps_rollup", "Pss:") for p in pids))
            peaks[2] = max([peaks[2], *(_kb(p, "status", "VmHWM:") for p in pids)])

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, stderr = proc.communicate()
    stop.set()
    sampler.join()
    if proc.returncode:
        sys.exit(f"{' '.join(args)} failed:\n{stderr[-2000:]}")
    return time.perf_counter() - t, peaks[2] / 1024, peaks[0] / 1024, peaks[1] / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readme", action="store_true", help="write the table into benchmarks/README.md")
    parser.add_argument("--no-jobs-1", action="store_true", help="skip the warm run with --jobs 1")
    parser.add_argument("--models", nargs="+", default=["all"], help="catalog models to run (default: all)")
    args = parser.parse_args()
    subset = args.models != ["all"]
    work = Path(tempfile.mkdtemp(prefix="modemean-bench-"))
    site = work / "site"
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTENSOR_FLAGS": f"base_compiledir={work / 'compiledir'}"}
    rows, per_model, loads = [], {}, []
    for label, extra in (
        ("cold (empty compile cache)", ["--force"]),
        ("warm (compiled)", ["--force"]),
        ("warm, `--jobs 1`", ["--force", "--jobs", "1"]),
        ("cached (results reused)", []),
    ):
        if args.no_jobs_1 and "--jobs" in extra:
            continue
        loads.append(os.getloadavg()[0])
        run = timed([*MODEMEAN, "run", *args.models, "--out", str(site), *extra], env)
        report = timed([*MODEMEAN, "report", "--out", str(site)], env)
        rows.append((label, run, report))
        if "--force" in extra and label not in per_model:
            per_model[label] = {
                p.parent.name: json.loads(p.read_text())["solvers"] for p in sorted(site.glob("*/results.json"))
            }
        print(
            f"{label}: run {run[0]:.1f} s (largest process {run[1]:.0f} MB, sum RSS {run[2]:.0f} MB, "
            f"sum PSS {run[3]:.0f} MB), report {report[0]:.1f} s, load {loads[-1]:.1f}",
            flush=True,
        )
    loads.append(os.getloadavg()[0])
    lines = [
        f"Measured {date.today()} on {platform.machine()} with {os.cpu_count()} cores "
        f"(Python {platform.python_version()}), `python benchmarks/catalog.py"
        + (f" --models {' '.join(args.models)}` ({len(args.models)} models)" if subset else "` (the whole catalog)")
        + "; 1-minute load average "
        f"{min(loads):.1f}–{max(loads):.1f} during the runs (a load above 2 means other work shared the cores).",
        "",
        f"| run | `modemean run {'MODELS' if subset else 'all'}` | `modemean report` | total | largest process "
        "| sum RSS (tree) | sum PSS (tree) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {label} | {r[0]:.1f} s | {p[0]:.1f} s | {r[0] + p[0]:.1f} s | {r[1]:.0f} MB | {r[2]:.0f} MB | "
        f"{r[3]:.0f} MB |"
        for label, r, p in rows
    ]
    lines += [
        "",
        "Seconds per model and solver (cold / warm, `--jobs 2`):",
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
        if subset:
            write_section("catalog-subset", f"{len(args.models)} catalog models: cold, warm and cached", table)
        else:
            write_section("catalog", "Whole catalog: cold, warm and cached", table)


if __name__ == "__main__":
    main()
