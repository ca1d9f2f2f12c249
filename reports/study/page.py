"""The page of a simulation study (``DIR/<model>/study.html``), section by section, from :class:`.load.Study`."""

from __future__ import annotations

from html import escape
from pathlib import Path

import modemean.reports.html as html  # "from . import html" would import the package reports/__init__
from modemean.comparisons.results.schema import is_number

from .load import (
    PAGE,
    SUMMARY,
    Study,
)
from .sections import coverage_section, estimators_section, sbc_section
from .words import (
    answer,
    in_short,
    theory_sentences,
    vector_answer,
)

STUDY_CSS = html.asset("study.css")
READING = html.asset("reading.html")  # how to read the page: an essay, shipped as an HTML fragment


def render_study(study: Study) -> Path:
    """Write ``<folder>/study.html`` and its PNG figures; return the page's path."""
    folder = study.folder
    for old in folder.glob("study-fig-*.png"):
        old.unlink()
    d = study.data
    title = d.get("title") or study.name
    parts = [
        ("answer", "The answer", _answers(study)),
        ("estimators", "Bias and RMSE of each estimate", estimators_section(study)),
        ("coverage", "Coverage of the 94% intervals", coverage_section(study)),
        ("sbc", "Simulation-based calibration of NUTS", sbc_section(study)),
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
    page.write_text(html.page(f"{title} — simulation study — modemean", f"<style>{STUDY_CSS}</style>{body}"))
    return page


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
    items += [vector_answer(study, n, entries) for n, entries in study.vectors().items()]
    if not items:
        return '<div class="section-verdict"><p>No replicate finished: there is nothing to compare yet.</p></div>'
    theory = theory_sentences(study)
    lis = "".join(f"<li>{escape(s)}</li>" for s in [*items, *theory])
    short = in_short(study)
    lead = f'<p class="in-short"><b>In short:</b> {escape(short)}</p>' if short else ""
    return f'<div class="section-verdict">{lead}<ul>{lis}</ul></div>'


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
