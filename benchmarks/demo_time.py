"""Time ``make demo`` as a newcomer meets it: cold (empty compile cache, no results), then cached.

Runs the Makefile's ``demo`` target twice into a fresh output folder with a fresh PyTensor compile
folder (``PYTENSOR_FLAGS=base_compiledir=<temp>``), the venv already installed. Each line ``make demo``
prints (standard output and error, off a terminal, so plain progress lines) is stamped as it arrives;
the script polls for the first model page and the index. Where the cold run spends its time comes
from those lines: each solver's closing line says its seconds and how many of them were compiling
(summed over the models, they add up to more than the wall time: two models are solved at once);
``teach`` and ``report`` are timed from the lines that start and end them.

Writes the ``demo`` section of ``benchmarks/README.md``. The 1-minute load average is sampled every
10 s: on a shared machine every wall time is the load's as much as modemean's.

Usage: ``.venv/bin/python benchmarks/demo_time.py [--keep DIR]``.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from readme_section import machine, write_section

ROOT = Path(__file__).resolve().parents[1]
SOLVER_LINE = re.compile(r"^(\S+): (\w+) (\S+) in ([\d.]+) s(?:, (\d+) s of it compiling)?$")


def timed_demo(out: Path, compiledir: Path) -> dict:
    """Run ``make demo OUT=out``; every line with its time since the start, the first page's time, loads."""
    env = {**os.environ, "PYTENSOR_FLAGS": f"base_compiledir={compiledir}", "MPLBACKEND": "Agg"}
    start = time.monotonic()
    proc = subprocess.Popen(
        ["make", "--no-print-directory", "demo", f"OUT={out}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    seen: dict[str, float] = {}
    loads: list[float] = []
    done = threading.Event()

    def watch() -> None:
        tick = 0
        while not done.is_set():
            if "page" not in seen and any(out.glob("*/index.html")):
                seen["page"] = time.monotonic() - start
            if "index" not in seen and (out / "index.html").is_file():
                seen["index"] = time.monotonic() - start
            if tick % 20 == 0:
                loads.append(os.getloadavg()[0])
            tick += 1
            time.sleep(0.5)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    lines = []
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append((time.monotonic() - start, line.rstrip("\n")))
    proc.wait()
    done.set()
    watcher.join()
    if proc.returncode:
        raise SystemExit(f"make demo failed ({proc.returncode}):\n" + "\n".join(t for _, t in lines[-20:]))
    return {"seconds": time.monotonic() - start, "lines": lines, "loads": loads, **seen}


def breakdown(lines: list[tuple[float, str]]) -> dict:
    """Seconds per solver and of compiling, summed over the models; when ``run all`` ended (its last model line)."""
    solvers: dict[str, float] = {}
    compiling = 0.0
    for _, text in lines:
        match = SOLVER_LINE.match(text)
        if match:
            solvers[match[2]] = solvers.get(match[2], 0.0) + float(match[4])
            compiling += float(match[5] or 0)
    models_done = max((t for t, text in lines if re.search(r"\[\d+/\d+\]$", text)), default=0.0)
    return {"solvers": solvers, "compiling": compiling, "run": models_done, "after run": lines[-1][0] - models_done}


def row(name: str, result: dict) -> str:
    """One run's row: wall time, first model page, lines printed, the load average's range."""
    loads = result["loads"] or [os.getloadavg()[0]]
    first = f"{result['page']:.0f} s" if "page" in result else "—"
    return (
        f"| {name} | {result['seconds']:.0f} s | {first} | {len(result['lines'])} | {min(loads):.1f}–{max(loads):.1f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="run into this folder and keep it (default: a temporary one)")
    args = parser.parse_args()
    work = Path(args.keep or tempfile.mkdtemp(prefix="modemean-demo-"))
    out, compiledir = work / "site", work / "compiledir"
    cold = timed_demo(out, compiledir)
    cached = timed_demo(out, compiledir)
    parts = breakdown(cold["lines"])
    solvers = ", ".join(f"{k} {v:.0f} s" for k, v in sorted(parts["solvers"].items(), key=lambda kv: -kv[1]))
    table = "\n".join(
        [
            f"Measured {time.strftime('%Y-%m-%d')} on {machine()}, `python benchmarks/demo_time.py` (`make demo`, "
            "venv installed, empty compile cache and output folder, output piped: plain lines). The load "
            "average column is the 1-minute load over the run (2 means both cores were busy with other work).",
            "",
            "| run | wall time | first model page | lines printed | load average |",
            "|---|---:|---:|---:|---:|",
            row("cold", cold),
            row("cached (second run)", cached),
            "",
            f"Cold, summed over the models (two at a time, so more than the wall time): {solvers}; "
            f"{parts['compiling']:.0f} s of it compiling with numba. `run all` ended at {parts['run']:.0f} s, "
            f"`teach` and `report` took the last {parts['after run']:.0f} s.",
        ]
    )
    print(table)
    write_section("demo", "`make demo`: cold and cached", table)


if __name__ == "__main__":
    main()
