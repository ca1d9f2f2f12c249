"""Teaching pages: the numbers come from the engine, the pages replay them faithfully in a browser.

A small site is built once (``teaching_site.py``): eight schools with cheap NUTS only (the loss page's
draws), the EM demo in full and the prior path on a short grid with cheap NUTS. The browser tests use
Debian's headless Chromium through Playwright and are skipped, saying why, when it is absent
(``apt-get install -y chromium``); never run ``playwright install``.
"""

import json

import numpy as np
import pytest
from scipy import stats
from scipy.special import logsumexp
from teaching_site import PRIOR, SEED

from modemean.cli import main
from modemean.comparisons.em.loop import run_em
from modemean.comparisons.spec import load_spec
from modemean.comparisons.teaching import build_teaching
from modemean.reports.teaching import render_teaching
from modemean.reports.teaching.loss_demo import expected_losses

# the site (tests/reports/conftest.py, teaching_site.py): eight schools with cheap NUTS, the teaching numbers, pages


def _json(site, name):
    return json.loads((site / "teaching" / f"{name}.json").read_text())


# ------------------------------------------------------------------------------------------- the numbers
@pytest.mark.slow
def test_em_demo_replays_the_engines_run(site):
    data = _json(site, "em_demo")
    spec = load_spec("two_gaussians")
    starts = spec.em_engine.starts(5, np.random.default_rng(SEED))
    first = data["restarts"][0]
    assert first["mu"][0] == [-0.5, 0.8] and first["w"][0] == [0.5, 0.5]
    run = run_em(spec.em_engine, starts[0], prior=None)
    np.testing.assert_array_equal(first["trace"], run.trace)
    np.testing.assert_allclose(first["mu"][-1], run.params["mu"], rtol=0, atol=0)
    assert len(data["restarts"]) == 5
    for rs in data["restarts"]:
        assert len(rs["trace"]) == len(rs["mu"]) == len(rs["curves"])
        assert np.all(np.diff(rs["trace"]) >= -1e-9 * np.abs(rs["trace"][1:]))
    # the curves are the weighted component densities: the mixture integrates to 1 over the grid
    x = np.asarray(data["x"])
    mixture = np.asarray(first["curves"][-1]).sum(axis=0) * data["curve_unit"]
    assert abs(np.trapezoid(mixture, x) - 1) < 0.01


@pytest.mark.slow
def test_em_bound_touches_lies_below_and_peaks_at_the_m_step(site):
    data = _json(site, "em_bound")
    x = load_spec("two_gaussians").data["x"]
    first = data["steps"][0]
    assert first["theta"]["mu"] == [-0.5, 0.8] and first["theta"]["w"] == [0.5, 0.5]
    assert len(data["steps"]) >= 5
    for t, step in enumerate(data["steps"]):
        theta = {k: np.asarray(v) for k, v in step["theta"].items()}
        # an independent density (scipy's normal): l(theta_t), the responsibilities and the closed-form M-step
        joint = np.log(theta["w"])[:, None] + stats.norm.logpdf(
            x[None, :], theta["mu"][:, None], theta["sigma"][:, None]
        )
        assert step["loglik"] == pytest.approx(logsumexp(joint, axis=0).sum(), abs=1e-8)
        r = np.exp(joint - logsumexp(joint, axis=0))
        m_step = {"mu0": r[0] @ x / r[0].sum(), "mu1": r[1] @ x / r[1].sum(), "w0": r[0].mean(), "step": 1.0}
        assert step["bound_at_theta"] == pytest.approx(step["loglik"], abs=1e-8)  # the bound touches
        assert step["kl_new"] == pytest.approx(step["loglik_new"] - step["bound_new"], abs=1e-9)
        assert step["kl_new"] > 0
        if t + 1 < len(data["steps"]):
            assert data["steps"][t + 1]["loglik"] == pytest.approx(step["loglik_new"], abs=1e-8)
        for key, _ in data["slices"]:
            c = {k: np.asarray(v) for k, v in step["slice"][key].items()}
            i = int(np.flatnonzero(c["x"] == c["at"])[0])
            assert c["bound"][i] == pytest.approx(c["loglik"][i], abs=1e-8)  # touches at theta_t
            assert np.all(c["bound"] <= c["loglik"] + 1e-9)  # below everywhere
            np.testing.assert_allclose(c["loglik"] - c["bound"], c["kl"], atol=1e-8)  # the gap is the KL
            assert np.all(c["kl"] >= -1e-10)
            assert c["new"] == pytest.approx(m_step[key], abs=1e-10)
            assert c["argmax"] == pytest.approx(m_step[key], abs=1e-5 if key == "step" else 1e-6)
            assert np.argmax(c["bound"]) == int(np.flatnonzero(c["x"] == c["argmax"])[0])


