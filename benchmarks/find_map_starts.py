"""find_MAP from 4 starts: four ``pm.find_MAP`` calls against one compiled objective shared by the starts.

Run: ``.venv/bin/python benchmarks/find_map_starts.py`` (writes its section of benchmarks/README.md).

Both paths find the same points bitwise (``tests/unit/test_map_modes.py``): the shared path uses
find_MAP's own loss, start points and optimiser call (``modemean.comparisons.solvers.map.starts.Objective``),
compiled once. Times are wall-clock seconds for the four L-BFGS-B starts only (no polishing, no
audit), each path run twice in one process, the second (warm: compile cache loaded) reported.
"""

from __future__ import annotations

import datetime
import os
import platform
import time
import warnings

import numpy as np
import pymc as pm

from modemean.comparisons.solvers.map.starts import Objective
from modemean.comparisons.spec import load_spec

MODELS = ("bioassay", "eight_schools", "rat_tumors", "two_gaussians", "shift_alignment")
SEED, STARTS = 20261126, 4


def find_map_calls(model: pm.Model) -> list[np.ndarray]:
    out = []
    for k in range(STARTS):
        fit = pm.find_MAP(
            model=model,
            method="L-BFGS-B",
            jitter=k > 0,
            random_seed=SEED + k,
            return_inferencedata=True,
            progressbar=False,
            idata_kwargs={"include_transformed": True},
        )
        out.append(np.asarray(fit.fit["mean_vector"].values))
    return out


def shared(model: pm.Model) -> list[np.ndarray]:
    objective = Objective(model)
    return [
        np.asarray(objective.minimize(objective.start(SEED + k, jitter=k > 0), "L-BFGS-B").x) for k in range(STARTS)
    ]


def timed(fn, model):
    start = time.perf_counter()
    points = fn(model)
    return time.perf_counter() - start, points


def main() -> None:
    warnings.filterwarnings("ignore")
    rows = []
    for name in MODELS:
        model = load_spec(name).model
        times = {}
        for label, fn in (("find_MAP", find_map_calls), ("shared", shared)):
            timed(fn, model)  # first run: compiles (or loads the compile cache)
            times[label], points = timed(fn, model)
            times[label + "_points"] = points
        same = all(np.array_equal(a, b) for a, b in zip(times["find_MAP_points"], times["shared_points"], strict=True))
        rows.append(
            f"| {name} | {times['find_MAP']:.2f} | {times['shared']:.2f} | "
            f"{times['shared'] / times['find_MAP']:.2f} | {'yes' if same else 'no'} |"
        )
        print(rows[-1], flush=True)
    table = "\n".join(
        [
            f"Measured {datetime.date.today()} on {platform.machine()}, {os.cpu_count()} cores "
            "(other work on the machine: read the ratios, not the seconds).",
            "",
            "| model | 4 × `pm.find_MAP` (s) | one compiled objective, 4 starts (s) | ratio | same points |",
            "|---|---:|---:|---:|---|",
            *rows,
        ]
    )
    from readme_section import write_section

    write_section(
        "find_map_starts", "find_MAP from 4 starts: four calls vs one compiled objective (`find_map_starts.py`)", table
    )


if __name__ == "__main__":
    main()
