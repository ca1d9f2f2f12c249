"""Simulation-study throughput: replicates per minute with 1 and 2 local workers, and the cost of a replicate
against NUTS's sampling time alone; optionally the acceptance study (200 replicates of eight_schools).

For each model (eight_schools with map, em, nuts; the conjugate normal-mean model of the tests with map,
nuts; NUTS at 4 chains x 500 tune + 500 draws), after a warm-up study that fills the compile caches
(the user's and each worker's), the same ``R`` replicates are run by ``modemean.study`` with
``workers=1`` (in this process) and ``workers=2`` (a Dask LocalCluster, its start-up included) into
fresh folders: replicates per minute = R / wall time. "NUTS alone" is ``pm.sample`` with the same
settings (chains one after another, ``cores=1``, as in a study) on the model's own data, timed on its
second call (compiled, warm); the per-replicate costs are medians over the replicates of the 1-worker
run. The load average is printed: on a shared machine the ratios move with it.

Usage: ``python benchmarks/study.py [--replicates R] [--acceptance [--out DIR] [--skip-throughput]] [--readme]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from readme_section import machine, write_section

ROOT = Path(__file__).resolve().parent.parent
CONJUGATE = str(ROOT / "tests" / "unit" / "study_models" / "normal_mean.py")
NUTS = {"draws": 500, "tune": 500, "chains": 4}
CASES = (("eight_schools", "eight_schools", "map,em,nuts"), ("normal_mean (conjugate)", CONJUGATE, "map,nuts"))


def sampling_alone(target: str) -> float:
    """Wall time of the second ``pm.sample`` (4 x 500 + 500, cores=1) on the model's own data."""
    import logging

    import pymc as pm

    from modemean.comparisons.spec import load_spec

    logging.getLogger("pymc").setLevel(logging.WARNING)  # after PyMC's import, which sets it
    spec = load_spec(target)
    kwargs = dict(
        **NUTS,
        cores=1,
        random_seed=1,
        nuts_sampler="pymc",
        progressbar=False,
        compute_convergence_checks=False,
        model=spec.model,
        **spec.sample_kwargs,
    )
    pm.sample(**kwargs)
    start = time.perf_counter()
    pm.sample(**kwargs)
    return time.perf_counter() - start


def worker_cache_files() -> int:
    """Files in every worker's PyTensor compile directory (``~/.pytensor/modemean-worker-*``)."""
    return sum(
        1 for d in Path.home().joinpath(".pytensor").glob("modemean-worker-*") for f in d.rglob("*") if f.is_file()
    )


def timed_study(target: str, solvers: str, replicates: int, workers: int, out: Path):
    from modemean import study

    stamps: list[float] = []
    start = time.perf_counter()
    result = study(
        target,
        replicates=replicates,
        solvers=solvers,
        workers=workers,
        out=out,
        callback=lambda record: stamps.append(time.perf_counter()),
        **NUTS,
    )
    wall = time.perf_counter() - start
    assert result.computed == replicates, "a benchmark folder must start empty"
    # steady rate: replicates after the first one over the time between the first and the last to finish
    # (leaves out the cluster's start, the workers' imports and first compilations)
    steady = (len(stamps) - 1) / (stamps[-1] - stamps[0]) * 60 if len(stamps) > 1 else float("nan")
    return wall, steady, result


