"""A study's numbers in words: the answer per parameter, the one-line summary; no HTML layout."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from modemean.comparisons.results.schema import format_number, is_number, wilson

from .load import BIAS_SE, INTERVALS_SHORT, NOMINAL, SBC_ALPHA, TIE_SE, Study, label


def plus_minus(value: Any, error: Any) -> str:
    """``value ± error`` with the error to two significant digits and the value to the same decimals."""
    if not is_number(value):
        return "—"
    if not is_number(error) or error <= 0:
        return format_number(value)
    decimals = min(max(1 - math.floor(math.log10(error)), 0), 8)
    return f"{value:.{decimals}f} ± {error:.{decimals}f}"


def as_percent(rate: float, se: Any = None) -> str:
    text = f"{100 * rate:.1f}%"
    return f"{text} ± {100 * se:.1f}%" if is_number(se) else text


def smallest_rmse(rows: dict[str, dict]) -> tuple[list[str], list[str]]:
    """The estimators with the smallest RMSE, and every estimator with an RMSE from smallest to largest.

    The first list holds the estimator with the smallest RMSE and every other whose RMSE is within
    ``TIE_SE`` combined Monte Carlo standard errors of it (``sqrt(mcse_a² + mcse_b²)``, as if the
    estimators' errors were independent; they share replicates, so this is cautious): more than one
    name is a tie, not a winner. An RMSE without an MCSE (a single replicate) ties with every other.
    Estimators without an RMSE are left out of both lists.
    """
    ranked = sorted((e for e, v in rows.items() if is_number(v.get("rmse"))), key=lambda e: rows[e]["rmse"])
    if not ranked:
        return [], []
    top = rows[ranked[0]]
    se = lambda v: v["rmse_mcse"] if is_number(v.get("rmse_mcse")) else math.inf  # noqa: E731 -- unknown: no ranking
    best = [e for e in ranked if rows[e]["rmse"] - top["rmse"] <= TIE_SE * math.hypot(se(rows[e]), se(top))]
    return best, ranked


def listing(keys: list[str]) -> str:
    words = [label(k) for k in keys]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def answer(study: Study, param: str) -> str:
    """One parameter's result in a few short sentences.

    Who has the smallest RMSE (or which estimates tie for it, closer than the study can separate); the
    runner-up and the modes (MAP, MAP-EM: the peak against the centre of mass) with their RMSE and its
    ratio to the smallest; the estimates biased beyond 2 MCSE; the coverage of each interval against
    94%; whether the SBC ranks look uniform.
    """
    rows = study.estimators.get(param, {})
    best, ranked = smallest_rmse(rows)
    sentences = []
    if best:
        smallest = rows[ranked[0]]["rmse"]

        def value(e, ratio=False):
            text = plus_minus(rows[e]["rmse"], rows[e].get("rmse_mcse"))
            return text + (f" (× {rows[e]['rmse'] / smallest:.2f})" if ratio and smallest > 0 else "")

        if len(best) == 1:
            lead = f"the {label(best[0])} has the smallest RMSE, {value(best[0])}"
        elif len(best) == 2:
            lead = f"the {listing(best)} tie for the smallest RMSE ({value(best[0])}, {value(best[1])})"
        else:
            span = f"{value(best[0])} to {value(best[-1])}"
            lead = (
                f"all {len(best)} estimates tie for the smallest RMSE ({span})"
                if len(best) == len(ranked)
                else f"{len(best)} of {len(ranked)} estimates tie for the smallest RMSE ({span}): the {listing(best)}"
            )
        others = [e for e in ranked if e not in best]
        named = [e for e in others if e == others[0] or e in ("map", "em")]
        if named:
            lead += "; " + ", ".join(f"{label(e)}: {value(e, ratio=True)}" for e in named)
        sentences.append(lead)
        biased = [e for e in ranked if is_biased(rows[e])]
        if biased:
            sentences.append(
                "Bias beyond 2 MCSE: "
                + ", ".join(f"{label(e)} {plus_minus(rows[e]['bias'], rows[e]['bias_mcse'])}" for e in biased)
            )
    elif rows:
        sentences.append("no estimate has an RMSE (no replicate finished with it)")
    covered = [
        f"{INTERVALS_SHORT.get(kind, kind)} {coverage_words(c)} ({against_nominal(c)})"
        for kind, c in study.coverage.get(param, {}).items()
        if c.get("n")
    ]
    if covered:
        sentences.append("Coverage: " + ", ".join(covered))
    s = study.sbc.get(param)
    if s and is_number(s.get("p_value")):
        uniform = s["p_value"] >= SBC_ALPHA
        sentences.append(
            f"SBC ranks {'consistent with uniform' if uniform else 'NOT uniform'} (p = {s['p_value']:.2g})"
        )
    return f"{param}: " + ". ".join(sentences) + "."


def coverage_words(c: dict) -> str:
    """``92.1% ± 4.4%``; ``100% (20 of 20; 95% Wilson interval 83.9–100%)`` where the standard error is 0
    (every or no replicate covered: a Wald ± would read ± 0)."""
    if is_number(c.get("se")) and c["se"] > 0:
        return as_percent(c["rate"], c["se"])
    lo, hi = wilson(c["covered"], c["n"])
    return f"{100 * c['rate']:.0f}% ({c['covered']} of {c['n']}; 95% Wilson interval {100 * lo:.1f}–{100 * hi:.1f}%)"


def is_biased(v: dict) -> bool:
    """An estimate's bias is further from 0 than ``BIAS_SE`` Monte Carlo standard errors."""
    return is_number(v.get("bias")) and is_number(v.get("bias_mcse")) and abs(v["bias"]) > BIAS_SE * v["bias_mcse"]


def against_nominal(c: dict) -> str:
    """Whether a coverage rate is within binomial error (2 s.e. of an exact 94% interval) of 94%."""
    half = 2 * math.sqrt(NOMINAL * (1 - NOMINAL) / c["n"])
    if abs(c["rate"] - NOMINAL) <= half:
        return "consistent with 94%"
    return "below 94%: too narrow" if c["rate"] < NOMINAL else "above 94%: too wide"


def vector_answer(study: Study, name: str, entries: list[str]) -> str:
    """A vector's results in one sentence: who has the smallest RMSE how often, coverage range, SBC."""
    outcomes: Counter = Counter()
    for entry in entries:
        best, ranked = smallest_rmse(study.estimators.get(entry, {}))
        if best:
            order = study.estimator_keys()
            outcomes["all" if len(best) == len(ranked) > 1 else tuple(sorted(best, key=order.index))] += 1
    parts = []
    for best, count in outcomes.most_common():
        if best == "all":
            what = "all estimates tie"
        elif len(best) == 1:
            what = f"the {label(best[0])} has the smallest RMSE"
        else:
            what = f"the {listing(list(best))} tie"
        parts.append(f"{what} for {count} of {len(entries)} entries")
    for kind in study.interval_keys():
        rates = [study.coverage[e][kind] for e in entries if study.coverage.get(e, {}).get(kind, {}).get("n")]
        if rates:
            off = sum(against_nominal(c) != "consistent with 94%" for c in rates)
            lo, hi = min(c["rate"] for c in rates), max(c["rate"] for c in rates)
            parts.append(
                f"{INTERVALS_SHORT.get(kind, kind)} coverage {as_percent(lo)}–{as_percent(hi)}"
                + (f" ({off} of {len(rates)} off 94% beyond binomial error)" if off else " (all consistent with 94%)")
            )
    ps = [study.sbc[e]["p_value"] for e in entries if is_number(study.sbc.get(e, {}).get("p_value"))]
    if ps:
        low = sum(p < SBC_ALPHA for p in ps)
        parts.append(
            f"SBC p < {SBC_ALPHA} for {low} of {len(ps)} entries ({SBC_ALPHA * len(ps):.2g} expected by chance)"
        )
    kind = "" if study.is_parameter(entries[0]) else ", latent or derived"
    return f"{name} ({len(entries)} entries{kind}): " + "; ".join(parts or ["no numbers"]) + "."


def study_summary(study: Study) -> str:
    """The index's one-line summary: per scalar parameter who has the smallest RMSE (or which tie)."""
    out = []
    for param in study.scalars():
        best, _ = smallest_rmse(study.estimators.get(param, {}))
        if best:
            out.append(f"{param}: {label(best[0])}" if len(best) == 1 else f"{param}: tie ({listing(best)})")
    return "; ".join(out) or "—"


def in_short(study: Study) -> str | None:
    """The answer over the scalar parameters in one sentence: the estimates never beaten beyond Monte Carlo
    error (in the smallest-RMSE group for every scalar), and how far the modes (MAP, MAP-EM) fall behind
    at worst. ``None`` without scalar parameters with an RMSE."""
    groups = {p: smallest_rmse(study.estimators.get(p, {})) for p in study.scalars()}
    groups = {p: g for p, g in groups.items() if g[0]}
    if not groups:
        return None
    names = ", ".join(groups)
    safe = [e for e in study.estimator_keys() if all(e in best for best, _ in groups.values())]
    if safe:
        verbs = ("has", "ties") if len(safe) == 1 else ("have", "tie")
        text = f"the {listing(safe)} {verbs[0]} the smallest RMSE, or {verbs[1]} for it, for every parameter ({names})"
    else:
        text = f"no single estimate has (or ties for) the smallest RMSE for every parameter ({names}): see each below"
    behind = []
    for mode in ("map", "em"):
        ratios = [
            (study.estimators[p][mode]["rmse"] / study.estimators[p][ranked[0]]["rmse"], p)
            for p, (best, ranked) in groups.items()
            if mode in ranked and mode not in best and study.estimators[p][ranked[0]]["rmse"] > 0
        ]
        if ratios:
            ratio, param = max(ratios)
            behind.append(f"the RMSE of {label(mode)} is up to {ratio:.2f}× the smallest ({param})")
    text += ("; " + "; ".join(behind) if behind else "") + "."
    if any(len(best) > 1 for best, _ in groups.values()):
        done = study.replicates.get("done", 0)
        text += f" Ties are what {done} replicates cannot separate: the MCSEs shrink as 1/√replicates."
    return text


def theory_sentences(study: Study) -> list[str]:
    """What theory predicts for the design, checked against the numbers."""
    if study.data.get("truth") == "fixed":
        return [
            "θ was fixed: these numbers hold at this θ only. No estimator has the smallest error at every θ; "
            "a study with the truth drawn from the prior averages over them."
        ]
    if study.data.get("truth") != "prior" or "mean" not in study.estimator_keys():
        return []
    beaten = [p for p in study.parameters() if (b := smallest_rmse(study.estimators.get(p, {}))[0]) and "mean" not in b]
    if not beaten:
        return [
            "As theory says when θ is drawn from the prior, the posterior mean has (or ties for) the smallest "
            "RMSE for every parameter: it minimises the expected squared error averaged over the prior."
        ]
    return [
        "Check: with θ drawn from the prior the posterior mean minimises the expected squared error, yet "
        f"another estimate beats it beyond Monte Carlo error for {', '.join(beaten)}: NUTS's posterior may be off "
        "there (see SBC below), or the replicates are too few for the MCSEs to hold."
    ]
