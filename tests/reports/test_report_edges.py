"""Rough edges of the reports, each pinned by a test that failed before its fix (hand-built results, no solver)."""

import numpy as np
import pytest
from test_reports import _nuts, _write

from modemean.comparisons.results.fit import Fit
from modemean.comparisons.results.schema import format_gap
from modemean.comparisons.results.table import make_table
from modemean.comparisons.results.write import dump_json, results_dict, results_tree
from modemean.reports import render
from modemean.reports.plots.density import density_figure
from modemean.reports.plots.model import em_trace_figure
from modemean.reports.tables import LEAD


def test_one_gap_formatter_everywhere():
    assert [format_gap(v) for v in (1.1433, 0.4, 0.334, -0.0512, 25000.0)] == [
        "+1.14",
        "+0.40",
        "+0.33",
        "-0.05",
        "+2.5e+04",
    ]
    row = {"map": 0.5, "mean": 1.0, "median": 0.9, "sd": 1.0, "gap_sd": 0.4, "hdi_low": 0.1, "hdi_high": 2.0}
    fig = density_figure("tau", row, np.random.default_rng(0).gamma(2.0, 0.5, 500), {})
    assert fig.axes[0].get_title(loc="left") == "tau   (gap_sd = +0.40)"


def test_tied_em_restarts_one_best():
    tied = [np.array([-9.0, -4.0, -3.0]), np.array([-8.0, -3.5, -3.0]), np.array([-7.0, -3.0]), np.array([-6.0, -5.0])]
    labels = em_trace_figure({"em": tied}).axes[0].get_legend_handles_labels()[1]
    assert sum("(best" in label for label in labels) == 1
    assert "restart 0 (best; 3 restarts tied)" in labels
    assert labels.count("restart 1 (tied)") == 1 and "restart 3" in labels
    alone = em_trace_figure({"em": [np.array([-9.0, -3.0]), np.array([-9.0, -4.0])]})
    assert alone.axes[0].get_legend_handles_labels()[1][:2] == ["restart 0 (best)", "restart 1"]


def test_index_warns_and_not_skewed_heading(tmp_path):
    nuts = _nuts(3)
    warned = Fit(
        "nuts",
        "ok",
        "148 divergent transitions (raise target_accept or reparameterise); R-hat up to "
        "1.040 > 1.01 (run longer chains)",
        nuts.seconds,
        nuts.estimates,
        nuts.draws,
        converged=False,
        n_iter=300,
        diagnostics={**nuts.diagnostics, "divergences": 148, "max_r_hat": 1.04},
    )
    _write(tmp_path, "warned", {"nuts": warned})
    _write(tmp_path, "fine", {"nuts": _nuts(4)})
    index = render(tmp_path).read_text()
    assert 'class="status-warn"' in index and "ok, with warnings" in index
    warned_row = index[index.index('data-model="warned"') :]
    assert warned_row.index('class="status-warn"') < warned_row.index("</tr>")
    fine_row = index[index.index('data-model="fine"') :]
    assert fine_row.index('class="status-ok"') < fine_row.index("</tr>")
    assert "Why the posterior is skewed" in (tmp_path / "fine" / "index.html").read_text()
    # a model whose INFO says it is not skewed
    fits = {"nuts": _nuts(5)}
    table = make_table(fits, ["mu", "tau"])
    info = {"title": "Gaussian", "story": "s.", "why_skewed": "It is not: Gaussian.", "references": [], "skewed": False}
    settings = {"seed": 1, "draws": 300, "tune": 300, "chains": 2, "n_init": 2, "solvers": ["nuts"]}
    (tmp_path / "gaussian").mkdir()
    results_tree(fits, table).to_netcdf(tmp_path / "gaussian" / "results.nc", engine="h5netcdf")
    data = results_dict("gaussian", info, settings, fits, table, "models/gaussian.py")
    assert data["skewed"] is False
    dump_json(data, tmp_path / "gaussian" / "results.json")
    render(tmp_path, ["gaussian"])
    page = (tmp_path / "gaussian" / "index.html").read_text()
    assert "Why the posterior is not skewed" in page and "Why the posterior is skewed" not in page