@pytest.mark.slow
def test_reparam_quantiles_map_exactly_and_the_mode_moves(site):
    from modemean.reports.load import load_model
    from modemean.reports.teaching.reparam_demo import reparam_numbers

    results = load_model(site, "eight_schools")
    tau = results.draws["tau"]
    d = reparam_numbers(tau)
    np.testing.assert_array_equal(d["q_eta"], np.log(d["q_tau"]))  # exactly, same draws
    np.testing.assert_array_equal(d["percentiles"]["eta"], np.log(d["percentiles"]["tau"]))
    assert d["median_eta"] == np.log(d["median_tau"])
    assert abs(d["median_tau"] - np.median(tau)) < 0.05 * np.std(tau)
    # the modes differ: log tau's mode, mapped back, sits well right of tau's (the Jacobian's push)
    assert np.exp(d["mode_eta"]) - d["mode_tau"] > 0.5 * np.std(tau)
    assert np.exp(d["mean_eta"]) < d["mean_tau"]  # geometric < arithmetic
    # the change of variables: p_eta integrates to the draws' share inside the eta grid (0.5%..99.5%: 0.99)
    mass = np.trapezoid(np.exp(d["log_p_eta"]), d["eta"])
    assert mass == pytest.approx(0.99, abs=0.03)
    np.testing.assert_allclose(d["log_p_eta"] - d["log_p_tau"], d["eta"], atol=1e-12)  # only the Jacobian
    page = (site / "teaching" / "reparam_demo.html").read_text()
    assert f"{d['mode_tau']:.3f}" in page and f"{np.exp(d['mode_eta']):.3f}" in page


@pytest.mark.parametrize("i", [0, 17, 60])
def test_skew_families_match_scipy(i):
    from scipy import optimize

    from modemean.reports.teaching.skew_demo import skew_families

    fams = skew_families()
    for name, dist in (("lognormal", lambda v: stats.lognorm(v)), ("gamma", lambda v: stats.gamma(v))):
        f = {k: np.asarray(v)[i] if isinstance(v, np.ndarray) else v for k, v in fams[name].items()}
        d = dist(f["values"])
        assert f["median"] == pytest.approx(d.median(), rel=1e-10)
        assert f["mean"] == pytest.approx(d.mean(), rel=1e-10)
        assert f["sd"] == pytest.approx(d.std(), rel=1e-10)
        assert f["skewness"] == pytest.approx(float(d.stats(moments="s")), rel=1e-8)
        assert f["hi"] == pytest.approx(d.ppf(0.99), rel=1e-8)
        mode = optimize.minimize_scalar(
            lambda x, d=d: -d.logpdf(x), bounds=(1e-9, f["hi"]), method="bounded", options={"xatol": 1e-10}
        ).x
        assert f["mode"] == pytest.approx(mode, abs=1e-6)
        assert f["gap_sd"] == pytest.approx((d.mean() - mode) / d.std(), abs=1e-5)
        x = np.linspace(f["hi"] / 10, f["hi"], 5)  # the page's closed-form density's constant
        log_pdf = (
            -(np.log(x) ** 2) / (2 * f["values"] ** 2) - np.log(x)
            if name == "lognormal"
            else (f["values"] - 1) * np.log(x) - x
        ) - f["log_norm"]
        np.testing.assert_allclose(log_pdf, d.logpdf(x), rtol=1e-10)
    assert fams["gamma"]["gap_sd"] == pytest.approx(fams["gamma"]["skewness"] / 2, rel=1e-12)


