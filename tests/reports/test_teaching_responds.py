"""Teaching pages that respond (issue 33): the loss slider moves a marker on the plot, the prior slider moves the
mode, the EM demo's E and M are separate steps (E colours the histogram, M moves the curves) with Back, every
page fits an 800-px window, and eight schools' modes of tau are reconciled from the stored numbers.

In Debian's headless Chromium through Playwright (skipped, saying why, when it is absent).
"""

import json
import re

import numpy as np
import pytest

from modemean.reports.load import load_model
from modemean.reports.teaching.common import ORDER
from modemean.reports.teaching.loss_demo import expected_losses

pytestmark = pytest.mark.slow
PAGES = [name for name, *_ in ORDER]


def _open(page, path, width=1400):
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    assert page.console_errors == [], f"{path}: {page.console_errors}"


@pytest.mark.parametrize("path", [*(f"teaching/{n}.html" for n in [*PAGES, "index"]), "eight_schools/index.html"])
def test_no_horizontal_scroll_at_800_px(page, site, path):
    _open(page, site / path, width=800)
    widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], f"{path}: {widths[0]} px of content in a {widths[1]}-px window"


def test_loss_slider_moves_the_marker(page, site):
    _open(page, site / "teaching" / "loss_demo.html")
    grid = json.loads(page.inner_text("#loss-data"))["grid"]
    at = lambda k, what, attr: float(page.get_attribute(f"#plot-{k} {what}.marker", attr))  # noqa: E731
    where = lambda: [(at(k, "line", "x1"), at(k, "circle", "cy")) for k in ("zero_one", "absolute", "squared")]  # noqa: E731
    page.fill("#candidate", "0")
    left = where()
    page.fill("#candidate", "300")
    right = where()
    assert all(b[0] > a[0] for a, b in zip(left, right, strict=True))  # the marker moved right on every panel
    assert right[2][1] < left[2][1]  # squared loss is higher at a = grid[300] than at grid[0]: the dot climbed
    assert page.inner_text("#a") == f"{grid[300]:.2f}"


def test_prior_slider_moves_the_mode(page, site):
    data = json.loads((site / "teaching" / "prior_demo.json").read_text())["laplace"]
    _open(page, site / "teaching" / "prior_demo.html")
    xy = "cs => cs.map(c => [+c.getAttribute('cx'), +c.getAttribute('cy')])"
    dots = lambda: page.eval_on_selector_all("#prior-plot circle.mode", xy)  # noqa: E731
    first = dots()
    assert len(first) == len(data["map"][0])
    page.fill("#scale", str(len(data["scales"]) - 1))
    last = dots()
    assert all(b[0] > a[0] for a, b in zip(first, last, strict=True))
    assert page.inner_text("#map") == ", ".join(f"{v:.3f}" for v in data["map"][-1]).replace("-", "\u2212")


def test_em_e_step_colours_and_m_step_moves(page, site):
    run = json.loads((site / "teaching" / "em_demo.json").read_text())["restarts"][0]
    _open(page, site / "teaching" / "em_demo.html")
    curves = lambda: page.eval_on_selector_all("#density path.curve", "ps => ps.map(p => p.getAttribute('d'))")  # noqa: E731
    shares = lambda: page.eval_on_selector_all("#density rect.bar-1", "rs => rs.map(r => r.dataset.q)")  # noqa: E731
    start = curves()
    assert shares() == [] and page.is_disabled("#back") and page.is_disabled("#m")
    page.click("#e")  # labels from the start's curves: the bars are coloured, the curves stay
    assert curves() == start and page.inner_text("#iteration") == "0"
    q = [float(v) for v in shares()]
    assert len(q) > 10 and min(q) < 0.2 and max(q) > 0.8
    # the first bar's share is the start's responsibility of curve 1 at the bar's centre
    edges = json.loads(page.inner_text("#em-data"))["hist"]["edges"]
    x, mu, sigma, w = (edges[0] + edges[1]) / 2, *(np.asarray(run[k][0]) for k in ("mu", "sigma", "w"))
    dens = w / sigma * np.exp(-0.5 * ((x - mu) / sigma) ** 2)
    assert q[0] == pytest.approx(dens[0] / dens.sum(), abs=1e-4)
    page.click("#m")  # the curves re-fitted to those labels: iteration 1
    assert page.inner_text("#iteration") == "1" and curves() != start
    assert page.inner_text("#loglik") == f"{run['trace'][1]:.2f}".replace("-", "\u2212")
    page.click("#back")
    assert page.inner_text("#iteration") == "0" and curves() == start and shares()
    page.click("#back")
    assert shares() == [] and page.is_disabled("#back")


def test_teaching_pages_link_back_and_forth(site):
    for i, name in enumerate(PAGES):
        text = (site / "teaching" / f"{name}.html").read_text()
        if i:
            assert f'rel="prev" href="{PAGES[i - 1]}.html"' in text
        if i + 1 < len(PAGES):
            assert f'rel="next" href="{PAGES[i + 1]}.html"' in text
    model = (site / "eight_schools" / "index.html").read_text()
    for name in ("loss_demo", "reparam_demo"):
        assert f'href="../teaching/{name}.html"' in model
        assert 'href="../eight_schools/index.html"' in (site / "teaching" / f"{name}.html").read_text()


def test_modes_of_tau_from_the_stored_numbers(site):
    results = load_model(site, "eight_schools")
    row, draws = results.parameters["tau"], results.draws["tau"]
    expected = [row["map"], row["map_unconstrained"], row["mode"], expected_losses(draws)["minimiser"]["zero_one"]]
    for page in (site / "eight_schools" / "index.html", site / "teaching" / "reparam_demo.html"):
        table = re.search(r'<table class="modes">.*?</table>', page.read_text(), re.S)
        assert table, page
        for value in expected:
            assert f"<td>{value:.3g}</td>" in table[0], (page, value)
    for words in ("internal", "the seed's start", "comparisons.solvers", "fit_map", "DiscreteLatentEM"):
        for name in PAGES:
            assert words not in (site / "teaching" / f"{name}.html").read_text(), (name, words)
