"""The page of a simulation study: ``DIR/<model>/study.html`` from ``DIR/<model>/study.json``.

A study (``modemean study MODEL``) refits one model on many data sets simulated from it, each with a
known true value, and asks *which estimate should I report?*: the bias and RMSE of every point
estimate (with their Monte Carlo standard errors), how often the 94% intervals cover the truth, and
whether NUTS's posterior is calibrated (simulation-based calibration, Talts et al. 2018). This page
reads the summary only; it never runs a solver. Figures are PNG files next to the page
(``study-fig-*.png``), as on the model pages.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

from modemean.comparisons.errors import ModemeanError
from modemean.comparisons.results.schema import format_number, is_number, wilson

from . import figures
from .pages import _figure, _page, _slug

__all__ = [
    "ESTIMATORS",
    "INTERVALS",
    "Study",
    "answer",
    "find_studies",
    "in_short",
    "load_study",
    "plus_minus",
    "render_study",
    "smallest_rmse",
    "study_summary",
]

SUMMARY = "study.json"
PAGE = "study.html"
NOMINAL = 0.94  # the level of both intervals
TIE_SE = 2.0  # an RMSE within this many combined MCSEs of the smallest ties with it
BIAS_SE = 2.0  # a bias beyond this many MCSEs is called a bias
SBC_ALPHA = 0.01  # a chi-square p-value below this: the ranks are not uniform (matches the 99% band)

# estimator key -> its name on the page, in the page's order; an estimator not listed keeps its key
ESTIMATORS = {
    "map": "MAP (find_MAP)",
    "em": "MAP-EM (marginal mode)",
    "mle": "MLE (ML-EM)",
    "mean": "posterior mean",
    "median": "posterior median",
    "mode": "posterior mode (of the draws)",
}
INTERVALS = {"hdi94": "94% HDI (NUTS)", "laplace94": "Laplace 94% (MAP ± 1.88 laplace_sd)"}
INTERVALS_SHORT = {"hdi94": "94% HDI", "laplace94": "Laplace interval"}


@dataclass(frozen=True)
class Study:
    """One model's saved simulation study.

    Attributes
    ----------
    name : str
        The folder name (the model).
    folder : Path
        ``DIR/<model>``.
    data : dict
        The content of ``study.json`` (schema 1; see the README).
    """

    name: str
    folder: Path
    data: dict[str, Any]

    @property
    def estimators(self) -> dict[str, dict[str, dict]]:
        """Parameter to estimator to ``{"n", "bias", "bias_mcse", "rmse", "rmse_mcse"}``."""
        return self.data.get("estimators") or {}

    @property
    def coverage(self) -> dict[str, dict[str, dict]]:
        """Parameter to interval (``hdi94``, ``laplace94``) to ``{"n", "covered", "rate", "se"}``."""
        return self.data.get("coverage") or {}

    @property
    def sbc(self) -> dict[str, dict]:
        """Parameter to its SBC rank histogram and chi-square test (empty without NUTS or prior truth)."""
        return self.data.get("sbc") or {}

    @property
    def replicates(self) -> dict[str, Any]:
        """``{"done", "failed", "seconds", "failures"}``."""
        return self.data.get("replicates") or {}

    @property
    def settings(self) -> dict[str, Any]:
        return self.data.get("settings") or {}

    def _names(self) -> list[str]:
        """Every flat name of the summary: the model's parameters (``parameters``) first, then the rest
        (latent variables, deterministics) in the summary's order."""
        found = dict.fromkeys([*self.estimators, *self.coverage, *self.sbc])
        return [n for n in self.data.get("parameters") or [] if n in found] + list(found)

    def is_parameter(self, name: str) -> bool:
        """``name`` is one of the model's parameters (true when the summary does not say)."""
        listed = self.data.get("parameters")
        return listed is None or name in listed

    def parameters(self) -> list[str]:
        """Every name of the summary as the page shows them: scalars first, then each vector's entries."""
        return self.scalars() + [n for entries in self.vectors().values() for n in entries]

    def scalars(self) -> list[str]:
        """The names without an index (``mu``, ``tau``), the model's parameters first."""
        return [n for n in dict.fromkeys(self._names()) if "[" not in n]

    def vectors(self) -> dict[str, list[str]]:
        """Each vector's name to its entries (``eta`` -> ``eta[0]``, ``eta[1]``, ...), the model's parameters first."""
        out: dict[str, list[str]] = {}
        for n in dict.fromkeys(self._names()):
            if "[" in n:
                out.setdefault(n.split("[", 1)[0], []).append(n)
        return out

    def estimator_keys(self) -> list[str]:
        """Every estimator present for some parameter, in :data:`ESTIMATORS` order, then any other."""
        present = dict.fromkeys(e for rows in self.estimators.values() for e in rows)
        return [e for e in ESTIMATORS if e in present] + [e for e in present if e not in ESTIMATORS]

    def interval_keys(self) -> list[str]:
        present = dict.fromkeys(k for rows in self.coverage.values() for k in rows)
        return [k for k in INTERVALS if k in present] + [k for k in present if k not in INTERVALS]


