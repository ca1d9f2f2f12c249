"""Issue 32, reports side: the index ranks by the largest skew gap and sorts by |gap|, a model page with
divergences shows arviz-plots' trace, rank and pair views, figures order parameters by importance and
draw coinciding estimators once. Built from hand-made results (no solver runs); the browser tests use
Debian's Chromium (skipped without it)."""

import json

import arviz as az
import numpy as np
import pytest
from test_reports import _nuts, _write

from modemean.comparisons.results.fit import Fit
from modemean.comparisons.solvers.nuts import summarise_draws
from modemean.reports import render
from modemean.reports.densities import caption
from modemean.reports.load import ModelResults, load_model
from modemean.reports.plots.density import coinciding
from modemean.reports.ranking import by_importance, other_gaps, skew_headline


def _results(parameters: dict, em: str = "ok") -> ModelResults:
    schema = {"solvers": {"em": {"label": "EM", "columns": ["em"]}}, "columns": {}}
    data = {"schema": schema, "solvers": {"em": {"status": em}}, "parameters": parameters}
    return ModelResults("toy", None, data)


def test_coinciding_estimators_share_one_line():
    row = {"map": 1.0, "em": 1.0 + 1e-4, "mle": 1.0, "mean": 2.0, "median": None}
    assert coinciding(row, ["map", "em", "mle", "mean", "median"], scale=1.0) == [["map", "em", "mle"], ["mean"]]
    assert coinciding(row, ["map", "em", "mean"], scale=0.001) == [["map"], ["em"], ["mean"]]  # apart at this scale


def test_caption_names_the_kind_skewness_and_the_coinciding_estimators():
    row = {"map": 0.0, "em": 0.0, "mean": 1.2, "sd": 1.0, "gap_sd": 1.2, "skewness": 2.03, "gap_kind": "boundary"}
    text = caption(_results({"tau": row}), "tau", {"map": "MAP", "em": "EM", "mean": "mean"})
    assert text.startswith("tau: gap_sd +1.20, a boundary gap (boundary: the peak sits on the edge")
    assert "skewness +2.03" in text and "coinciding: map = em" in text


def test_model_level_parameters_before_latent_vectors_then_by_gap():
    rows = {
        "eta[0]": {"gap_sd": 3.0, "em": None},  # latent: EM ran and did not estimate it
        "eta[1]": {"gap_sd": -0.5, "em": None},
        "mu": {"gap_sd": 0.1, "em": 1.0},
        "tau": {"gap_sd": -1.2, "em": 0.0},
        "tau_v[0]": {"gap_sd": 0.4, "em": 2.0},  # a model-level vector: EM estimated it
    }
    assert by_importance(_results(rows)) == ["tau", "tau_v[0]", "mu", "eta[0]", "eta[1]"]
    # without EM, a vector longer than LATENT_SIZE entries is latent, a short one is not
    rows = {f"b[{i}]": {"gap_sd": 5.0 + i} for i in range(6)} | {"s[0]": {"gap_sd": 0.2}, "mu": {"gap_sd": 0.1}}
    assert by_importance(_results(rows, em="not_run"))[:2] == ["s[0]", "mu"]


def test_skew_headline_ignores_other_kinds_and_lists_them():
    rows = {
        "tau": {"gap_sd": -19.2, "gap_kind": "joint_vs_marginal"},
        "mu": {"gap_sd": 0.6, "gap_kind": "skew"},
        "s": {"gap_sd": 3.8, "gap_kind": "boundary"},
    }
    r = _results(rows)
    assert skew_headline(r) == ("mu", 0.6, "gap_sd")
    assert other_gaps(r) == [("boundary", 3.8, "s", "gap_sd"), ("joint_vs_marginal", -19.2, "tau", "gap_sd")]
    assert skew_headline(_results({"tau": {"gap_sd": -19.2}, "mu": {"gap_sd": 0.6}}))[0] == "tau"  # no kinds: any gap


