"""The EM-bound page: EM as coordinate ascent on a lower bound of the log likelihood."""

from __future__ import annotations

from html import escape
from pathlib import Path

from ..html import asset, embed, legend
from .common import SVG_JS, nav, write

BOUND_SCRIPT = asset("em_bound.js")
LEGEND = legend(
    (
        ("#000", "log likelihood ℓ(θ)"),
        ("#0072B2", "lower bound L(q_t, θ) = Q(θ | θ_t) + H(q_t)"),
        ("#D55E00", "the gap ℓ − L = KL(q_t ‖ p(z | x, θ))"),
        ("#009E73", "θ_t+1, where the M-step goes"),
    )
)


def _rounded(value, digits: int = 6):
    """``value`` with every float rounded to ``digits`` decimals (the page's size; the JSON file keeps them all)."""
    if isinstance(value, float):
        return round(value, digits)
    if isinstance(value, dict):
        return {k: _rounded(v, digits) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_rounded(v, digits) for v in value]
    return value


def _lead() -> str:
    """The page's title and its lead: the lower bound EM climbs and why it never goes down."""
    return f"""
{nav('<a href="em_demo.html">EM step by step</a><a href="../two_gaussians/index.html">the two_gaussians report</a>')}
<h1>EM climbs a lower bound</h1>
<p class="lead">Why can EM's log likelihood never go down? Because each iteration maximises a <b>lower bound</b>
that touches the log likelihood where it stands. For any guess q of the labels,
ℓ(θ) = log p(x | θ) = L(q, θ) + KL(q ‖ p(z | x, θ)), with
L(q, θ) = Σ<sub>i,k</sub> q<sub>ik</sub> log p(z<sub>i</sub> = k, x<sub>i</sub> | θ) + H(q)
= Q(θ | θ<sub>t</sub>) + H(q)
and the KL divergence never negative: L is a bound below ℓ. The <b>E-step</b> sets q<sub>t</sub> to the labels'
posterior at θ<sub>t</sub>, which makes the KL zero there: the bound <i>touches</i> ℓ at θ<sub>t</sub>. The
<b>M-step</b> moves θ to the bound's maximum. There ℓ is at least the bound, which is at least its value at
θ<sub>t</sub>, which is ℓ(θ<sub>t</sub>): the climb is guaranteed, and the KL gap that opens at the new θ is
extra gain. Coordinate ascent: the E-step maximises L over q, the M-step over θ.</p>
<p>The parameters of <code>two_gaussians</code> are five numbers, so the picture is a slice: one coordinate
moves, the others stay at the EM iterate θ<sub>t</sub> (or, last choice, the straight line from θ<sub>t</sub>
through θ<sub>t+1</sub>). Along a mean or the weight the bound's maximum is exactly the M-step's value of that
coordinate (the closed-form M-step updates each one from its own weighted moments); along the line it is
θ<sub>t+1</sub> itself (s = 1).</p>
"""


def render(out: Path, data: dict) -> Path:
    """Write ``out/teaching/em_bound.html`` from :func:`comparisons.teaching.em_bound.em_bound_data`'s numbers."""
    steps = data["steps"]
    first = steps[0]
    radios = "".join(
        f'<label><input type="radio" name="slice" value="{key}"{" checked" if i == 0 else ""}> {escape(label)}</label>'
        for i, (key, label) in enumerate(data["slices"])
    )
    rows = "".join(
        f"<tr><td>{t}</td><td>{s['loglik']:.3f}</td><td>{s['loglik_new']:.3f}</td>"
        f"<td>{s['bound_new'] - s['bound_at_theta']:.4f}</td><td>{s['kl_new']:.4f}</td></tr>"
        for t, s in enumerate(steps)
    )
    body = (
        _lead()
        + f"""<div class="controls"><b>Slice:</b> {radios}</div>
<div class="controls"><button id="back">◀ Back</button><button id="next">Step ▶</button>
<label for="slider">iteration</label><input type="range" id="slider" min="0" max="{len(steps) - 1}" value="0"
step="1" style="width:18rem"> t = <b id="t"></b></div>
<dl class="readout"><dt>θ<sub>t</sub></dt><dd id="theta"></dd><dt>ℓ(θ<sub>t</sub>)</dt><dd id="loglik"></dd>
<dt>L(q<sub>t</sub>, θ<sub>t</sub>)</dt><dd id="bound-at"></dd><dt>H(q<sub>t</sub>)</dt><dd id="entropy"></dd>
<dt>ℓ(θ<sub><span id="t1"></span></sub>)</dt><dd id="loglik-new"></dd><dt>L(q<sub>t</sub>, θ<sub>t+1</sub>)</dt>
<dd id="bound-new"></dd><dt>KL gap at θ<sub>t+1</sub></dt><dd id="kl-new"></dd><dt>gain in ℓ</dt><dd id="gain"></dd>
<dt>slice: θ<sub>t</sub>'s value</dt><dd id="slice-at"></dd><dt>bound's argmax</dt><dd id="slice-argmax"></dd>
<dt>M-step's value</dt><dd id="slice-new"></dd></dl>
<svg id="bound-plot" width="960" height="380" role="img"
aria-label="log likelihood and the EM lower bound along a slice"
style="max-width:100%;height:auto;display:block"></svg>
<p class="legend">{LEGEND}</p>
<svg id="kl-plot" width="960" height="170" role="img" aria-label="the KL gap along the slice"
style="max-width:100%;height:auto;display:block"></svg>
<p>Black dot: ℓ(θ<sub>t</sub>), where the bound touches (gap 0). Blue dot: the bound's maximum along the slice;
green dot and dashed line: ℓ there, above the bound by the KL gap. The shaded band is that gap everywhere on
the slice; the lower panel draws it alone.</p>
<h2>The climb, step by step</h2>
<p>At step 0 the start is far from the peak: the M-step's move gains
{first["loglik_new"] - first["loglik"]:.1f} in log likelihood, of which the bound's rise is
{first["bound_new"] - first["bound_at_theta"]:.1f} and the KL gap at the new θ {first["kl_new"]:.3f}. As EM
converges both shrink.</p>
<table><thead><tr><th>t</th><th>ℓ(θ<sub>t</sub>)</th><th>ℓ(θ<sub>t+1</sub>)</th><th>bound's rise
L(q<sub>t</sub>, θ<sub>t+1</sub>) − L(q<sub>t</sub>, θ<sub>t</sub>)</th><th>KL gap at θ<sub>t+1</sub></th></tr></thead>
<tbody>{rows}</tbody></table>
<h2>How these numbers were computed</h2>
<p>By <code>modemean teach</code> with modemean's discrete-latent EM engine on the PyMC model of
<code>two_gaussians</code> ({data["n_points"]} points; maximum likelihood, no prior; the first of
<code>modemean run</code>'s starts): the
E-step's responsibilities q<sub>t</sub> and the complete-data log joint log p(z<sub>i</sub> = k, x<sub>i</sub> | θ)
at every slice point both come from the model's own graph (the same E-step
<code>modemean run</code> uses); θ<sub>t+1</sub> is the model's closed-form M-step,
and the bound's maximum along each slice is found by a bounded scalar search. The page only draws them.</p>
{embed("bound-data", _rounded({k: data[k] for k in ("slices", "steps")}))}
<script>{SVG_JS}{BOUND_SCRIPT}</script>
"""
    )
    return write(out, "em_bound.html", "EM climbs a lower bound", body)
