"""Same model, new data: seconds per refit vs the first fit, compiles, and NUTS's sampling time as the peer.

For each model, a fresh process loads it, solves it once (``map``, ``em``, ``nuts`` at their default
settings: 4 starts, 5 restarts, 4 chains × (1000 tune + 1000 draws)), then simulates ``--refits``
data sets of the same shapes from the posterior predictive (observations drawn at thinned NUTS draws,
seeded) and solves each one through ``spec.with_data(data)``:

- **swap** — the default ``with_data``: only the observations change, so the model, its compiled
  functions and the frozen NUTS model are shared (comparisons/compiled.py);
- **rebuild** — ``with_data`` rebuilding the model on every call (what it did before: ``build(data)``
  and everything compiled again, from PyTensor's disk cache), on the first ``REBUILDS`` data sets.

Each refit's time includes ``with_data`` itself. The peer is the NUTS sampling time alone
(``sample_stats.attrs["sampling_time"]``, the draws without set-up) of the same refit; the target is
a NUTS refit within 1.2× of it. Compiles count PyTensor function constructions in the parent process
(``FunctionMaker``). Peak RSS is the largest of this process and of its sampler processes.

Usage: ``python benchmarks/refit.py [--refits N] [--readme] [MODEL ...]``
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from datetime import date

from readme_section import machine, write_section

MODELS = ("eight_schools", "sleepstudy")
SOLVERS = ("map", "em", "nuts")
REBUILDS = 3  # refits timed in the rebuild mode (the old behaviour, for comparison)


def worker(model: str, refits: int) -> dict:
    """First fit, then ``refits`` refits in each mode; seconds and compiles per solver."""
    import logging
    import resource
    import time
    import warnings

    import numpy as np
    import pymc as pm
    from pytensor.compile import maker

    from modemean.comparisons.solvers import SOLVERS as REGISTRY
    from modemean.comparisons.solvers import check_options
    from modemean.comparisons.spec import load_spec, observed_keys

    warnings.simplefilter("ignore")
    logging.getLogger("pymc").setLevel(logging.ERROR)
    compiles = [0]
    original = maker.FunctionMaker.__init__

    def counting(self, *args, **kwargs):
        compiles[0] += 1
        return original(self, *args, **kwargs)

    maker.FunctionMaker.__init__ = counting
    _, options = check_options(list(SOLVERS), {})
    seed = options.pop("seed")

    def solve(spec) -> dict:
        out = {}
        for name in SOLVERS:
            solver = REGISTRY[name]
            compiles[0], t = 0, time.perf_counter()
            fit = solver.fit(spec, seed=seed, **{k: options[k] for k in solver.options})
            out[name] = {"seconds": time.perf_counter() - t, "compiles": compiles[0], "status": fit.status}
            if name == "nuts":
                out[name]["sampling"] = float(fit.draws.sample_stats.attrs["sampling_time"])
                out["posterior"] = fit.draws
        return out

    t = time.perf_counter()
    compiles[0] = 0
    spec = load_spec(model)
    load = {"seconds": time.perf_counter() - t, "compiles": compiles[0]}
    first = solve(spec)
    # simulated data sets: the observations drawn from the model at thinned posterior draws
    keys = observed_keys(spec)
    posterior = first.pop("posterior").posterior.to_dataset()
    picks = posterior.isel(chain=0, draw=np.linspace(0, posterior.sizes["draw"] - 1, refits).astype(int))
    with spec.model:
        pred = pm.sample_posterior_predictive(
            picks.expand_dims("chain"), var_names=list(keys), random_seed=seed, progressbar=False
        ).posterior_predictive
    datasets = [
        {**spec.data, **{key: pred[var].values[0, i].astype(spec.data[key].dtype) for var, key in keys.items()}}
        for i in range(refits)
    ]
    runs = {}
    for mode in ("swap", "rebuild"):
        rows = []
        for data in datasets if mode == "swap" else datasets[:REBUILDS]:
            if mode == "rebuild":
                spec.compiled.swappable = False  # with_data as before: build(data), everything compiled anew
            compiles[0], t = 0, time.perf_counter()
            other = spec.with_data(data)
            row = {"with_data": {"seconds": time.perf_counter() - t, "compiles": compiles[0]}}
            row.update(solve(other))
            row.pop("posterior")
            rows.append(row)
        spec.compiled.swappable = True
        runs[mode] = rows
    rss = max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return {"load": load, "first": first, "runs": runs, "peak_rss_mb": rss / 1024, "n_obs": len(keys)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", default=list(MODELS))
    parser.add_argument("--refits", type=int, default=10)
    parser.add_argument("--readme", action="store_true", help="write the table into benchmarks/README.md")
    parser.add_argument("--worker", nargs=2, metavar=("MODEL", "REFITS"), help=argparse.SUPPRESS)
    parser.add_argument("--from", dest="saved", help="table from a saved run's 'MODEL {json}' lines")
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker[0], int(args.worker[1]))))
        return
    results, loads = {}, []
    if args.saved:
        with open(args.saved) as f:
            for line in f:
                model, _, rest = line.partition(" ")
                if rest.startswith("{"):
                    results[model] = json.loads(rest)
        loads = [float("nan")] * len(results)
    for model in [] if args.saved else args.models:
        proc = subprocess.run(
            [sys.executable, __file__, "--worker", model, str(args.refits)],
            capture_output=True,
            text=True,
            env={**os.environ, "MPLBACKEND": "Agg"},
        )
        out = proc.stdout.strip().splitlines()
        if proc.returncode or not out:
            print(model, "failed:", proc.stderr[-2000:], flush=True)
            continue
        results[model] = json.loads(out[-1])
        loads.append(os.getloadavg()[0])
        print(model, json.dumps(results[model]), flush=True)  # every number, for a table made later
    median = lambda xs: float(sorted(xs)[len(xs) // 2])  # noqa: E731
    lines = [
        f"Measured {date.today()}: {machine()}; `python benchmarks/refit.py --refits {args.refits}`; "
        f"load average after each model {', '.join(f'{x:.1f}' for x in loads)} (a shared machine: the "
        "times are under other engineers' load, the ratios in a row come from one process). "
        "Median over the refits; compiles = PyTensor functions constructed in the main process.",
        "",
        "| model | solver | first fit (s) | refit, rebuild (s) | refit, swap (s) | compiles first / rebuild / swap |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for model, r in results.items():
        lines.append(
            f"| {model} | load / `with_data` | {r['load']['seconds']:.2f} | "
            f"{median([x['with_data']['seconds'] for x in r['runs']['rebuild']]):.2f} | "
            f"{median([x['with_data']['seconds'] for x in r['runs']['swap']]):.3f} | "
            f"{r['load']['compiles']} / {median([x['with_data']['compiles'] for x in r['runs']['rebuild']]):.0f} / "
            f"{median([x['with_data']['compiles'] for x in r['runs']['swap']]):.0f} |"
        )
        for name in SOLVERS:
            rebuild = [x[name] for x in r["runs"]["rebuild"]]
            swap = [x[name] for x in r["runs"]["swap"]]
            lines.append(
                f"| {model} | {name} | {r['first'][name]['seconds']:.2f} | "
                f"{median([x['seconds'] for x in rebuild]):.2f} | {median([x['seconds'] for x in swap]):.2f} | "
                f"{r['first'][name]['compiles']} / {median([x['compiles'] for x in rebuild]):.0f} / "
                f"{median([x['compiles'] for x in swap]):.0f} |"
            )

        def ratio(mode, keys, runs=r["runs"]):  # median over the refits of their seconds / their sampling alone
            return median([sum(x[k]["seconds"] for k in keys) / x["nuts"]["sampling"] for x in runs[mode]])

        sampling = median([x["nuts"]["sampling"] for x in r["runs"]["swap"]])
        lines.append(
            f"| {model} | **NUTS sampling alone (peer)** | | | {sampling:.2f} | NUTS refit (+ with_data) "
            f"{ratio('swap', ('with_data', 'nuts')):.2f}× the peer (rebuild: "
            f"{ratio('rebuild', ('with_data', 'nuts')):.2f}×), "
            f"map+em+nuts {ratio('swap', ('with_data', *SOLVERS)):.2f}×; "
            f"peak RSS {r['peak_rss_mb']:.0f} MB |"
        )
    table = "\n".join(lines)
    print(table)
    if args.readme:
        write_section("refit", "Same model, new data (`refit.py`)", table)


if __name__ == "__main__":
    main()