def throughput(replicates: int) -> str:
    rows = []
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        for label, target, solvers in CASES:
            timed_study(target, solvers, 2, 2, Path(tmp) / f"{label[:4]}-warm2")  # fills the workers' caches
            timed_study(target, solvers, 1, 1, Path(tmp) / f"{label[:4]}-warm1")
            alone = sampling_alone(target)
            one, steady1, r1 = timed_study(target, solvers, replicates, 1, Path(tmp) / f"{label[:4]}-1")
            cached = worker_cache_files()
            two, steady2, _ = timed_study(target, solvers, replicates, 2, Path(tmp) / f"{label[:4]}-2")
            compiled = worker_cache_files() - cached  # 0: the workers' caches were warm (nothing compiled anew)
            replicate = statistics.median(r["seconds"] for r in r1.records)
            nuts = statistics.median(r["solvers"]["nuts"]["seconds"] for r in r1.records)
            rows.append((label, solvers, one, two, steady1, steady2, alone, replicate, nuts, compiled))
            print(f"{label}: 1 worker {one:.1f} s, 2 workers {two:.1f} s, NUTS alone {alone:.2f} s", file=sys.stderr)
    load_after = os.getloadavg()
    lines = [
        f"Measured {date.today().isoformat()} on {machine()}, `python benchmarks/study.py --replicates "
        f"{replicates}`; load average {load_before[0]:.1f} before, {load_after[0]:.1f} after (1-minute).",
        "",
        f"R = {replicates} replicates per run, prior truth, NUTS {NUTS['chains']} chains x {NUTS['tune']} tune + "
        f"{NUTS['draws']} draws (chains sequential); wall time includes the LocalCluster start for 2 workers.",
        "",
        "| model | solvers | replicates/min, 1 worker | 2 workers | 2 ÷ 1 | steady, 1 worker | steady, 2 workers "
        "| 2 ÷ 1 steady | NUTS alone (s) | replicate (s, median) | NUTS in a replicate (s) | NUTS in a replicate ÷ "
        "alone | replicate ÷ NUTS alone | files compiled by the 2 workers |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, solvers, one, two, steady1, steady2, alone, replicate, nuts, compiled in rows:
        per_min_1, per_min_2 = replicates / one * 60, replicates / two * 60
        lines.append(
            f"| {label} | {solvers} | {per_min_1:.1f} | {per_min_2:.1f} | {per_min_2 / per_min_1:.2f} | "
            f"{steady1:.1f} | {steady2:.1f} | {steady2 / steady1:.2f} | {alone:.2f} | {replicate:.2f} | {nuts:.2f} | "
            f"{nuts / alone:.2f} | {replicate / alone:.2f} | {compiled} |"
        )
    lines += [
        "",
        "replicates/min: R over the study's wall time; steady: the replicates after the first over the time "
        "from the first to the last to finish (no cluster start, imports or first compilation). NUTS alone: "
        "the second `pm.sample` on the model's data, chains sequential. Files compiled: files the timed "
        "2-worker study added to the workers' compile directories (numba caches a refit whose graph "
        "changed with the data; 0 = nothing compiled anew).",
    ]
    return "\n".join(lines)


def acceptance(out: Path) -> str:
    """200 replicates of eight_schools, prior truth, map, em, nuts at 4 x 500, two local workers."""
    from modemean import study

    load_before = os.getloadavg()
    start = time.perf_counter()
    result = study("eight_schools", replicates=200, workers=2, out=out, quiet=not sys.stderr.isatty(), **NUTS)
    wall = time.perf_counter() - start
    return (
        f"Acceptance run {date.today().isoformat()} on {machine()}: `modemean study eight_schools --replicates 200 "
        f"--workers 2 --draws 500 --tune 500` ({result.computed} replicates computed in this call, {wall / 60:.1f} "
        f"min wall; load average {load_before[0]:.1f} at the start, {os.getloadavg()[0]:.1f} at the end).\n\n"
        + study_table(result.summary)
    )


def study_table(s: dict) -> str:
    """Bias, RMSE, coverage and SBC of mu and tau from an eight_schools ``study.json``."""
    lines = [
        f"{s['replicates']['done']} replicates done, {s['replicates']['failed']} failed; replicate seconds: median "
        f"{s['replicates']['seconds']['median']:.1f}, total {s['replicates']['seconds']['total'] / 60:.1f} min.",
        "",
        "| parameter | estimator | n | bias ± MCSE | RMSE ± MCSE |",
        "|---|---|---:|---:|---:|",
    ]
    for name in ("mu", "tau"):
        for est, row in s["estimators"][name].items():
            lines.append(
                f"| {name} | {est} | {row['n']} | {row['bias']:.3f} ± {row['bias_mcse']:.3f} | "
                f"{row['rmse']:.3f} ± {row['rmse_mcse']:.3f} |"
            )
    lines += [
        "",
        "| parameter | interval | n | coverage ± se (nominal 0.94) | no interval |",
        "|---|---|---:|---:|---:|",
    ]
    for name in ("mu", "tau"):
        for kind, row in s["coverage"][name].items():
            lines.append(f"| {name} | {kind} | {row['n']} | {row['rate']:.3f} ± {row['se']:.3f} | {row['missing']} |")
    lines += [
        "",
        "| parameter | SBC ranks (L) | bins | chi-square p | replicates with bulk ESS < L |",
        "|---|---:|---:|---:|---:|",
    ]
    for name in ("mu", "tau"):
        row = s["sbc"][name]
        lines.append(f"| {name} | {row['draws']} | {row['bins']} | {row['p_value']:.3f} | {row['low_ess']} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replicates", type=int, default=16, help="replicates per throughput run (default 16)")
    parser.add_argument("--acceptance", action="store_true", help="also run the 200-replicate eight_schools study")
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "site", help="folder of the acceptance study")
    parser.add_argument("--skip-throughput", action="store_true", help="only the acceptance study")
    parser.add_argument(
        "--table", type=Path, metavar="STUDY_JSON", help="only print the acceptance table of a finished study.json"
    )
    parser.add_argument("--readme", action="store_true", help="write the tables into benchmarks/README.md")
    args = parser.parse_args()
    if args.table is not None:
        print(study_table(json.loads(args.table.read_text())))
        return
    if not args.skip_throughput:
        table = throughput(args.replicates)
        print(table)
        if args.readme:
            write_section("study", "Simulation studies: replicates per minute (`study.py`)", table)
    if args.acceptance:  # resumes a study already in --out (its table then says how many were computed now)
        table = acceptance(args.out)
        print(table)
        if args.readme:
            write_section(
                "study_acceptance", "Simulation study: eight_schools, 200 replicates (`study.py --acceptance`)", table
            )


if __name__ == "__main__":
    main()