def test_loss_minimisers_are_mode_median_mean():
    draws = np.random.default_rng(3).gamma(1.5, 2.0, 4001)  # skewed, like a scale parameter
    result = expected_losses(draws)
    m = result["minimiser"]
    assert m["squared"] == pytest.approx(np.mean(draws), abs=1e-7)
    assert m["absolute"] == pytest.approx(np.median(draws), abs=1e-12)
    # the densest window of half-width h, by brute force on a fine grid
    h = result["window"]
    fine = np.linspace(draws.min(), draws.max(), 200_001)
    counts = np.array([np.sum(np.abs(draws - a) <= h) for a in (m["zero_one"],)])
    brute = np.searchsorted(np.sort(draws), fine + h, "right") - np.searchsorted(np.sort(draws), fine - h, "left")
    assert counts[0] >= brute.max()
    assert abs(m["zero_one"] - fine[np.argmax(brute)]) < 2 * h
    # a gamma(1.5) peak is at (1.5 - 1) * 2 = 1; the mode < median < mean ordering of a right skew
    assert abs(m["zero_one"] - 1.0) < 0.5 and m["zero_one"] < m["absolute"] < m["squared"]


@pytest.mark.slow
def test_loss_page_uses_the_saved_draws(site):
    from modemean.reports.load import load_model

    results = load_model(site, "eight_schools")
    draws = results.draws["tau"]
    m = expected_losses(draws)["minimiser"]
    assert m["squared"] == pytest.approx(np.mean(draws), abs=1e-7)
    assert m["absolute"] == pytest.approx(np.median(draws), abs=1e-12)
    assert m["absolute"] == pytest.approx(results.parameters["tau"]["median"], abs=1e-9)
    page = (site / "teaching" / "loss_demo.html").read_text()
    assert f"{m['squared']:.3f}" in page and f"{m['absolute']:.3f}" in page and f"{m['zero_one']:.3f}" in page


@pytest.mark.slow
def test_prior_path_ends_at_the_mle(site):
    data = _json(site, "prior_demo")
    spec = load_spec("sparse_regression")
    ols = np.linalg.lstsq(spec.data["X"], spec.data["y"], rcond=None)[0]
    np.testing.assert_allclose(data["mle"], ols, atol=1e-10)
    np.testing.assert_allclose(data["laplace"]["map"][-1], data["mle"], atol=1e-4)
    assert data["laplace"]["scales"] == [*PRIOR["scales"], 1e4]
    # tight prior: exact zeros at the mode, none in the posterior mean
    tight_map, tight_mean = np.asarray(data["laplace"]["map"][0]), np.asarray(data["laplace"]["mean"][0])
    zero = np.abs(tight_map) < data["laplace"]["zero_atol"]
    assert zero.sum() >= 3 and np.all(tight_mean[zero] != 0)
    # the Gaussian twin: its last mode (widest tau) is the MLE too
    np.testing.assert_allclose(data["gaussian"]["mode"][-1], ols, atol=1e-4)


@pytest.mark.slow
def test_cli_report_links_the_teaching_pages(site, capsys):
    assert main(["report", "--out", str(site)]) == 0
    index = (site / "index.html").read_text()
    assert index.index('href="teaching/index.html"') < index.index('href="teaching/em_demo.html"')
    for name in ("em_demo", "em_bound", "loss_demo", "reparam_demo", "skew_demo", "prior_demo"):
        assert f'href="teaching/{name}.html"' in index
        assert (site / "teaching" / f"{name}.html").is_file()


@pytest.mark.slow
def test_up_to_date_teaching_pages_are_kept_and_stale_ones_rerendered(site):
    """A page newer than its numbers is kept (the loss page's figure is most of a cached report's time);
    new numbers or ``force`` render it again; the index is always rewritten."""
    import os
    import time

    pages = {name: site / "teaching" / f"{name}.html" for name in ("em_demo", "loss_demo", "reparam_demo", "index")}
    before = {name: page.stat().st_mtime_ns for name, page in pages.items()}
    links = render_teaching(site)
    assert {href for _, href in links} >= {f"teaching/{name}.html" for name in pages}  # kept pages still linked
    after = {name: page.stat().st_mtime_ns for name, page in pages.items()}
    assert after["em_demo"] == before["em_demo"] and after["loss_demo"] == before["loss_demo"]
    assert after["index"] > before["index"]
    later = time.time() + 5
    os.utime(site / "eight_schools" / "results.nc", (later, later))  # the draws the loss page shows changed
    render_teaching(site)
    assert pages["loss_demo"].stat().st_mtime_ns > after["loss_demo"]
    assert pages["reparam_demo"].stat().st_mtime_ns > after["reparam_demo"]
    assert pages["em_demo"].stat().st_mtime_ns == before["em_demo"]
    render_teaching(site, force=True)
    assert pages["em_demo"].stat().st_mtime_ns > before["em_demo"]


