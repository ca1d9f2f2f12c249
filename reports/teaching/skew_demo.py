"""The skew page: how skew separates mode, median and mean, with the catalog's parameters placed on it."""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

import numpy as np
from scipy import special

from ..html import asset, embed, legend
from .common import SVG_JS, nav, write

SKEW_SCRIPT = asset("skew_demo.js")


# ---------------------------------------------------------------------------------------------- skew
FAMILY_POINTS = 61  # parameter values per family on the skew page's slider
LEGEND = legend(
    (
        ("#D55E00", "mode"),
        ("#009E73", "median"),
        ("#0072B2", "mean"),
        ("#777", "one sd (left of the mean)"),
    )
)
LEGEND_MAP = legend(
    (
        ("#CC79A7", "log-normal family"),
        ("#E69F00", "Gamma family (gap_sd = skewness / 2 exactly)"),
        ("#000", "the member on the slider"),
        ("#555", "the catalog's parameters"),
    )
)


def skew_families(points: int = FAMILY_POINTS) -> dict:
    """Mode, median, mean, sd, skewness and gap_sd of two right-skewed families, from their closed forms.

    * log-normal ``LogNormal(0, sigma)``, ``sigma`` from 0.05 to 1: mode ``e^(-s^2)``, median 1,
      mean ``e^(s^2/2)``, sd ``sqrt((e^(s^2) - 1) e^(s^2))``, skewness ``(e^(s^2) + 2) sqrt(e^(s^2) - 1)``.
    * ``Gamma(k, 1)``, shape ``k`` from 1 to 100 (geometric): mode ``k - 1``, median
      ``P^-1(k, 1/2)`` (the regularised incomplete gamma's inverse, scipy), mean ``k``, sd ``sqrt(k)``,
      skewness ``2 / sqrt(k)``, so gap_sd ``= 1 / sqrt(k)`` = skewness / 2 exactly.

    gap_sd is modemean's headline: ``(mean - mode) / sd``. Each row also has ``log_norm`` (the
    log of the density's normalising constant, ``log Gamma(k)`` or ``log(sigma sqrt(2 pi))``, so the
    page draws the density from its closed form) and ``hi`` (the 99% quantile, the plot's right edge).

    Returns
    -------
    dict
        ``lognormal`` and ``gamma``: each ``param`` (name), ``values`` and the columns above, lists
        of length ``points``.
    """
    s = np.linspace(0.05, 1.0, points)
    e = np.exp(s**2)
    lognormal = {
        "param": "σ",
        "values": s,
        "mode": 1 / e,
        "median": np.ones(points),
        "mean": np.sqrt(e),
        "sd": np.sqrt((e - 1) * e),
        "skewness": (e + 2) * np.sqrt(e - 1),
        "log_norm": np.log(s * np.sqrt(2 * np.pi)),
        "hi": np.exp(s * special.ndtri(0.99)),
    }
    k = np.geomspace(1.0, 100.0, points)
    gamma = {
        "param": "k",
        "values": k,
        "mode": k - 1,
        "median": special.gammaincinv(k, 0.5),
        "mean": k,
        "sd": np.sqrt(k),
        "skewness": 2 / np.sqrt(k),
        "log_norm": special.gammaln(k),
        "hi": special.gammaincinv(k, 0.99),
    }
    for family in (lognormal, gamma):
        family["gap_sd"] = (family["mean"] - family["mode"]) / family["sd"]
    return {"lognormal": lognormal, "gamma": gamma}


def catalog_skew(out: Path) -> list[dict]:
    """Every parameter in ``out``'s results with a measured skewness and gap_sd (both finite).

    Returns
    -------
    list of dict
        ``model``, ``parameter``, ``skewness`` (of the NUTS draws), ``gap_sd`` ((mean - map) / sd).
    """
    points = []
    for path in sorted(Path(out).glob("*/results.json")):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        for name, row in (data.get("parameters") or {}).items() if isinstance(data, dict) else ():
            skew, gap = row.get("skewness"), row.get("gap_sd")
            if isinstance(skew, (int, float)) and isinstance(gap, (int, float)) and np.isfinite([skew, gap]).all():
                points.append(
                    {"model": path.parent.name, "parameter": name, "skewness": float(skew), "gap_sd": float(gap)}
                )
    return points


