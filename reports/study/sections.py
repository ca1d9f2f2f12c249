"""The study page's sections of numbers: bias and RMSE, coverage of the intervals, SBC (each a figure and a table)."""

from __future__ import annotations

from html import escape

import modemean.reports.html as html  # "from . import html" would import the package reports/__init__
from modemean.comparisons.results.schema import format_number, is_number

from ..plots import study as plots
from .load import (
    ESTIMATORS,
    INTERVALS,
    NOMINAL,
    SBC_ALPHA,
    TIE_SE,
    Study,
    label,
)
from .words import (
    against_nominal,
    as_percent,
    is_biased,
    plus_minus,
    smallest_rmse,
)


def estimators_section(study: Study) -> str:
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
        fig = plots.estimators_figure(rows, ESTIMATORS, {p: smallest_rmse(rows[p])[0] for p in scalars})
        out.append(
            html.figure(
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
        fig = plots.vector_estimators_figure(name, rows, ESTIMATORS, keys)
        figure = html.figure(
            fig,
            study.folder,
            f"study-fig-estimators-{html.slug(name)}.png",
            f"bias and RMSE of each estimator for every entry of {name}",
            f"{name}: bias and RMSE of each estimate by entry, ± 2 MCSE.",
        )
        out.append(
            f'<details class="vector" data-vector="{escape(name)}"><summary>{escape(name)}: bias and RMSE of '
            f"{len(entries)} entries</summary>{figure}"
            f"{_estimator_table(study, entries, keys, f'estimators-{html.slug(name)}')}</details>"
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
                '<span class="why">beyond 2 MCSE</span>' if is_biased(v) else ""
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


def coverage_section(study: Study) -> str:
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
            html.figure(
                plots.coverage_figure({p: study.coverage[p] for p in scalars}, labels, NOMINAL),
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
            figure = html.figure(
                plots.coverage_figure({e: study.coverage[e] for e in entries}, labels, NOMINAL),
                study.folder,
                f"study-fig-coverage-{html.slug(name)}.png",
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
            verdict = against_nominal(c)
            css = "" if verdict.startswith("consistent") else ' class="off"'
            missing = f'<span class="why">{c["missing"]} more without an interval</span>' if c.get("missing") else ""
            cells.append(
                f'<td data-interval="{escape(k)}">{c["covered"]} / {c["n"]}</td>'
                f'<td data-rate="{c["rate"]!r}">{escape(as_percent(c["rate"], c.get("se")))}</td>'
                f"<td{css}>{escape(verdict)}{missing}</td>"
            )
        trs.append(f'<tr data-parameter="{escape(param)}"><th scope="row">{escape(param)}</th>{"".join(cells)}</tr>')
    return (
        f'<div class="scroll"><table class="coverage"><thead><tr>{head}</tr><tr>{sub}</tr></thead>'
        f"<tbody>{''.join(trs)}</tbody></table></div>"
    )


def sbc_section(study: Study) -> str:
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
            html.figure(
                plots.sbc_figure({p: study.sbc[p] for p in scalars}, alpha=SBC_ALPHA),
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
            figure = html.figure(
                plots.sbc_figure({e: study.sbc[e] for e in entries}, ncols=4, alpha=SBC_ALPHA),
                study.folder,
                f"study-fig-sbc-{html.slug(name)}.png",
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