def label(estimator: str) -> str:
    """How the page names an estimator (``"median"`` -> ``"posterior median"``)."""
    return ESTIMATORS.get(estimator, estimator)


def find_studies(out: Path) -> list[str]:
    """Names of the folders in ``out`` that hold a ``study.json``, sorted."""
    out = Path(out)
    return sorted(p.parent.name for p in out.glob(f"*/{SUMMARY}")) if out.is_dir() else []


def load_study(out: Path, name: str) -> Study:
    """Load ``out/<name>/study.json``.

    Raises
    ------
    ModemeanError
        When the file is missing, unreadable or not a study summary, naming the command that writes it.
    """
    path = Path(out) / name / SUMMARY
    rerun = f"run 'modemean study {name} --out {out}'"
    if not path.is_file():
        raise ModemeanError(f"no study of {name!r}: {path} does not exist; {rerun} first")
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ModemeanError(f"cannot read {path}: {exc}; {rerun} again") from exc
    if not isinstance(data, dict) or data.get("schema") != 1 or "replicates" not in data:
        raise ModemeanError(f"{path} is not a modemean study summary (schema 1); {rerun} again")
    return Study(name, path.parent, data)


# ------------------------------------------------------------------------------------------ numbers in words


def plus_minus(value: Any, error: Any) -> str:
    """``value ± error`` with the error to two significant digits and the value to the same decimals."""
    if not is_number(value):
        return "—"
    if not is_number(error) or error <= 0:
        return format_number(value)
    decimals = min(max(1 - math.floor(math.log10(error)), 0), 8)
    return f"{value:.{decimals}f} ± {error:.{decimals}f}"


def _percent(rate: float, se: Any = None) -> str:
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