def test_index_notes_several_modes_next_to_a_gap_measured_from_find_maps_mode(tmp_path):
    def map_fit(agree):
        return Fit(
            "map",
            "ok",
            "" if agree else "1 find_MAP start(s) reached a different local mode",
            0.1,
            {"map": {"mu": 1.0, "tau": 0.5}, "laplace_sd": {"mu": 0.5, "tau": 0.3}},
            converged=True,
            n_iter=9,
            # as fit_map writes them: 4 stationary starts, 3 of them at the best peak when they disagree
            diagnostics={
                "optimizer": "L-BFGS-B",
                "starts_agree": agree,
                "n_stationary": 4,
                "n_starts_agreeing": 4 if agree else 3,
            },
        )

    _write(tmp_path, "multimodal", {"map": map_fit(False), "nuts": _nuts(6)})
    _write(tmp_path, "unimodal", {"map": map_fit(True), "nuts": _nuts(6)})
    index = render(tmp_path).read_text()
    row = index[index.index('data-model="multimodal"') :]
    assert row.index("several modes") < row.index("</tr>")
    row = index[index.index('data-model="unimodal"') :]
    assert "several modes" not in row[: row.index("</tr>")]


@pytest.mark.slow
def test_model_table_leads_sticks_sorts_filters(page, tmp_path):
    _write(tmp_path, "toy", {"nuts": _nuts(1)})
    nuts = _nuts(2)
    _write(
        tmp_path,
        "warned",
        {
            "nuts": Fit(
                "nuts",
                "ok",
                "3 divergent transitions",
                nuts.seconds,
                nuts.estimates,
                nuts.draws,
                converged=False,
                n_iter=300,
                diagnostics=nuts.diagnostics,
            )
        },
    )
    render(tmp_path)
    page.set_viewport_size({"width": 1000, "height": 800})
    page.goto((tmp_path / "toy" / "index.html").as_uri())
    visible = "ths => ths.filter(t => t.offsetParent !== null).map(t => t.textContent.replace(/[▲▼≈ ]/g, ''))"
    lead = [c for c in LEAD if c in ("mean", "median", "sd")]  # NUTS alone ran: map, em and gap_sd have no column
    assert page.eval_on_selector_all("table.comparison thead th", visible) == ["parameter", *lead]
    right = page.eval_on_selector_all(
        "table.comparison thead th", "ths => ths[ths.length - 1].getBoundingClientRect().right"
    )
    assert right <= 1000  # the lead columns on screen without scrolling
    page.check("#comparison-all")
    shown = page.eval_on_selector_all("table.comparison thead th", visible)
    assert len(shown) > len(lead) + 1 and shown[1 : len(lead) + 1] == lead
    # sticky parameter column: scrolled sideways, it stays at the left edge of the scroll box (a narrow
    # window: a NUTS-only table is narrower than 1000 px)
    page.set_viewport_size({"width": 420, "height": 800})
    page.eval_on_selector("div.scroll", "d => { d.scrollLeft = 5000; }")
    box = page.eval_on_selector("div.scroll", "d => d.getBoundingClientRect().left")
    assert page.eval_on_selector("div.scroll", "d => d.scrollLeft") > 0
    first = page.eval_on_selector("table.comparison tbody th[scope=row]", "t => t.getBoundingClientRect().left")
    assert abs(first - box) < 2
    # sort by mean, both ways; filter the parameters
    means = "rs => rs.map(r => parseFloat(r.cells[3].textContent))"
    page.click("table.comparison thead th:nth-child(4)")
    up = page.eval_on_selector_all("table.comparison tbody tr", means)
    assert up == sorted(up)
    page.click("table.comparison thead th:nth-child(4)")
    assert page.eval_on_selector_all("table.comparison tbody tr", means) == sorted(up, reverse=True)
    page.fill("input.filter", "ta")
    rows = "rs => rs.filter(r => !r.hidden).map(r => r.dataset.parameter)"
    assert page.eval_on_selector_all("table.comparison tbody tr", rows) == ["tau"]
    page.goto((tmp_path / "index.html").as_uri())
    page.fill("input.filter", "warn")
    assert page.eval_on_selector_all("table.index tbody tr", "rs => rs.filter(r => !r.hidden).length") == 1
    assert page.console_errors == []
