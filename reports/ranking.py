"""Which parameters and gaps a page shows first: importance order, and each gap with its kind.

A gap's *kind* (``gap_kind`` of a results row, vocabulary :data:`GAP_KINDS`) says why a peak and a
centre of mass differ; only a ``skew`` gap measures the posterior's shape. Results written before the
engine recorded kinds have none: then every gap counts as skew and no kind is shown.
"""

from __future__ import annotations

import re

from modemean.comparisons.results.schema import GAP_KINDS, is_number

from .load import ModelResults

__all__ = ["KIND_WORDS", "LATENT_SIZE", "by_importance", "is_latent", "kind_text", "other_gaps", "skew_headline"]

# how a page names each kind in a cell or caption (GAP_KINDS has the sentence behind it)
KIND_WORDS = {
    "skew": "skew",
    "boundary": "boundary",
    "joint_vs_marginal": "joint ≠ marginal",
    "several_modes": "several modes",
    "no_mode": "no mode",
    "no_mean": "no mean",
    "unreliable": "unreliable",
}
LATENT_SIZE = 4  # without EM to say which parameters are the model's, a vector longer than this is latent
_ENTRY = re.compile(r"^(.*)\[[^\]]*\]$")


def kind_text(kind: str | None) -> str:
    """``"boundary: the peak sits on the edge of the support (a scale at 0)"``; ``""`` for no kind."""
    return f"{KIND_WORDS.get(kind, kind)}: {GAP_KINDS.get(kind, '')}".rstrip(": ") if kind else ""


def _vector_sizes(results: ModelResults) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for name in results.parameters:
        match = _ENTRY.match(name)
        if match:
            sizes[match.group(1)] = sizes.get(match.group(1), 0) + 1
    return sizes


def is_latent(results: ModelResults, name: str, sizes: dict[str, int] | None = None) -> bool:
    """Whether ``name`` is an entry of a latent vector (a random effect), not a model-level parameter.

    Where EM ran, the model's parameters are those EM estimated (it integrates the latents out); a
    vector entry without an EM value is latent. Without EM, a vector of more than :data:`LATENT_SIZE`
    entries is taken as latent.
    """
    match = _ENTRY.match(name)
    if not match:
        return False
    if results.solver("em")["status"] == "ok":
        row = results.parameters[name]
        return not (is_number(row.get("em")) or is_number(row.get("mle")))
    sizes = sizes if sizes is not None else _vector_sizes(results)
    return sizes.get(match.group(1), 0) > LATENT_SIZE


def by_importance(results: ModelResults) -> list[str]:
    """Parameter names, model-level parameters before latent vectors, then by ``|gap|`` and ``|skewness|``."""
    sizes = _vector_sizes(results)

    def key(name):
        gap, skew = results.gap(name), results.parameters[name].get("skewness")
        return (
            is_latent(results, name, sizes),
            -abs(gap[0]) if gap else 0.0,
            -abs(skew) if is_number(skew) else 0.0,
        )

    return sorted(results.parameters, key=key)


def skew_headline(results: ModelResults) -> tuple[str, float, str] | None:
    """The largest *skew* gap: parameter, gap, column (any gap when the results record no kinds)."""
    gaps = [
        (name, *gap)
        for name in results.parameters
        if (gap := results.gap(name)) and results.gap_kind(name) in (None, "skew")
    ]
    return max(gaps, key=lambda item: abs(item[1])) if gaps else None


def other_gaps(results: ModelResults) -> list[tuple[str, float, str, str]]:
    """The largest gap of each kind other than skew, most telling kind first: ``(kind, gap, parameter, column)``."""
    best: dict[str, tuple[str, float, str, str]] = {}
    for name in results.parameters:
        kind, gap = results.gap_kind(name), results.gap(name)
        if kind in (None, "skew") or not gap:
            continue
        if kind not in best or abs(gap[0]) > abs(best[kind][1]):
            best[kind] = (kind, gap[0], name, gap[1])
    order = list(GAP_KINDS)
    return sorted(best.values(), key=lambda item: order.index(item[0]) if item[0] in order else len(order))
