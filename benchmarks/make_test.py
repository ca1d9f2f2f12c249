"""``make test`` as CI runs it: a fresh clone, a fresh virtual environment, an empty compile cache.

Clones the repository (its committed ``HEAD``) into a temporary folder and runs ``make test`` there with
``PYTENSOR_FLAGS=base_compiledir=<empty folder>``, recording:

- the wall time of ``make test`` (install included) and pytest's own;
- how busy the cores were, from ``/proc/stat`` every 2 s (idle cores mean the run waits on something;
  busy ones mean its time is its CPU time over the cores);
- each test's start, end and CPU seconds (``_timeline.py``, a pytest plugin), summed per test file;
- when each catalog model of the ``solved`` fixture was ready (its mark's time in the session folder).

Prints a markdown summary and, with ``--readme``, replaces the "make test" section of
``benchmarks/README.md``.

Usage: ``python benchmarks/make_test.py [--readme] [--repo PATH]`` (about 12–15 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

from readme_section import machine, write_section

HERE = Path(__file__).resolve().parent


def _cpu_times() -> tuple[int, int]:
    """(busy, total) jiffies of all cores since boot."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


class Busy(threading.Thread):
    """Samples the cores' busy fraction every ``every`` seconds: ``samples`` is [(t, fraction)]."""

    def __init__(self, every: float = 2.0):
        super().__init__(daemon=True)
        self.every, self.samples, self.stop = every, [], threading.Event()

    def run(self) -> None:
        last = _cpu_times()
        while not self.stop.wait(self.every):
            now = _cpu_times()
            self.samples.append((time.time(), (now[0] - last[0]) / max(now[1] - last[1], 1)))
            last = now


def run(repo: Path) -> dict:
    """Clone ``repo``, run ``make test`` cold, return the measurements."""
    work = Path(tempfile.mkdtemp(prefix="make-test-"))
    clone, timeline, compiled = work / "clone", work / "timeline", work / "compile"
    timeline.mkdir()
    subprocess.run(["git", "clone", "--quiet", str(repo), str(clone)], check=True)
    head = subprocess.run(["git", "-C", str(clone), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    env = {
        **os.environ,
        "PYTENSOR_FLAGS": f"base_compiledir={compiled}",
        "PYTHONPATH": str(HERE),
        "PYTEST_ADDOPTS": "-p _timeline",
        "TIMELINE_DIR": str(timeline),
    }
    busy = Busy()
    busy.start()
    start = time.time()
    proc = subprocess.run(["make", "test"], cwd=clone, env=env, capture_output=True, text=True)
    wall = time.time() - start
    busy.stop.set()
    busy.join()
    (work / "make-test.log").write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        raise SystemExit(f"make test failed (exit {proc.returncode}); its output: {work / 'make-test.log'}")
    rows = [json.loads(line) for f in timeline.glob("*.jsonl") for line in f.read_text().splitlines()]
    first = min(r["start"] for r in rows)
    last = max(r["end"] for r in rows)
    folders = [Path(f.read_text()) / "catalog-done" for f in timeline.glob("basetemp-*")]
    marks = [m for folder in folders if folder.is_dir() for m in folder.iterdir()]  # one folder has them
    ready = {m.name: m.stat().st_mtime - first for m in marks}
    summary = proc.stdout.strip().splitlines()[-1]
    during = [f for t, f in busy.samples if first <= t <= last]
    files: dict[str, list[float]] = {}
    for r in rows:
        f = files.setdefault(r["id"].split("::")[0], [0.0, 0.0, 0])
        f[0] += r["end"] - r["start"]
        f[1] += r["own"] + r["children"]
        f[2] += 1
    return {
        "head": head.stdout.strip(),
        "wall": wall,
        "before_tests": first - start,
        "tests": last - first,
        "busy": sum(during) / max(len(during), 1),
        "catalog_ready": max((t for name, t in ready.items() if name != "ALL"), default=None),
        "summary": summary.strip("= "),
        "files": files,
        "test_cpu": sum(f[1] for f in files.values()),
        "work": work,
    }


def table(m: dict) -> str:
    cores = os.cpu_count() or 1
    lines = [
        f"Measured {date.today().isoformat()} on {machine()}, `python benchmarks/make_test.py` (a fresh clone of "
        f"{m['head']}, a fresh virtual environment, an empty compile cache).",
        "",
        "| `make test` | install and collection | tests | cores busy during the tests | catalog ready | "
        "CPU counted in the test processes |",
        "|---:|---:|---:|---:|---:|---:|",
        f"| {m['wall']:.0f} s ({m['wall'] / 60:.1f} min) | {m['before_tests']:.0f} s | {m['tests']:.0f} s | "
        f"{100 * m['busy']:.0f} % of {cores} | {m['catalog_ready']:.0f} s after the first test | "
        f"{m['test_cpu']:.0f} s |",
        "",
        f"pytest: {m['summary']}.",
        "",
        "The test files by CPU seconds (the test process's own and its waited-for children's; the "
        "catalog's worker processes, the report's render workers and Chromium are not counted):",
        "",
        "| file | tests | wall (s) | CPU (s) |",
        "|---|---:|---:|---:|",
    ]
    for name, (wall, cpu, n) in sorted(m["files"].items(), key=lambda kv: -kv[1][1])[:12]:
        lines.append(f"| `{name}` | {n} | {wall:.0f} | {cpu:.0f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, default=HERE.parent, help="the repository to clone (default: this one)")
    parser.add_argument("--readme", action="store_true", help="replace the make test section of benchmarks/README.md")
    args = parser.parse_args()
    measured = run(args.repo)
    text = table(measured)
    print(text)
    print(f"\n(the clone and its logs: {measured['work']})")
    if args.readme:
        write_section("make_test", "make test from a clean clone (`make_test.py`)", text)


if __name__ == "__main__":
    main()
