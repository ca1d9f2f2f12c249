"""The EM demo page: the engine's EM run on two Gaussians, replayed step by step."""

from __future__ import annotations

from html import escape
from pathlib import Path

import numpy as np

from ..html import asset, embed, legend
from .common import SVG_JS, nav, write

EM_SCRIPT = asset("em_demo.js")
LEGEND = legend(
    (
        ("#d9d9d9", "data (histogram; after an E-step each bar is split by its points' soft labels)"),
        ("#8fbfe0", "share labelled curve 1"),
        ("#f0b08a", "share labelled curve 2"),
        ("#0072B2", "component 1: w₁ N(x | μ₁, σ₁)"),
        ("#D55E00", "component 2: w₂ N(x | μ₂, σ₂)"),
        ("#000", "mixture (their sum)"),
    )
)


def _fmt(value: float) -> str:
    return f"{value:.2f}".replace("-", "−")


def _starts(restarts: list[dict]) -> tuple[list[str], list[str], dict[tuple, str]]:
    """Each restart as a ``<select>`` option and a table row; the distinct peaks they end at, lettered A, B, ..."""
    peaks: dict[tuple, str] = {}
    options, rows = [], []
    for k, rs in enumerate(restarts):
        mu, w = rs["mu"], rs["w"]
        end = (tuple(np.round(mu[-1], 1)), tuple(np.round(w[-1], 2))) if not rs["error"] else None
        peak = peaks.setdefault(end, chr(ord("A") + len(peaks))) if end else "—"
        label = "the fixed first start" if k == 0 else "random start"
        options.append(
            f'<option value="{k}">start {k} ({label}): means {", ".join(map(_fmt, mu[0]))}; '
            f"weights {', '.join(map(_fmt, w[0]))}</option>"
        )
        final = _fmt(rs["trace"][-1]) if rs["objective"] is not None else "broke down"
        rows.append(
            f"<tr><td>{k}</td><td>{', '.join(map(_fmt, mu[0]))}</td><td>{len(rs['trace']) - 1}</td>"
            f"<td>{final}</td><td>{', '.join(map(_fmt, mu[-1]))}</td><td>{', '.join(map(_fmt, w[-1]))}</td>"
            f"<td>{peak}</td></tr>"
        )
    return options, rows, peaks


def _lesson(restarts: list[dict], peaks: dict[tuple, str]) -> str:
    """What the starts teach: one peak, mirror-image peaks of one height, or peaks of different heights."""
    heights = {}
    for rs in restarts:
        if rs["objective"] is not None:
            heights.setdefault(round(rs["objective"], 2), []).append(rs)
    if len(peaks) > 1 and len(heights) == 1:
        lesson = (
            f"The {len(restarts)} starts end at {len(peaks)} different peaks of the same height: the "
            "likelihood does not care which component is called 1 and which 2, so every peak has a "
            "mirror image with the labels swapped (means and weights in the other order). Which one a run "
            "climbs depends only on where it starts. The PyMC model orders the means to rule the mirror "
            "out; maximum-likelihood EM does not know about that constraint."
        )
    elif len(peaks) > 1:
        lesson = (
            f"The {len(restarts)} starts end at {len(peaks)} different peaks of different heights: EM only "
            "climbs, so a start on the slope of a lower peak stays there. That is why the engine restarts "
            "EM and keeps the best run."
        )
    else:
        lesson = (
            f"Here all {len(restarts)} starts climb to the same peak, some after long plateaus (watch the "
            "log-likelihood curve): EM only climbs, so in general a start on the slope of a lower peak would "
            "stay there, and the engine restarts EM and keeps the best run."
        )
    slowest = max(range(len(restarts)), key=lambda k: len(restarts[k]["trace"]))
    lesson += (
        f" The slowest, start {slowest}, takes {len(restarts[slowest]['trace']) - 1} iterations: it first sits "
        "on a plateau of the log-likelihood, near a saddle where the curves overlap, before EM finds the "
        "direction that splits them (select it and press Run)."
    )
    return lesson


def render(out: Path, data: dict) -> Path:
    """Write ``out/teaching/em_demo.html`` from :func:`comparisons.teaching.em_demo.em_demo_data`'s numbers."""
    restarts = data["restarts"]
    options, rows, peaks = _starts(restarts)
    lesson = _lesson(restarts, peaks)
    body = f"""
{nav('<a href="../two_gaussians/index.html">the two_gaussians report</a>')}
<h1>EM step by step: two Gaussians</h1>
<p class="lead">{data["n_points"]} points (grey histogram) come from two overlapping bell curves, but nobody wrote
down which curve produced which point. EM alternates two steps. The <b>E-step</b> guesses the labels softly:
for every point, the probability that it came from curve 1 or curve 2 under the current curves (its
<i>responsibilities</i>). The <b>M-step</b> re-estimates each curve's weight, mean and spread from the
points, each point counted with its responsibility. Press <b>E</b> to see the soft labels (each bar of the
histogram split into the share of its points given to curve 1, blue, and to curve 2, orange; the curves do not
move), then <b>M</b> to re-fit the curves to them; <b>Back</b> undoes one step, <b>Step</b> does E and M together.
The log-likelihood can only go up from one step to the next (EM's guarantee), as the
small curve below shows; the run stops when the parameters stop moving.</p>
<p>Every number on this page comes from modemean's own EM, the same code <code>modemean run</code> uses, with the
E-step read off the PyMC model of <code>two_gaussians</code>: run by <code>modemean teach</code> without the
prior (maximum likelihood, as in the original demo), from the same starts as <code>modemean run</code> (seed
{data["seed"]}); the curves are the model's own log density evaluated on a grid. The page only replays the
recorded iterations (the soft labels are computed in the page from each iteration's weights, means and sds).</p>
<div class="controls"><label for="start">Start:</label><select id="start">{"".join(options)}</select></div>
<div class="controls"><button id="back">◀ Back</button><button id="e">E</button><button id="m">M</button>
<button id="step">Step (E + M)</button><button id="run">Run</button><button id="reset">Reset</button>
<span id="status"></span></div>
<p id="phase" class="phase"></p>
<dl class="readout"><dt>Iteration</dt><dd id="iteration"></dd><dt>Log-likelihood</dt><dd id="loglik"></dd>
<dt>Means</dt><dd id="means"></dd><dt>Weights</dt><dd id="weights"></dd><dt>Sds</dt><dd id="sds"></dd></dl>
<svg id="density" width="960" height="340" role="img"
aria-label="data histogram coloured by the soft labels, component and mixture densities"></svg>
<p class="legend">{LEGEND}</p>
<canvas id="trace" style="width:100%;height:190px" aria-label="log-likelihood by iteration"></canvas>
<p class="legend"><span>black: log-likelihood after each iteration (never goes down);
dotted: the value this run ends at</span></p>
<h2>Different starts, different peaks</h2>
<p>{escape(lesson)}</p>
<table><thead><tr><th>start</th><th>means at the start</th><th>iterations</th><th>final log-likelihood</th>
<th>final means</th><th>final weights</th><th>peak</th></tr></thead><tbody>{"".join(rows)}</tbody></table>
{embed("em-data", {k: data[k] for k in ("x", "hist", "curve_unit", "restarts")})}
<script>{SVG_JS}{EM_SCRIPT}</script>
"""
    return write(out, "em_demo.html", "EM step by step", body)