@pytest.mark.slow
def test_teaching_numbers_up_to_date_are_kept_and_changed_settings_recompute(site, tmp_path):
    """A second ``modemean teach`` with the same settings recomputes nothing; a changed prior grid
    recomputes prior_demo.json only."""
    import shutil

    shutil.copytree(site / "teaching", tmp_path / "teaching", ignore=shutil.ignore_patterns("*.html"))
    files = {p.stem: p for p in (tmp_path / "teaching").glob("*.json")}
    stamps = {name: p.stat().st_mtime_ns for name, p in files.items()}
    kept = [(files[name], False) for name in ("em_demo", "em_bound", "prior_demo")]
    assert build_teaching(tmp_path, seed=SEED, prior=PRIOR) == kept
    assert {name: p.stat().st_mtime_ns for name, p in files.items()} == stamps
    wider = {**PRIOR, "scales": (0.05, 3.0)}
    written = dict(build_teaching(tmp_path, seed=SEED, prior=wider))
    assert written == {files["em_demo"]: False, files["em_bound"]: False, files["prior_demo"]: True}
    assert _json(tmp_path, "prior_demo")["key"] != _json(site, "prior_demo")["key"]


# ------------------------------------------------------------------------------------------- in a browser
def _open(page, path):
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    page.wait_for_function("Array.from(document.images).every(i => i.complete)")
    assert page.console_errors == [], f"{path}: {page.console_errors}"
    broken = page.evaluate("Array.from(document.images).filter(i => i.naturalWidth === 0).length")
    assert broken == 0, f"{path}: {broken} broken images"


def _number(text):
    return float(text.replace("\u2212", "-"))


def _canvas_inked(page, selector):
    """Number of non-transparent pixels drawn on a canvas."""
    return page.eval_on_selector(
        selector,
        """c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return n; }""",
    )


@pytest.mark.slow
def test_em_demo_in_browser(page, site):
    trace = _json(site, "em_demo")["restarts"][0]["trace"]
    _open(page, site / "teaching" / "em_demo.html")
    read = lambda id_: page.inner_text(f"#{id_}")  # noqa: E731
    assert read("iteration") == "0"
    assert read("means") == "\u22120.50, 0.80" and read("weights") == "0.50, 0.50"
    assert read("loglik") == f"{trace[0]:.2f}".replace("-", "\u2212")
    assert page.eval_on_selector_all("#density rect.bar", "bs => bs.length") > 10
    assert _canvas_inked(page, "#trace") > 200
    shown = [_number(read("loglik"))]
    for i in range(1, 9):
        page.click("#step")
        assert read("iteration") == str(i)
        assert read("loglik") == f"{trace[i]:.2f}".replace("-", "\u2212")
        shown.append(_number(read("loglik")))
    assert all(b >= a for a, b in zip(shown, shown[1:], strict=False)), shown
    page.click("#reset")
    assert read("iteration") == "0" and read("means") == "\u22120.50, 0.80"
    # the first paragraph is as wide as the rest
    widths = page.eval_on_selector_all("body > p", "ps => ps.map(p => Math.round(p.getBoundingClientRect().width))")
    assert widths[0] == widths[1], widths
    page.click("#run")  # plays to the end of the run
    page.wait_for_function(f"document.getElementById('iteration').textContent === '{len(trace) - 1}'", timeout=30_000)
    assert read("loglik") == f"{trace[-1]:.2f}".replace("-", "\u2212")
    assert "converged" in read("status")
    # the start's "below the axis" label: no pixel of the (black) curve inside its box
    assert page.get_attribute("#trace", "data-label")
    crossed = page.eval_on_selector(
        "#trace",
        """c => { const [x, y, w, h] = JSON.parse(c.dataset.label);
        const r = window.devicePixelRatio || 1;
        const d = c.getContext('2d').getImageData(Math.floor(x * r), Math.floor(y * r), Math.ceil(w * r),
                                                   Math.ceil(h * r)).data;
        let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 128 && d[i] < 40 && d[i + 1] < 40) n++;
        return n; }""",
    )
    assert crossed == 0
    page.select_option("#start", "2")  # another start: back to iteration 0 at that start
    other = _json(site, "em_demo")["restarts"][2]
    assert read("iteration") == "0"
    assert read("means") == ", ".join(f"{v:.2f}" for v in other["mu"][0]).replace("-", "\u2212")
    assert page.console_errors == []