def _names(keys: list[str]) -> str:
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
            lead = f"the {_names(best)} tie for the smallest RMSE ({value(best[0])}, {value(best[1])})"
        else:
            span = f"{value(best[0])} to {value(best[-1])}"
            lead = (
                f"all {len(best)} estimates tie for the smallest RMSE ({span})"
                if len(best) == len(ranked)
                else f"{len(best)} of {len(ranked)} estimates tie for the smallest RMSE ({span}): the {_names(best)}"
            )
        others = [e for e in ranked if e not in best]
        named = [e for e in others if e == others[0] or e in ("map", "em")]
        if named:
            lead += "; " + ", ".join(f"{label(e)}: {value(e, ratio=True)}" for e in named)
        sentences.append(lead)
        biased = [e for e in ranked if _biased(rows[e])]
        if biased:
            sentences.append(
                "Bias beyond 2 MCSE: "
                + ", ".join(f"{label(e)} {plus_minus(rows[e]['bias'], rows[e]['bias_mcse'])}" for e in biased)
            )
    elif rows:
        sentences.append("no estimate has an RMSE (no replicate finished with it)")
    covered = [
        f"{INTERVALS_SHORT.get(kind, kind)} {_coverage_words(c)} ({_against_nominal(c)})"
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


def _coverage_words(c: dict) -> str:
    """``92.1% ± 4.4%``; ``100% (20 of 20; 95% Wilson interval 83.9–100%)`` where the standard error is 0
    (every or no replicate covered: a Wald ± would read ± 0)."""
    if is_number(c.get("se")) and c["se"] > 0:
        return _percent(c["rate"], c["se"])
    lo, hi = wilson(c["covered"], c["n"])
    return f"{100 * c['rate']:.0f}% ({c['covered']} of {c['n']}; 95% Wilson interval {100 * lo:.1f}–{100 * hi:.1f}%)"


def _biased(v: dict) -> bool:
    """An estimate's bias is further from 0 than ``BIAS_SE`` Monte Carlo standard errors."""
    return is_number(v.get("bias")) and is_number(v.get("bias_mcse")) and abs(v["bias"]) > BIAS_SE * v["bias_mcse"]


def _against_nominal(c: dict) -> str:
    """Whether a coverage rate is within binomial error (2 s.e. of an exact 94% interval) of 94%."""
    half = 2 * math.sqrt(NOMINAL * (1 - NOMINAL) / c["n"])
    if abs(c["rate"] - NOMINAL) <= half:
        return "consistent with 94%"
    return "below 94%: too narrow" if c["rate"] < NOMINAL else "above 94%: too wide"


def _vector_answer(study: Study, name: str, entries: list[str]) -> str:
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
            what = f"the {_names(list(best))} tie"
        parts.append(f"{what} for {count} of {len(entries)} entries")
    for kind in study.interval_keys():
        rates = [study.coverage[e][kind] for e in entries if study.coverage.get(e, {}).get(kind, {}).get("n")]
        if rates:
            off = sum(_against_nominal(c) != "consistent with 94%" for c in rates)
            lo, hi = min(c["rate"] for c in rates), max(c["rate"] for c in rates)
            parts.append(
                f"{INTERVALS_SHORT.get(kind, kind)} coverage {_percent(lo)}–{_percent(hi)}"
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
            out.append(f"{param}: {label(best[0])}" if len(best) == 1 else f"{param}: tie ({_names(best)})")
    return "; ".join(out) or "—"


# ------------------------------------------------------------------------------------------------ the page


def render_study(study: Study) -> Path:
    """Write ``<folder>/study.html`` and its PNG figures; return the page's path."""
    folder = study.folder
    for old in folder.glob("study-fig-*.png"):
        old.unlink()
    d = study.data
    title = d.get("title") or study.name
    parts = [
        ("answer", "The answer", _answers(study)),
        ("estimators", "Bias and RMSE of each estimate", _estimators(study)),
        ("coverage", "Coverage of the 94% intervals", _coverage(study)),
        ("sbc", "Simulation-based calibration of NUTS", _sbc(study)),
        ("study", "What the study was", _what(study)),
        ("reading", "How to read this page", READING),
    ]
    sections = "\n".join(
        f'<section class="section-{i}"><h2 id="{i}">{escape(t)}</h2>{html}</section>' for i, t, html in parts
    )
    model_link = '<a href="index.html">model page</a>' if (folder / "index.html").is_file() else ""
    body = (
        f'<nav><a href="../index.html">← all models</a>{model_link}<a href="{SUMMARY}">{SUMMARY}</a></nav>'
        f"<h1>{escape(title)}: which estimate should I report?</h1>"
        f"<p>{_lead(study)}</p>\n{sections}"
    )
    page = folder / PAGE
    page.write_text(_page(f"{title} — simulation study — modemean", f"<style>{STUDY_CSS}</style>{body}"))
    return page


STUDY_CSS = """
tr.best td,tr.best th{background:#e6f4ea}tr.tied td,tr.tied th{background:#eef7f0}
td.mark,td.name{text-align:left}td.mark{font-weight:bold;white-space:nowrap}
dt{font-weight:bold;margin-top:.5rem}
tbody.parameter{border-top:3px solid #999}
.off{background:#fde0dc}.failures td,.failures th{text-align:left}
p.caveat{font-size:.95rem;color:#444}
"""


def _lead(study: Study) -> str:
    d, r = study.data, study.replicates
    truth = {
        "prior": "each with its true θ drawn from the prior",
        "fixed": "all with the same true θ, fixed by the model file",
    }.get(d.get("truth"), f"truth: {escape(str(d.get('truth')))}")
    solvers = ", ".join(map(str, study.settings.get("solvers") or [])) or "the default solvers"
    failed = f" ({r.get('failed')} failed)" if r.get("failed") else ""
    if d.get("complete") is False:
        failed += (
            f", <b>an incomplete study</b>: {r.get('done', 0) + r.get('failed', 0)} of "
            f"{escape(str(study.settings.get('replicates', '?')))} replicates finished (the same command resumes it)"
        )
    return (
        f"A simulation study of <code>{escape(study.name)}</code>: {r.get('done', 0)} replicate data sets{failed} "
        f"simulated from the model itself, {truth}, each fitted by {escape(solvers)}. Every estimate is "
        "compared with the true value it should recover: which one lands closest, on average? "
        '(<a href="#reading">How to read this page</a>.)'
    )


def _answers(study: Study) -> str:
    items = [answer(study, p) for p in study.scalars()]
    items += [_vector_answer(study, n, entries) for n, entries in study.vectors().items()]
    if not items:
        return '<div class="section-verdict"><p>No replicate finished: there is nothing to compare yet.</p></div>'
    theory = _theory(study)
    lis = "".join(f"<li>{escape(s)}</li>" for s in [*items, *theory])
    short = in_short(study)
    lead = f'<p class="in-short"><b>In short:</b> {escape(short)}</p>' if short else ""
    return f'<div class="section-verdict">{lead}<ul>{lis}</ul></div>'


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
        text = f"the {_names(safe)} {verbs[0]} the smallest RMSE, or {verbs[1]} for it, for every parameter ({names})"
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


def _theory(study: Study) -> list[str]:
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


def _estimators(study: Study) -> str:
    if not study.estimators:
        return "<p>No estimator numbers: no replicate finished.</p>"
    keys = study.estimator_keys()
    out = [
        "<p>Each row: an estimate's <b>bias</b> (its average error, estimate − truth) and <b>RMSE</b> (root mean "
        "squared error: the typical size of the error, bias and spread together), each ± its Monte Carlo "
        f"standard error (MCSE). The smallest RMSE is marked; an RMSE within {TIE_SE:g} combined MCSEs of it is "
        "marked as a tie, since the study cannot tell them apart. <i>× smallest</i>: the RMSE over the "
        "smallest.</p>"
    ]
    scalars = [p for p in study.scalars() if p in study.estimators]
    if scalars:
        rows = {p: _ordered(study.estimators[p], keys) for p in scalars}
        fig = figures.estimators_figure(rows, ESTIMATORS, {p: smallest_rmse(rows[p])[0] for p in scalars})
        out.append(
            _figure(
                fig,
                study.folder,
                "study-fig-estimators.png",
                "bias and RMSE of each estimator per parameter",
                "Bias (left) and RMSE (right) of each estimate, with ± 2 MCSE bars; the smallest RMSE (and any "
                "tie) in bold.",
            )
        )
        out.append(_estimator_table(study, scalars, keys, "estimators-scalars"))
    for name, entries in study.vectors().items():
        entries = [e for e in entries if e in study.estimators]
        if not entries:
            continue
        rows = {e: _ordered(study.estimators[e], keys) for e in entries}
        fig = figures.vector_estimators_figure(name, rows, ESTIMATORS, keys)
        figure = _figure(
            fig,
            study.folder,
            f"study-fig-estimators-{_slug(name)}.png",
            f"bias and RMSE of each estimator for every entry of {name}",
            f"{name}: bias and RMSE of each estimate by entry, ± 2 MCSE.",
        )
        out.append(
            f'<details class="vector" data-vector="{escape(name)}"><summary>{escape(name)}: bias and RMSE of '
            f"{len(entries)} entries</summary>{figure}"
            f"{_estimator_table(study, entries, keys, f'estimators-{_slug(name)}')}</details>"
        )
    return "".join(out)


def _ordered(rows: dict[str, dict], keys: list[str]) -> dict[str, dict]:
    return {k: rows[k] for k in keys if k in rows}


def _estimator_table(study: Study, params: list[str], keys: list[str], table_id: str) -> str:
    head = "".join(
        f"<th>{h}</th>" for h in ("parameter", "estimate", "replicates", "bias ± MCSE", "RMSE ± MCSE", "× smallest", "")
    )
    bodies = []
    for param in params:
        rows = _ordered(study.estimators[param], keys)
        best, ranked = smallest_rmse(rows)
        smallest = rows[ranked[0]]["rmse"] if ranked else None
        trs = []
        for i, (est, v) in enumerate(rows.items()):
            mark, css = "", ""
            if est in best:
                mark, css = ("smallest RMSE", "best") if len(best) == 1 else ("tie: smallest RMSE", "tied")
            ratio = (
                f"{v['rmse'] / smallest:.2f}"
                if is_number(v.get("rmse")) and is_number(smallest) and smallest > 0
                else "—"
            )
            bias = escape(plus_minus(v.get("bias"), v.get("bias_mcse"))) + (
                '<span class="why">beyond 2 MCSE</span>' if _biased(v) else ""
            )
            name_cell = f'<th scope="row">{escape(param)}</th>' if i == 0 else '<td class="same"></td>'
            trs.append(
                f'<tr class="{css}" data-parameter="{escape(param)}" data-estimator="{escape(est)}">{name_cell}'
                f'<td class="name">{escape(label(est))}</td><td>{escape(str(v.get("n", "—")))}</td><td>{bias}</td>'
                f"<td>{escape(plus_minus(v.get('rmse'), v.get('rmse_mcse')))}</td><td>{ratio}</td>"
                f'<td class="mark">{mark}</td></tr>'
            )
        bodies.append(f'<tbody class="parameter">{"".join(trs)}</tbody>')
    return (
        f'<div class="scroll"><table class="estimators" id="{table_id}"><thead><tr>{head}</tr></thead>'
        f"{''.join(bodies)}</table></div>"
    )


def _coverage(study: Study) -> str:
    if not study.coverage:
        return "<p>No coverage numbers: NUTS and find_MAP were not run, or no replicate finished.</p>"
    kinds = study.interval_keys()
    labels = {k: INTERVALS.get(k, k) for k in kinds}
    out = [
        "<p>How often each 94% interval contained the true value. A calibrated interval covers it in 94% of "
        "replicates, up to binomial error (shaded: where 95% of an exact interval's rates fall with this many "
        "replicates). Below 94%: the interval is too narrow; above: too wide. The HDI comes from NUTS's draws, "
        "the Laplace interval from find_MAP's mode and the curvature there.</p>"
    ]
    scalars = [p for p in study.scalars() if p in study.coverage]
    if scalars:
        out.append(
            _figure(
                figures.coverage_figure({p: study.coverage[p] for p in scalars}, labels, NOMINAL),
                study.folder,
                "study-fig-coverage.png",
                "coverage of the 94% intervals per parameter against the nominal 94%",
                "Coverage per parameter, with 95% Wilson intervals; dashed: nominal 94%.",
            )
        )
        out.append(_coverage_table(study, scalars, kinds))
    for name, entries in study.vectors().items():
        entries = [e for e in entries if e in study.coverage]
        if entries:
            figure = _figure(
                figures.coverage_figure({e: study.coverage[e] for e in entries}, labels, NOMINAL),
                study.folder,
                f"study-fig-coverage-{_slug(name)}.png",
                f"coverage of the 94% intervals for every entry of {name}",
                f"{name}: coverage per entry, with 95% Wilson intervals.",
            )
            out.append(
                f'<details class="vector" data-vector="{escape(name)}"><summary>{escape(name)}: coverage of '
                f"{len(entries)} entries</summary>{figure}{_coverage_table(study, entries, kinds)}</details>"
            )
    return "".join(out)


def _coverage_table(study: Study, params: list[str], kinds: list[str]) -> str:
    head = "<th>parameter</th>" + "".join(f'<th colspan="3">{escape(INTERVALS.get(k, k))}</th>' for k in kinds)
    sub = "<th></th>" + "<th>covered / replicates</th><th>rate ± s.e.</th><th>against 94%</th>" * len(kinds)
    trs = []
    for param in params:
        cells = []
        for k in kinds:
            c = study.coverage[param].get(k)
            if not c or not c.get("n"):
                cells.append("<td>—</td><td>—</td><td>—</td>")
                continue
            verdict = _against_nominal(c)
            css = "" if verdict.startswith("consistent") else ' class="off"'
            missing = f'<span class="why">{c["missing"]} more without an interval</span>' if c.get("missing") else ""
            cells.append(
                f'<td data-interval="{escape(k)}">{c["covered"]} / {c["n"]}</td>'
                f'<td data-rate="{c["rate"]!r}">{escape(_percent(c["rate"], c.get("se")))}</td>'
                f"<td{css}>{escape(verdict)}{missing}</td>"
            )
        trs.append(f'<tr data-parameter="{escape(param)}"><th scope="row">{escape(param)}</th>{"".join(cells)}</tr>')
    return (
        f'<div class="scroll"><table class="coverage"><thead><tr>{head}</tr><tr>{sub}</tr></thead>'
        f"<tbody>{''.join(trs)}</tbody></table></div>"
    )


def _sbc(study: Study) -> str:
    if not study.sbc:
        why = (
            "SBC needs the true values drawn from the prior; this study fixed them"
            if study.data.get("truth") == "fixed"
            else "SBC ranks NUTS's draws, and NUTS was not run (or no replicate finished with it)"
        )
        return f"<p>No SBC: {escape(why)}.</p>"
    out = [
        "<p>For each replicate, the rank of the true value among NUTS's posterior draws (spread evenly over the "
        "chains). If the posterior is "
        "right, that rank is uniform: every bar near the expected count "
        f"(black line) and inside its 99% band (shaded; a bar outside is red). The χ² test of uniformity's "
        f"p-value is in each panel's title, red below {SBC_ALPHA}. Shapes tell what is wrong: ∪ too narrow a "
        "posterior, ∩ too wide, a slope a bias (Talts et al. 2018).</p>"
    ]
    scalars = [p for p in study.scalars() if p in study.sbc]
    if scalars:
        out.append(
            _figure(
                figures.sbc_figure({p: study.sbc[p] for p in scalars}, alpha=SBC_ALPHA),
                study.folder,
                "study-fig-sbc.png",
                "SBC rank histograms per parameter with the expected count and its 99% band",
                "Rank histograms: bars, counts per bin; line, the expected count; shaded, its 99% band.",
            )
        )
        out.append(_sbc_table(study, scalars))
    for name, entries in study.vectors().items():
        entries = [e for e in entries if e in study.sbc]
        if entries:
            figure = _figure(
                figures.sbc_figure({e: study.sbc[e] for e in entries}, ncols=4, alpha=SBC_ALPHA),
                study.folder,
                f"study-fig-sbc-{_slug(name)}.png",
                f"SBC rank histograms for every entry of {name}",
                f"{name}: rank histograms per entry.",
            )
            out.append(
                f'<details class="vector" data-vector="{escape(name)}"><summary>{escape(name)}: SBC of '
                f"{len(entries)} entries</summary>{figure}{_sbc_table(study, entries)}</details>"
            )
    return "".join(out)


def _sbc_table(study: Study, params: list[str]) -> str:
    low_ess = any("low_ess" in study.sbc[p] for p in params)
    trs = []
    for p in params:
        s = study.sbc[p]
        pv = s.get("p_value")
        verdict = "—" if not is_number(pv) else "looks uniform" if pv >= SBC_ALPHA else "NOT uniform"
        css = ' class="off"' if verdict == "NOT uniform" else ""
        lo, hi = s.get("band", [None, None])
        ess = f"<td>{s.get('low_ess', '—')}</td>" if low_ess else ""
        trs.append(
            f'<tr data-parameter="{escape(p)}"><th scope="row">{escape(p)}</th><td>{s.get("draws")}</td>'
            f"<td>{s.get('bins')}</td><td>{sum(s.get('counts', []))}</td><td>{format_number(s.get('expected'))}</td>"
            f"<td>{format_number(lo)} – {format_number(hi)}</td><td>{format_number(s.get('chi2'))}</td>"
            f'<td data-p="{pv!r}">{"—" if not is_number(pv) else f"{pv:.3g}"}</td><td{css}>{verdict}</td>{ess}</tr>'
        )
    head = "".join(
        f"<th>{h}</th>"
        for h in (
            "parameter",
            "draws ranked",
            "bins",
            "replicates",
            "expected per bin",
            "99% band",
            "χ²",
            "p",
            "",
            *(['<span title="replicates whose bulk ESS was below the draws ranked">low ESS</span>'] if low_ess else []),
        )
    )
    note = (
        '<p class="caveat"><i>low ESS</i>: replicates whose bulk ESS was below the draws ranked. Ranks among '
        "draws more correlated than their number pile up at both ends even when the posterior is right (Talts "
        "et al. thin the draws to their ESS): where <i>low ESS</i> is large, a ∪ shape may be this rather than "
        "a wrong posterior.</p>"
        if low_ess and any(study.sbc[p].get("low_ess") for p in params)
        else ""
    )
    return f'<table class="sbc"><thead><tr>{head}</tr></thead><tbody>{"".join(trs)}</tbody></table>{note}'


def _what(study: Study) -> str:
    d, r = study.data, study.replicates
    seconds = r.get("seconds") or {}

    def secs(v):
        return "—" if not is_number(v) else f"{v:.1f} s" + (f" ({v / 60:.1f} min)" if v >= 120 else "")

    rows = [
        ("model", study.name),
        ("source", d.get("source", "—")),
        (
            "truth",
            {"prior": "drawn from the prior for every replicate", "fixed": "fixed by the model file"}.get(
                d.get("truth"), d.get("truth")
            ),
        ),
        ("replicates asked", study.settings.get("replicates", "—")),
        ("complete", {True: "yes", False: "no: resume with the same command"}.get(d.get("complete"), "—")),
        ("replicates done", r.get("done", 0)),
        ("replicates failed", r.get("failed", 0)),
        ("seconds, total (wall clock)", secs(seconds.get("total"))),
        ("seconds per replicate, mean", secs(seconds.get("mean"))),
        ("seconds per replicate, median", secs(seconds.get("median"))),
    ]
    rows += [
        (f"setting: {k}", ", ".join(map(str, v)) if isinstance(v, list) else "—" if v is None else v)
        for k, v in study.settings.items()
        if k != "replicates"
    ]
    rows += [(k, v) for k, v in d.items() if k not in KNOWN_KEYS and isinstance(v, (str, int, float))]
    meta = "".join(f'<tr><th scope="row">{escape(str(k))}</th><td>{escape(str(v))}</td></tr>' for k, v in rows)
    out = f'<table class="meta"><tbody>{meta}</tbody></table>'
    failures = r.get("failures") or []
    if failures:
        trs = "".join(
            f'<tr data-replicate="{escape(str(f.get("replicate")))}"><td>{escape(str(f.get("replicate")))}</td>'
            f"<td>{escape(str(f.get('error', '')))}</td></tr>"
            for f in failures
        )
        table = (
            '<table class="failures"><thead><tr><th>replicate</th><th>error</th></tr></thead>'
            f"<tbody>{trs}</tbody></table>"
        )
        n = len(failures)
        out += (
            f'<h3 id="failures">Failed replicates ({n})</h3><p>A failed replicate is left out of every number '
            "above; if failures follow a pattern (e.g. only data sets with a small true scale), the numbers are "
            "biased towards the easy cases.</p>"
            + (table if n <= 10 else f"<details open><summary>{n} failures</summary>{table}</details>")
        )
    elif r.get("failed"):
        out += f"<p>{r['failed']} replicates failed; the summary lists no errors.</p>"
    else:
        out += "<p>No replicate failed.</p>"
    return out + (
        f'<p>Data: <a href="{SUMMARY}">{SUMMARY}</a> (these numbers) and the folder <code>study/</code> '
        "(one file per replicate).</p>"
    )


# the summary's keys the page shows in their own place; any other top-level string or number goes in the table
KNOWN_KEYS = {
    "schema",
    "model",
    "source",
    "truth",
    "complete",
    "settings",
    "parameters",
    "replicates",
    "estimators",
    "coverage",
    "sbc",
}

READING = """
<dl>
<dt>Why a simulation study</dt><dd>On one data set nobody knows the true value, so nobody can say whether the
peak (MAP) or the centre of mass (posterior mean, median) was closer. Here the model itself generates the data,
so every replicate comes with the truth, and each estimate's error can be measured, hundreds of times over.</dd>
<dt>Bias</dt><dd>The average of estimate − truth over the replicates: does the estimate lean one way? A scale
pulled towards 0 by a mode on the boundary shows as a negative bias.</dd>
<dt>RMSE</dt><dd>Root mean squared error, √(average of (estimate − truth)²): how far off the estimate
typically is, its bias and its spread together (RMSE² = bias² + variance). Smaller is better; it is the
number that answers <i>which estimate should I report</i> under squared-error loss.</dd>
<dt>MCSE</dt><dd>Monte Carlo standard error: the study's own uncertainty from using finitely many replicates.
Two RMSEs closer than about two MCSEs are a tie: more replicates would be needed to rank them.</dd>
<dt>Coverage</dt><dd>The share of replicates whose 94% interval contains the truth; ± its binomial
standard error √(p(1 − p)/n). A Bayesian 94% interval covers the truth 94% of the time on average over the prior
when the posterior is right; an approximation (the Laplace interval around the mode) may not.</dd>
<dt>SBC</dt><dd>Simulation-based calibration (Talts, Betancourt, Simpson, Vehtari &amp; Gelman 2018,
<i>Validating Bayesian inference algorithms with simulation-based calibration</i>, arXiv:1804.06788): draw θ
from the prior, data from the model, and rank θ among the posterior draws. If the sampler and the model code are
right, the rank is uniform whatever the model, so a non-uniform histogram is a bug or a sampler failure, not a
property of the data.</dd>
<dt>Prior truth versus fixed truth</dt><dd>With θ drawn from the prior, the posterior mean minimises the
average squared error (it is the Bayes estimate under squared loss) and the posterior median the average absolute
error: the study checks the theory and the code. With θ fixed, the numbers describe that θ only, which is the
frequentist question: how does each estimate behave if the truth is <i>this</i>?</dd>
</dl>
"""
