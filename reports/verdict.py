"""The verdict: what the numbers say, in plain sentences generated from ``results.json``."""

from __future__ import annotations

import numpy as np
from scipy import stats

from modemean.comparisons.results.schema import GAP_KINDS, format_gap, is_number

from .load import ModelResults, boundary_of
from .ranking import KIND_WORDS, skew_headline
from .tables import APPROXIMATELY, em_kind

__all__ = ["verdict"]

NEGLIGIBLE_GAP = 0.1  # |gap_sd| below this: peak and centre of mass agree for practical purposes


def verdict(results: ModelResults, n_params: int = 3) -> list[str]:
    """Sentences for the top of a model page.

    Parameters
    ----------
    results : ModelResults
    n_params : int, default 3
        How many of the most skewed parameters get their own sentence.

    Returns
    -------
    list of str
        First the solvers that failed or do not apply, then one sentence per skewed parameter
        (how far the mean is from the MAP, a boundary mode, the Laplace mass outside the
        support, how EM's marginal mode compares), then sampler warnings.
    """
    lines = _kind_lead(results)
    approximate = "approximate" in em_kind(results)
    for method, label in results.labels.items():
        solver = results.solver(method)
        if solver["status"] == "failed":
            lines.append(f"{label} failed, so its columns are empty: {solver['message']}")
        elif solver["status"] == "not_applicable":
            lines.append(f"{label} was not applicable: {solver['message']}")
    find_map = results.solver("map")
    if find_map["status"] == "ok" and results.no_mode("map"):
        em_ok = results.solver("em")["status"] == "ok"
        lines.append(
            f"{find_map['message'].replace(' (see the notes)', '')}: no point is the peak, so gap_sd "
            "(the distance from the MAP) is withheld; "
            + (
                "the distances below are from EM's marginal mode "
                + (f"(gap_sd_em; {APPROXIMATELY})." if approximate else "(gap_sd_em).")
                if em_ok
                else "declare the random effects in LATENT to get EM's marginal mode, the peak that does exist."
            )
        )
    ranked = [n for n in results.ranked() if results.gap(n)]
    skewed = [n for n in ranked if abs(results.gap(n)[0]) >= NEGLIGIBLE_GAP][:n_params]
    for name in skewed:
        row = results.parameters[name]
        kind = results.gap_kind(name)
        lead = f"{KIND_WORDS.get(kind, kind).capitalize()} gap — " if kind else ""
        if is_number(row.get("gap_sd")):
            lines.append(lead + _parameter_sentence(name, row, results.draws.get(name), approximate))
        else:
            lines.append(lead + _no_mode_sentence(name, row, approximate))
    if ranked and not skewed:
        top = ranked[0]
        lines.append(
            f"Peak and centre of mass agree: every parameter's posterior mean lies within "
            f"{NEGLIGIBLE_GAP} sd of its mode (largest: {top}, {format_gap(results.gap(top)[0])} sd)."
        )
    nuts = results.solver("nuts")
    if nuts["status"] == "ok" and nuts.get("message"):
        lines.append(
            f"NUTS warns: {nuts['message']}; the sample-based columns (mean, median, mode, sd, HDI) "
            "are less certain than their digits suggest."
        )
    return lines


def _kind_lead(results: ModelResults) -> list[str]:
    """The verdict's first line: the kind of the largest gap (and, if that is not skew, the largest skew gap)."""
    head = results.headline()
    kind = results.gap_kind(head[0]) if head else None
    if not kind:
        return []
    lines = [
        f"The largest gap, {head[0]}'s {format_gap(head[1])} sd, is a {KIND_WORDS.get(kind, kind)} gap: "
        f"{GAP_KINDS.get(kind, kind)}."
    ]
    skew = skew_headline(results)
    if kind != "skew":
        lines.append(
            f"The largest skew gap is {skew[0]}'s {format_gap(skew[1])} sd."
            if skew
            else "No gap here is skew: none measures the shape of a unimodal posterior."
        )
    return lines


def _em_mode(row: dict, approximate: bool) -> str:
    """EM's estimate in words; a Laplace-EM estimate is approximately the marginal mode, and says so."""
    return f"EM's marginal mode ({row['em']:.3g}{f', {APPROXIMATELY}' if approximate else ''})"


def _parameter_sentence(name: str, row: dict, draws: np.ndarray | None, approximate: bool) -> str:
    gap = row["gap_sd"]
    sentence = f"{name}: the posterior mean lies {_sds(gap)} sd {'above' if gap > 0 else 'below'} the MAP"
    bound = boundary_of(row, "map")
    if bound is not None:
        sentence += f", which sits on the boundary {name} = {bound:g}"
    if (
        is_number(row.get("laplace_sd"))
        and row["laplace_sd"] > 0
        and draws is not None
        and draws.size
        and np.min(draws) >= 0
    ):
        below = stats.norm.cdf(0.0, row["map"], row["laplace_sd"])
        if below >= 0.005:
            sentence += (
                f"; the Laplace approximation puts {below:.0%} of its mass below zero, where the posterior has none"
            )
    if is_number(row.get("em")) and is_number(row.get("sd")) and row["sd"] > 0:
        apart = (row["em"] - row["map"]) / row["sd"]
        if abs(apart) >= NEGLIGIBLE_GAP:
            sentence += (
                f"; {_em_mode(row, approximate)} is {_sds(apart)} sd "
                f"{'above' if apart > 0 else 'below'} find_MAP's joint mode ({row['map']:.3g})"
            )
        else:
            sentence += f"; {_em_mode(row, approximate)} agrees with find_MAP"
    if is_number(row.get("median")):
        sentence += f" (median {row['median']:.3g}, mean {row['mean']:.3g}, MAP {row['map']:.3g})"
    return sentence + "."


def _no_mode_sentence(name: str, row: dict, approximate: bool) -> str:
    """For a parameter whose joint density has no mode: measure from EM's marginal mode."""
    gap = row["gap_sd_em"]
    why = (
        "find_MAP found no mode (the joint density is unbounded or keeps rising where the optimiser stopped, at "
        f"{row['map']:.3g})"
        if is_number(row.get("map"))
        else "find_MAP gave no mode"
    )
    return (
        f"{name}: {why}; the posterior mean lies {_sds(gap)} sd {'above' if gap > 0 else 'below'} "
        f"{_em_mode(row, approximate)}, {'approximately ' if approximate else ''}the peak of the posterior with "
        "the latent variables integrated out "
        f"(median {row['median']:.3g}, mean {row['mean']:.3g})."
    )


def _sds(value: float) -> str:
    """A distance in sds, in words-sized digits: ``1.2``, ``35.0``, ``2.62e+12``."""
    size = abs(value)
    return f"{size:.1f}" if size < 1e3 else f"{size:.3g}"