@pytest.mark.slow
def test_em_bound_in_browser(page, site):
    steps = _json(site, "em_bound")["steps"]
    _open(page, site / "teaching" / "em_bound.html")
    read = lambda id_: page.inner_text(f"#{id_}")  # noqa: E731
    bound = lambda: page.get_attribute("#bound-plot path.bound", "d")  # noqa: E731
    assert read("t") == "0" and page.is_disabled("#back")
    assert read("kl-new") == f"{steps[0]['kl_new']:.4f}"
    assert read("loglik") == f"{steps[0]['loglik']:.3f}".replace("-", "\u2212")
    drawn = bound()
    page.click("#next")
    assert read("t") == "1" and read("kl-new") == f"{steps[1]['kl_new']:.4f}"
    assert bound() != drawn  # the bound of iteration 1 is drawn
    page.fill("#slider", "4")
    assert read("t") == "4" and read("loglik") == f"{steps[4]['loglik']:.3f}".replace("-", "\u2212")
    page.check("input[name=slice][value=w0]")
    assert read("slice-argmax") == f"{steps[4]['slice']['w0']['argmax']:.6f}"
    assert page.eval_on_selector_all("#bound-plot circle", "cs => cs.length") == 3
    assert page.console_errors == []


@pytest.mark.slow
def test_reparam_demo_in_browser(page, site):
    from modemean.reports.load import load_model
    from modemean.reports.teaching.reparam_demo import reparam_numbers

    d = reparam_numbers(load_model(site, "eight_schools").draws["tau"])
    _open(page, site / "teaching" / "reparam_demo.html")
    read = lambda id_: page.inner_text(f"#{id_}")  # noqa: E731
    assert read("q-tau") == read("exp-q-eta") == f"{d['median_tau']:.4f}"
    page.fill("#level", "25")
    assert read("p") == "25%" and read("q-tau") == f"{d['percentiles']['tau'][24]:.4f}" == read("exp-q-eta")
    red = "#tau-plot line[stroke='#D55E00']"
    assert page.eval_on_selector_all(red, "ls => ls.length") == 2
    page.uncheck("#modes")
    assert page.eval_on_selector_all(red, "ls => ls.length") == 0
    assert page.eval_on_selector_all("svg path.density", "ps => ps.length") == 2
    assert page.console_errors == []


@pytest.mark.slow
def test_skew_demo_in_browser(page, site):
    from modemean.reports.teaching.skew_demo import catalog_skew, skew_families

    fams, catalog = skew_families(), catalog_skew(site)
    assert any(c["model"] == "eight_schools" and c["parameter"] == "tau" for c in catalog)
    _open(page, site / "teaching" / "skew_demo.html")
    read = lambda id_: _number(page.inner_text(f"#{id_}"))  # noqa: E731
    assert page.eval_on_selector_all("#map-plot circle.catalog", "cs => cs.length") == len(catalog)
    mean_line = lambda: float(page.get_attribute("#pdf-plot line.mean", "x1"))  # noqa: E731
    first = mean_line()
    page.fill("#param", "40")
    assert read("gap_sd") == pytest.approx(fams["lognormal"]["gap_sd"][40], abs=6e-4)
    assert read("mode") < read("median") < read("mean")
    assert mean_line() != first
    page.check("input[name=family][value=gamma]")
    page.fill("#param", "10")
    assert read("mean") == pytest.approx(fams["gamma"]["mean"][10], abs=6e-4)
    assert read("gap_sd") == pytest.approx(read("skewness") / 2, abs=1e-3)
    assert page.console_errors == []


@pytest.mark.slow
@pytest.mark.parametrize("name", ["loss_demo", "prior_demo"])
def test_other_pages_in_browser(page, site, name):
    _open(page, site / "teaching" / f"{name}.html")
    assert page.evaluate("document.images.length + document.querySelectorAll('svg').length") >= 1
    if name == "loss_demo":
        page.fill("#candidate", "0")
        assert _number(page.inner_text("#loss-squared")) > 0
    _open(page, site / "index.html")
    assert page.eval_on_selector_all("ul.extra-pages a", "as => as.length") == 7
    _open(page, site / "teaching" / "index.html")
    hrefs = page.eval_on_selector_all("ol.teaching-order a", "as => as.map(a => a.getAttribute('href'))")
    assert hrefs == [
        "em_demo.html",
        "em_bound.html",
        "loss_demo.html",
        "skew_demo.html",
        "reparam_demo.html",
        "prior_demo.html",
    ]
