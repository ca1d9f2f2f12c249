"""Rough edges of the reports, each pinned by a test that failed before its fix (hand-built results, no solver)."""

import numpy as np
from test_reports import _nuts, _write

from modemean.comparisons.fit import Fit
from modemean.comparisons.results import dump_json, results_dict, results_tree
from modemean.comparisons.table import make_table
from modemean.reports import render
from modemean.reports.figures import density_figure, em_trace_figure
from modemean.reports.load import format_gap


def test_one_gap_formatter_everywhere():
    assert [format_gap(v) for v in (1.1433, 0.4, 0.334, -0.0512, 25000.0)] == \
        ["+1.14", "+0.40", "+0.33", "-0.05", "+2.5e+04"]
    row = {"map": 0.5, "mean": 1.0, "median": 0.9, "sd": 1.0, "gap_sd": 0.4, "hdi_low": 0.1, "hdi_high": 2.0}
    fig = density_figure("tau", row, np.random.default_rng(0).gamma(2.0, 0.5, 500), {})
    assert fig.axes[0].get_title(loc="left") == "tau   (gap_sd = +0.40)"


def test_tied_em_restarts_one_best():
    tied = [np.array([-9.0, -4.0, -3.0]), np.array([-8.0, -3.5, -3.0]), np.array([-7.0, -3.0]),
            np.array([-6.0, -5.0])]
    labels = em_trace_figure({"em": tied}).axes[0].get_legend_handles_labels()[1]
    assert sum("(best" in label for label in labels) == 1
    assert "restart 0 (best; 3 restarts tied)" in labels
    assert labels.count("restart 1 (tied)") == 1 and "restart 3" in labels
    alone = em_trace_figure({"em": [np.array([-9.0, -3.0]), np.array([-9.0, -4.0])]})
    assert alone.axes[0].get_legend_handles_labels()[1][:2] == ["restart 0 (best)", "restart 1"]


def test_index_warns_and_not_skewed_heading(tmp_path):
    nuts = _nuts(3)
    warned = Fit("nuts", "ok", "148 divergent transitions (raise target_accept or reparameterise); R-hat up to "
                 "1.040 > 1.01 (run longer chains)", nuts.seconds, nuts.estimates, nuts.draws, converged=False,
                 n_iter=300, diagnostics={**nuts.diagnostics, "divergences": 148, "max_r_hat": 1.04})
    _write(tmp_path, "warned", {"nuts": warned})
    _write(tmp_path, "fine", {"nuts": _nuts(4)})
    index = render(tmp_path).read_text()
    assert 'class="status-warn"' in index and "ok, with warnings" in index
    warned_row = index[index.index('data-model="warned"'):]
    assert warned_row.index('class="status-warn"') < warned_row.index("</tr>")
    fine_row = index[index.index('data-model="fine"'):]
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