def _divergent_nuts(seed: int) -> Fit:
    """NUTS of a small funnel with divergences near its neck and R-hat / ESS warnings."""
    rng = np.random.default_rng(seed)
    log_tau = rng.normal(0.0, 1.0, (2, 300))
    posterior = {"mu": rng.normal(1.0, 0.5, (2, 300)) * np.exp(log_tau), "tau": np.exp(log_tau)}
    diverging = log_tau < -1.5
    draws = az.from_dict({"posterior": posterior, "sample_stats": {"diverging": diverging}})
    diagnostics = {"sampler": "pymc NUTS", "draws": 300, "tune": 300, "chains": 2, "settings": {}}
    diagnostics |= {"divergences": int(diverging.sum()), "max_r_hat": 1.05, "min_ess_bulk": 90.0}
    summary = summarise_draws(draws.posterior)
    return Fit("nuts", "ok", "divergences", 1.0, summary, draws, converged=False, n_iter=300, diagnostics=diagnostics)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """Three models whose gaps and kinds are set by hand: the largest gap of all is not skew."""
    out = tmp_path_factory.mktemp("views")
    gaps = {
        "artefact": {"mu": (0.3, "skew"), "tau": (-19.2, "joint_vs_marginal")},
        "skewed": {"mu": (-2.5, "skew"), "tau": (0.1, "skew")},
        "mild": {"mu": (1.1, "skew"), "tau": (3.0, "boundary")},
    }
    for i, (name, rows) in enumerate(gaps.items()):
        _write(out, name, {"nuts": _nuts(10 + i)})
        path = out / name / "results.json"
        data = json.loads(path.read_text())
        for parameter, (gap, kind) in rows.items():
            row = data["parameters"][parameter]
            row.update(gap_sd=gap, gap_kind=kind, map=row["mean"] - gap * row["sd"])
        path.write_text(json.dumps(data))
    _write(out, "funnel", {"nuts": _divergent_nuts(7)})
    render(out)
    return out


def _models(page) -> list[str]:
    return page.eval_on_selector_all("tr[data-model]", "rows => rows.map(r => r.dataset.model)")


def test_index_ranks_by_skew_gap_and_sorts_by_its_size(page, site):
    page.goto((site / "index.html").as_uri())
    order = _models(page)
    assert order[:3] == ["skewed", "mild", "artefact"]  # |-2.5| > 1.1 > 0.3; artefact's -19.2 is not skew
    other = page.inner_text("tr[data-model=artefact] td.other")
    assert "joint ≠ marginal" in other and "19.2" in other
    page.click("th:has-text('largest skew gap')")
    assert _models(page)[:3] == ["artefact", "mild", "skewed"]  # ascending |gap|: signed, -2.5 would come first
    page.click("th:has-text('largest skew gap')")
    assert _models(page)[:3] == ["skewed", "mild", "artefact"]
    page.click("th:has-text('other gaps')")  # by the cell's largest |gap|: mild's 3.0, then artefact's 19.2
    assert _models(page)[:2] == ["mild", "artefact"]
    assert page.console_errors == []


def test_page_with_divergences_shows_trace_rank_and_pair_views(page, site):
    path = site / "funnel" / "index.html"
    page.goto(path.as_uri())
    warning = page.inner_text("section.section-checks p.warn")
    assert "divergent transitions" in warning and "R-hat 1.050" in warning
    for figure in ("fig-trace.png", "fig-rank.png", "fig-pair.png"):
        image = page.query_selector(f"img[src='{figure}']")
        assert image is not None and image.is_visible(), figure  # shown up front, not folded
        assert image.evaluate("i => i.complete && i.naturalWidth > 0")
    assert "divergent transitions in orange" in page.inner_text("section.section-pair")
    assert page.query_selector("section.section-checks details") is None
    toc = page.eval_on_selector_all("nav.toc a", "links => links.map(a => a.getAttribute('href'))")
    assert "#checks" in toc and "#pair" in toc and all(page.query_selector(h) for h in toc)
    assert page.query_selector("a[href='table.csv']") and (site / "funnel" / "table.csv").is_file()
    assert "seven" not in page.inner_text("body") and "not run" not in page.inner_text("table.solvers")
    assert page.console_errors == []


def test_fine_nuts_folds_trace_and_rank(site):
    text = (site / "skewed" / "index.html").read_text()
    assert "<details><summary>Trace and rank plots" in text
    assert load_model(site, "skewed").ran == {"nuts": "NUTS"}
