"""The study's summary (``study.json``): frequentist risk of each estimator, interval coverage, SBC ranks.

Every statistic is computed from the replicate records alone (so a resumed study gives the same
summary as one run straight through), replicates in index order.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats

from ..results.schema import HDI_PROB

__all__ = ["summarise", "format_summary", "ESTIMATORS", "LEVEL", "SCHEMA", "sbc_bins"]

SCHEMA = 1
ESTIMATORS = ("map", "em", "mle", "mean", "median", "mode")  # point estimates scored against the truth
LEVEL = HDI_PROB  # the HDI's and the Laplace interval's nominal coverage
Z = float(stats.norm.ppf(0.5 + LEVEL / 2))  # 1.8808: map +- Z laplace_sd is the Laplace 94% interval
BAND = 0.99  # SBC: per-bin binomial band
MIN_PER_BIN = 5  # SBC: expected count per bin at least this (chi-square's rule of thumb) ...
MAX_BINS = 20  # ... and at most this many bins


def summarise(
    records: list[dict[str, Any]],
    *,
    model: str,
    source: str,
    truth: str,
    settings: dict[str, Any],
    key: str,
    parameters: list[str],
) -> dict[str, Any]:
    """The content of ``study.json`` (schema in the README) from the replicate records.

    Parameters
    ----------
    records : list of dict
        One per finished replicate (:meth:`~comparisons.studies.replicate.Replicator.run`), any order.
    model, source, truth : str
    settings : dict
        replicates, solvers, seed, workers, sbc_draws and the solvers' options.
    key : str
        The study's key (model source, data, truth and settings that shape the numbers).
    parameters : list of str
        The model's parameters as flat names (not its latent variables nor deterministics): the rows
        a short table shows first.
    """
    records = sorted(records, key=lambda r: r["replicate"])
    failed = [r for r in records if r.get("error")]
    seconds = np.array([r["seconds"] for r in records], dtype=float)
    return {
        "schema": SCHEMA,
        "model": model,
        "source": source,
        "truth": truth,
        "key": key,
        "settings": settings,
        "parameters": parameters,
        "complete": len(records) >= settings["replicates"],
        "replicates": {
            "done": len(records) - len(failed),
            "failed": len(failed),
            "seconds": {
                "total": float(seconds.sum()),
                "mean": float(seconds.mean()) if seconds.size else None,
                "median": float(np.median(seconds)) if seconds.size else None,
            },
            "failures": [{"replicate": r["replicate"], "error": r["error"]} for r in failed],
        },
        "estimators": _estimators(records),
        "coverage": _coverage(records),
        "sbc": _sbc(records),
    }


def _params(records: list[dict]) -> list[str]:
    """Flat names with a truth, in the order of the first record that has one."""
    names: dict[str, None] = {}
    for r in records:
        names.update(dict.fromkeys(r.get("truth", {})))
    return list(names)


def _column(record: dict, column: str) -> dict[str, float]:
    """The estimates of ``column`` in a record, from whichever solver filled it, if that solver succeeded."""
    for entry in record.get("solvers", {}).values():
        if entry["status"] == "ok" and column in entry["estimates"]:
            return entry["estimates"][column]
    return {}


def _finite(value) -> bool:
    return value is not None and np.isfinite(value)


def _estimators(records: list[dict]) -> dict[str, dict[str, dict[str, float | None]]]:
    """Per parameter and estimator: n, bias and RMSE with their Monte Carlo standard errors.

    bias MCSE = sd(err) / sqrt(n); RMSE MCSE by the delta method, sd(err^2) / (2 RMSE sqrt(n)).
    """
    out: dict[str, dict[str, dict[str, float | None]]] = {}
    for name in _params(records):
        for est in ESTIMATORS:
            errors = []
            for r in records:
                value, truth = _column(r, est).get(name), r.get("truth", {}).get(name)
                if _finite(value) and _finite(truth):
                    errors.append(value - truth)
            if not errors:
                continue
            err = np.array(errors)
            rmse = float(np.sqrt(np.mean(err**2)))
            many = err.size > 1
            out.setdefault(name, {})[est] = {
                "n": int(err.size),
                "bias": float(err.mean()),
                "bias_mcse": float(stats.sem(err)) if many else None,
                "rmse": rmse,
                "rmse_mcse": float(stats.sem(err**2) / (2 * rmse)) if many and rmse > 0 else None,
            }
    return out


def _coverage(records: list[dict]) -> dict[str, dict[str, dict[str, float]]]:
    """Per parameter: how often the NUTS 94% HDI and the Laplace interval map +- 1.88 laplace_sd hold the truth.

    ``missing`` counts replicates where the solver succeeded but gave no interval (a Laplace sd that is
    undefined on a boundary); they are left out of ``n``.
    """
    intervals = {
        "hdi94": lambda r, name: (_column(r, "hdi_low").get(name), _column(r, "hdi_high").get(name)),
        "laplace94": lambda r, name: _laplace(_column(r, "map").get(name), _column(r, "laplace_sd").get(name)),
    }
    solver_of = {"hdi94": "nuts", "laplace94": "map"}
    out: dict[str, dict[str, dict[str, float]]] = {}
    for name in _params(records):
        for kind, interval in intervals.items():
            covered = n = missing = 0
            for r in records:
                entry = r.get("solvers", {}).get(solver_of[kind])
                truth = r.get("truth", {}).get(name)
                if entry is None or entry["status"] != "ok" or not _finite(truth):
                    continue
                low, high = interval(r, name)
                if not (_finite(low) and _finite(high)):
                    missing += int(name in _column(r, "mean" if kind == "hdi94" else "map"))
                    continue
                n += 1
                covered += int(low <= truth <= high)
            if n:
                rate = covered / n
                out.setdefault(name, {})[kind] = {
                    "n": n,
                    "covered": covered,
                    "rate": rate,
                    "se": float(np.sqrt(rate * (1 - rate) / n)),
                    "nominal": LEVEL,
                    "missing": missing,
                }
    return out


def _laplace(mode, sd) -> tuple[float | None, float | None]:
    if not (_finite(mode) and _finite(sd)):
        return None, None
    return mode - Z * sd, mode + Z * sd


def sbc_bins(draws: int, n: int) -> int:
    """Bins of the rank histogram: the largest divisor of ``draws + 1`` (ranks 0..draws, equal bins) with at
    most 20 bins and at least 5 expected ranks per bin; at least 2 when ``draws + 1`` allows."""
    divisors = [b for b in range(2, MAX_BINS + 1) if (draws + 1) % b == 0]
    fitting = [b for b in divisors if n / b >= MIN_PER_BIN]
    return max(fitting) if fitting else min(divisors, default=1)


def _sbc(records: list[dict]) -> dict[str, dict[str, Any]]:
    """Per parameter: the histogram of the NUTS ranks of the truth, a chi-square test of uniformity and
    the 99% binomial band of each bin's count (Talts et al. 2018)."""
    ranked = [r["solvers"]["nuts"]["sbc"] for r in records if "sbc" in r.get("solvers", {}).get("nuts", {})]
    if not ranked:
        return {}
    draws = min(s["draws"] for s in ranked)
    ranked = [s for s in ranked if s["draws"] == draws]  # one L per histogram (a study keeps its settings)
    out = {}
    for name in dict.fromkeys(n for s in ranked for n in s["ranks"]):
        ranks = np.array([s["ranks"][name] for s in ranked if name in s["ranks"]])
        low_ess = sum(1 for s in ranked if _finite(s["ess_bulk"].get(name)) and s["ess_bulk"][name] < draws)
        bins = sbc_bins(draws, ranks.size)
        counts = np.histogram(ranks, bins=bins, range=(0, draws + 1))[0]
        test = stats.chisquare(counts)
        low, high = stats.binom.interval(BAND, ranks.size, 1 / bins)
        out[name] = {
            "n": int(ranks.size),
            "draws": draws,
            "bins": bins,
            "counts": [int(c) for c in counts],
            "expected": ranks.size / bins,
            "band": [int(low), int(high)],
            "chi2": float(test.statistic),
            "p_value": float(test.pvalue),
            "low_ess": low_ess,
        }
    return out