def _lead() -> str:
    """The page's title and its lead: mode, median and mean apart under skew, and the gap_sd that measures it."""
    return f"""
{nav('<a href="loss_demo.html">loss decides the estimator</a><a href="reparam_demo.html">the mode moves</a>')}
<h1>How skew separates mode, median and mean</h1>
<p class="lead">On a symmetric posterior the peak (mode), the middle (median) and the centre of mass (mean)
are one point. Give the posterior a long right tail and they come apart in a fixed order: the tail pulls the mean
furthest, the median less, and the mode stays at the peak. modemean's headline number,
<b>gap_sd</b> = (mean − mode) / sd, measures that separation in posterior standard deviations. For a mildly skewed
distribution it is about half the skewness (Pearson): move the slider and watch both grow together.</p>
"""


def render(out: Path) -> Path:
    """Write ``out/teaching/skew_demo.html``: :func:`skew_families` and the catalog's :func:`catalog_skew`."""
    families = skew_families()
    catalog = catalog_skew(out)
    families = {
        name: {k: (np.round(v, 8).tolist() if isinstance(v, np.ndarray) else v) for k, v in fam.items()}
        for name, fam in families.items()
    }
    if catalog:
        near = sorted(catalog, key=lambda c: -abs(c["gap_sd"]))[:8]
        rows = "".join(
            f'<tr><td><a href="../{escape(c["model"])}/index.html">{escape(c["model"])}</a></td>'
            f"<td>{escape(c['parameter'])}</td><td>{c['skewness']:.2f}</td><td>{c['gap_sd']:.2f}</td>"
            f"<td>{c['gap_sd'] - c['skewness'] / 2:+.2f}</td></tr>"
            for c in near
        )
        placed = (
            f"<p>Grey dots: the {len(catalog)} parameters of the catalog with results here, each at its NUTS "
            "skewness and its gap_sd (hover for the name). Those with the largest gaps:</p>"
            "<table><thead><tr><th>model</th><th>parameter</th><th>skewness</th><th>gap_sd</th>"
            f"<th>gap_sd − skewness/2</th></tr></thead><tbody>{rows}</tbody></table>"
        )
    else:
        placed = (
            "<p>No catalog results with both a skewness and a gap_sd in this folder yet: "
            "<code>modemean run all --out DIR</code> places the catalog's parameters on this plot.</p>"
        )
    body = (
        _lead()
        + f"""<div class="controls"><b>Family:</b>
<label><input type="radio" name="family" value="lognormal" checked> log-normal(0, σ)</label>
<label><input type="radio" name="family" value="gamma"> Gamma(k, 1)</label>
<input type="range" id="param" min="0" max="{FAMILY_POINTS - 1}" value="0" step="1" style="width:22rem">
<b id="value"></b></div>
<dl class="readout"><dt>mode</dt><dd id="mode"></dd><dt>median</dt><dd id="median"></dd><dt>mean</dt>
<dd id="mean"></dd><dt>sd</dt><dd id="sd"></dd><dt>skewness</dt><dd id="skewness"></dd><dt>gap_sd</dt>
<dd id="gap_sd"></dd><dt>(median − mode) / sd</dt><dd id="mm"></dd><dt>(mean − median) / sd</dt><dd id="md"></dd></dl>
<svg id="pdf-plot" width="960" height="280" role="img" aria-label="the density with its mode, median and mean"
style="max-width:100%;height:auto;display:block"></svg>
<p class="legend">{LEGEND}</p>
<h2>The catalog on the same axes</h2>
<svg id="map-plot" width="960" height="360" role="img" aria-label="gap_sd against skewness"
style="max-width:100%;height:auto;display:block"></svg>
<p class="legend">{LEGEND_MAP}</p>
{placed}
<p>A point far from the family curves is a posterior whose shape is not a simple one-tailed skew: a peak on a
boundary (the mode at τ = 0 of eight schools), several modes, or a spike-and-slab.</p>
<h2>How these numbers were computed</h2>
<p>The families' mode, median, mean, sd and skewness are closed forms (the Gamma median by scipy's inverse
incomplete gamma function), computed when the page was rendered; the page draws each density from its closed form.
The catalog's skewness and gap_sd are the <code>skewness</code> and <code>gap_sd</code> columns of each
<code>results.json</code>.</p>
{embed("skew-data", {"families": families, "catalog": catalog})}
<script>{SVG_JS}{SKEW_SCRIPT}</script>
"""
    )
    return write(out, "skew_demo.html", "How skew separates mode, median and mean", body)
