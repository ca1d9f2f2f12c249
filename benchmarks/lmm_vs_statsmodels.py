"""Linear mixed models: modemean's exact Gaussian EM (derived from the PyMC graph) vs statsmodels MixedLM (ML).

Run: ``.venv/bin/python benchmarks/lmm_vs_statsmodels.py [n_groups]`` (needs the ``bench`` extra:
statsmodels). Prints a Markdown table and writes it into ``benchmarks/README.md``.

Both fit ``y ~ x + (x | group)`` (correlated random intercept and slope) by maximum likelihood on
the same data: lme4's sleepstudy (18 subjects x 10 days) and a simulated data set with ``n_groups``
groups (default 10^4) of 5 observations each. modemean's side is the catalog's ``sleepstudy`` model
(``models/sleepstudy.py``: ``b ~ MvNormal`` of shape (groups, 2), ``LATENT = ("b",)``) given the data,
its ``mle`` EM from the model's initial point: block-diagonal E-step (one 2 x 2 block per group, no
dense algebra), SQUAREM cycles, to EM's default tolerance (1e-8 on the parameters). statsmodels:
``MixedLM.from_formula(..., re_formula="~x").fit(reml=False)`` with its default optimiser.

"Same optimum" is checked in the table: the difference of the maximised log likelihoods and the
largest difference of the parameters (beta, sigma, tau, rho). Times are wall-clock in one process;
modemean's are split into building + compiling the graphs (PyTensor, Python linker: no numba or C
compilation) and the EM iterations themselves.
"""

from __future__ import annotations

import datetime
import os
import sys
import time
import warnings

import numpy as np
import pandas as pd

from modemean import models
from modemean.comparisons.em.loop import run_em
from modemean.comparisons.spec import spec_from_parts

try:
    from readme_section import machine, write_section
except ImportError:  # run from elsewhere
    sys.path.insert(0, os.path.dirname(__file__))
    from readme_section import machine, write_section

SEED = 0


def simulate(n_groups: int, per_group: int = 5) -> dict:
    """Sleepstudy-like data: beta = (250, 10), tau = (24, 6), rho = 0.1, sigma = 25."""
    rng = np.random.default_rng(SEED)
    tau, rho = np.array([24.0, 6.0]), 0.1
    cov = np.array([[tau[0] ** 2, rho * tau[0] * tau[1]], [rho * tau[0] * tau[1], tau[1] ** 2]])
    b = rng.multivariate_normal(np.zeros(2), cov, size=n_groups)
    subject = np.repeat(np.arange(n_groups), per_group)
    days = np.tile(np.arange(per_group, dtype=float), n_groups)
    y = 250 + b[subject, 0] + (10 + b[subject, 1]) * days + rng.normal(0, 25, subject.size)
    return {"reaction": y, "days": days, "subject": subject.astype(np.int64)}


def modemean_fit(data: dict) -> dict:
    module = models.get("sleepstudy")
    t0 = time.perf_counter()
    spec = spec_from_parts(module.build, data, name="lmm", latent=module.LATENT)
    em = spec.em_engine
    engine = em.derived  # builds and compiles the engine, checks the graph
    start = em.starts(1, np.random.default_rng(SEED))[0]
    e0, _ = em.e_step(start)
    em.m_step(e0, None)  # compiles Q
    t1 = time.perf_counter()
    run = run_em(em, start, prior=None)
    t2 = time.perf_counter()
    p = run.params
    return {
        "loglik": run.objective,
        "compile": t1 - t0,
        "fit": t2 - t1,
        "n_iter": run.n_iter,
        "converged": run.converged,
        "blocks": engine.blocks,
        "params": np.concatenate([p["beta"], [p["sigma"]], p["tau"], [p["rho"]]]),
    }


def statsmodels_fit(data: dict) -> dict:
    import statsmodels.formula.api as smf

    frame = pd.DataFrame({"y": data["reaction"], "x": data["days"], "g": data["subject"]})
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = smf.mixedlm("y ~ x", frame, groups=frame["g"], re_formula="~x").fit(reml=False)
    t1 = time.perf_counter()
    cov = np.asarray(result.cov_re)
    tau = np.sqrt(np.diag(cov))
    return {
        "loglik": float(result.llf),
        "fit": t1 - t0,
        "converged": bool(result.converged),
        "params": np.concatenate(
            [np.asarray(result.fe_params), [np.sqrt(result.scale)], tau, [cov[0, 1] / (tau[0] * tau[1])]]
        ),
    }


def main(n_groups: int = 10_000) -> str:
    import statsmodels

    rows = []
    for label, data in (
        ("sleepstudy (18 groups, 180 obs)", models.get("sleepstudy").load_data()),
        (f"simulated ({n_groups:,} groups, {5 * n_groups:,} obs)", simulate(n_groups)),
    ):
        ours, theirs = modemean_fit(data), statsmodels_fit(data)
        gap = ours["loglik"] - theirs["loglik"]
        diff = float(np.max(np.abs(ours["params"] - theirs["params"]) / (1 + np.abs(theirs["params"]))))
        total = ours["compile"] + ours["fit"]
        rows.append(
            f"| {label} | {theirs['fit']:.2f} | {ours['fit']:.2f} ({ours['n_iter']} cycles) | "
            f"{ours['compile']:.2f} | {ours['fit'] / theirs['fit']:.2f} | {total / theirs['fit']:.2f} | "
            f"{gap:+.2e} | {diff:.1e} | {ours['blocks'][0]:,} x {ours['blocks'][1]}x{ours['blocks'][1]} |"
        )
        print(label, ours, theirs, flush=True)
    table = "\n".join(
        [
            f"Machine: {machine()}; date {datetime.date.today().isoformat()}; statsmodels {statsmodels.__version__}, "
            f"numpy {np.__version__}. One run each, wall-clock seconds.",
            "",
            "| data | MixedLM ML fit (s) | modemean EM iterations (s) | modemean build + compile (s) "
            "| ratio EM / MixedLM "
            "| ratio incl. compile | loglik (modemean − MixedLM) | max param diff (rel.) | Sigma blocks |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---|",
            *rows,
            "",
            "A positive loglik difference means modemean's optimum is higher (MixedLM stopped short of it).",
        ]
    )
    print(table)
    write_section(
        "lmm_vs_statsmodels",
        "Linear mixed models: exact Gaussian EM vs statsmodels MixedLM (`lmm_vs_statsmodels.py`)",
        table,
    )
    return table


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