def format_summary(summary: dict[str, Any], parameters: list[str] | None = None) -> str:
    """The study's table for the terminal: per parameter, each estimator's bias and RMSE (+- MCSE), the
    intervals' coverage and the SBC p-value.

    Parameters
    ----------
    summary : dict
        The content of ``study.json``.
    parameters : list of str, optional
        Rows to show (default: the model's parameters, ``summary["parameters"]``).
    """
    done, failed = summary["replicates"]["done"], summary["replicates"]["failed"]
    lines = [f"{summary['model']}: {done} replicates done, {failed} failed ({summary['truth']} truth)"]
    lines.append(
        f"{'parameter':12s} {'estimator':9s} {'n':>5s} {'bias':>10s} {'± mcse':>8s} {'rmse':>10s} {'± mcse':>8s}"
    )
    for name in parameters if parameters is not None else summary["parameters"]:
        for est, row in summary["estimators"].get(name, {}).items():
            lines.append(
                f"{name:12s} {est:9s} {row['n']:5d} {row['bias']:10.4g} {_num(row['bias_mcse']):>8s} "
                f"{row['rmse']:10.4g} {_num(row['rmse_mcse']):>8s}"
            )
        for kind, row in summary["coverage"].get(name, {}).items():
            lines.append(
                f"{name:12s} {kind:9s} {row['n']:5d} coverage {row['rate']:.3f} ± {row['se']:.3f} "
                f"(nominal {row['nominal']:.2f})"
            )
        if name in summary["sbc"]:
            row = summary["sbc"][name]
            lines.append(
                f"{name:12s} {'sbc':9s} {row['n']:5d} ranks among {row['draws']} draws, {row['bins']} bins: "
                f"chi2 {row['chi2']:.1f}, p = {row['p_value']:.3g}"
            )
    return "\n".join(lines)


def _num(value) -> str:
    return "—" if value is None else f"{value:.2g}"
