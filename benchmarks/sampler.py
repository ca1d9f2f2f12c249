"""Sampler speed: ESS per second of PyMC's NUTS vs nutpie (and numpyro if installed), one run.

For each model and sampler, a fresh process builds the catalog model and calls ``pm.sample`` twice
with the same settings (4 chains, 1000 tune, 1000 draws, the model's own ``SAMPLER`` options):
the first call pays for compilation, the second is timed. ESS/s is the *smallest* bulk ESS over
the model's free variables divided by the second call's wall time; ratios are to PyMC in the same
run. Needs ``pip install 'modemean[bench]'`` (nutpie; numpyro is used when importable).

Usage: ``python benchmarks/sampler.py [--readme] [MODEL ...]``
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import subprocess
import sys
from datetime import date

from readme_section import write_section

MODELS = ("eight_schools", "bioassay", "rat_tumors", "robust_regression", "two_gaussians")


def worker(model: str, sampler: str) -> dict:
    """Sample ``model`` twice with ``sampler``; time and ESS of the second call."""
    import time

    import arviz as az
    import pymc as pm

    from modemean.comparisons.spec import load_spec

    spec = load_spec(model)
    kwargs = dict(
        draws=1000,
        tune=1000,
        chains=4,
        cores=2,
        random_seed=1,
        nuts_sampler=sampler,
        progressbar=False,
        compute_convergence_checks=False,
        model=spec.model,
        **spec.sample_kwargs,
    )
    t = time.perf_counter()
    pm.sample(**kwargs)
    first = time.perf_counter() - t
    t = time.perf_counter()
    idata = pm.sample(**kwargs)
    second = time.perf_counter() - t
    names = [rv.name for rv in spec.model.free_RVs]
    ess = az.ess(idata, var_names=names)
    min_ess = float(min(float(ess[n].min()) for n in names))
    return {
        "first": first,
        "second": second,
        "min_ess": min_ess,
        "ess_per_s": min_ess / second,
        "divergences": int(idata.sample_stats["diverging"].sum()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", default=list(MODELS))
    parser.add_argument("--readme", action="store_true", help="write the table into benchmarks/README.md")
    parser.add_argument("--worker", nargs=2, metavar=("MODEL", "SAMPLER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(*args.worker)))
        return
    samplers = ["pymc", "nutpie"] + (["numpyro"] if importlib.util.find_spec("numpyro") else [])
    results = {}
    for model in args.models:
        for sampler in samplers:
            proc = subprocess.run(
                [sys.executable, __file__, "--worker", model, sampler],
                capture_output=True,
                text=True,
                env={**os.environ, "MPLBACKEND": "Agg"},
            )
            out = proc.stdout.strip().splitlines()
            results[model, sampler] = json.loads(out[-1]) if proc.returncode == 0 and out else None
            print(model, sampler, results[model, sampler] or proc.stderr[-500:], flush=True)
    lines = [
        f"Measured {date.today()} on {platform.machine()} with {os.cpu_count()} cores, "
        "`python benchmarks/sampler.py`; 4 chains × (1000 tune + 1000 draws); ESS/s = min bulk ESS over "
        "free variables / wall time of a second (compiled) call.",
        "",
        "| model | sampler | first call (s) | second call (s) | min bulk ESS | ESS/s | × pymc | divergences |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for model in args.models:
        base = results.get((model, "pymc"))
        for sampler in samplers:
            r = results[model, sampler]
            if r is None:
                lines.append(f"| {model} | {sampler} | failed | | | | | |")
                continue
            ratio = r["ess_per_s"] / base["ess_per_s"] if base else float("nan")
            lines.append(
                f"| {model} | {sampler} | {r['first']:.1f} | {r['second']:.2f} | {r['min_ess']:.0f} | "
                f"{r['ess_per_s']:.0f} | {ratio:.2f} | {r['divergences']} |"
            )
    table = "\n".join(lines)
    print(table)
    if args.readme:
        write_section("sampler", "Sampler: ESS per second, PyMC vs nutpie", table)


if __name__ == "__main__":
    main()
