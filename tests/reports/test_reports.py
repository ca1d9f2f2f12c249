"""Report rendering on hand-built results: no solver runs here.

Two toy models are written to disk the way ``Comparison.save`` writes them, from hand-made
``Fit`` objects: ``skewed`` (find_MAP on a boundary, EM not applicable, NUTS fine) and ``broken``
(find_MAP failed, EM with a decrease in one restart, NUTS fine).
"""

import json
from html import unescape
from html.parser import HTMLParser

import arviz as az
import numpy as np
import pytest

from modemean.cli import main
from modemean.comparisons.results.fit import Fit, Flag
from modemean.comparisons.results.table import column_owners, columns, format_table, make_table
from modemean.comparisons.results.write import dump_json, results_dict, results_tree
from modemean.comparisons.solvers import SOLVERS
from modemean.comparisons.solvers.nuts import summarise_draws
from modemean.reports import load_all, render
from modemean.reports.ranking import skew_headline
from modemean.reports.tables import lead_first

BOUNDARY = Flag(
    "map",
    "boundary",
    0.0,
    "map: on the boundary tau = 0 (the optimum is at the edge of the support; the "
    "printed value 0.001 is where the iterations stopped)",
)
MAP_FAILED = "find_MAP stopped at iteration 0 or reported failure from all 4 starts, so there is no mode to report"
EM_NA = "EM does not apply: the model declares no latent variables (LATENT is empty)"


def _nuts(seed: int) -> Fit:
    rng = np.random.default_rng(seed)
    posterior = {"mu": rng.normal(1.0, 0.5, (2, 300)), "tau": rng.gamma(1.5, 2.0, (2, 300))}
    draws = az.from_dict({"posterior": posterior, "sample_stats": {"diverging": np.zeros((2, 300), dtype=bool)}})
    diagnostics = {
        "sampler": "pymc NUTS",
        "draws": 300,
        "tune": 300,
        "chains": 2,
        "divergences": 0,
        "max_r_hat": 1.0,
        "min_ess_bulk": 550.0,
        "settings": {},
    }
    return Fit(
        "nuts",
        "ok",
        "",
        1.5,
        summarise_draws(draws.posterior),
        draws,
        converged=True,
        n_iter=300,
        diagnostics=diagnostics,
    )


def _write(out, name, fits):
    table = make_table(fits, ["mu", "tau"])
    info = {
        "title": f"Toy {name}",
        "story": f"The {name} story.",
        "why_skewed": "tau is a scale near 0.",
        "references": ["A. Author (2020). A paper."],
    }
    settings = {"seed": 1, "draws": 300, "tune": 300, "chains": 2, "n_init": 2, "solvers": list(fits)}
    folder = out / name
    folder.mkdir(parents=True)
    results_tree(fits, table).to_netcdf(folder / "results.nc", engine="h5netcdf")
    dump_json(results_dict(name, info, settings, fits, table, f"models/{name}.py"), folder / "results.json")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    skewed_map = Fit(
        "map",
        "ok",
        "",
        0.4,
        {
            "map": {"mu": 1.0, "tau": 0.001},
            "map_unconstrained": {"mu": 1.0, "tau": 1.6},
            "laplace_sd": {"mu": 0.5, "tau": 1.2},
        },
        converged=True,
        n_iter=12,
        flags={"tau": [BOUNDARY]},
        diagnostics={
            "optimizer": "L-BFGS-B",
            "n_starts_agreeing": 1,
            "starts": [{"start": 0, "success": True, "nit": 12, "message": "CONVERGENCE", "log_density": -3.2}],
        },
    )
    _write(out, "skewed", {"map": skewed_map, "em": Fit("em", "not_applicable", EM_NA), "nuts": _nuts(1)})
    traces = {
        "em": [np.array([-9.0, -5.0, -4.0, -4.2, -3.9, -3.9]), np.array([-7.0, -4.5, -3.9])],
        "mle": [np.array([-8.0, -3.0, -2.5, -2.5])],
    }
    restarts = {
        "restarts": [
            {
                "restart": 0,
                "objective": -3.9,
                "n_iter": 5,
                "converged": True,
                "n_decreases": 1,
                "error": "",
                "params": {"mu": 1.1, "tau": 2.0},
            }
        ],
        "best_restart": 0,
        "objective_spread": 0.0,
        "n_decreases": 1,
        "largest_decrease": -0.2,
        "n_failed": 0,
    }
    em = Fit(
        "em",
        "ok",
        "em: the objective decreased in 1 iteration(s)",
        0.2,
        {"em": {"mu": 1.1, "tau": 2.0}, "mle": {"mu": 1.2, "tau": 1.5}},
        traces=traces,
        converged=True,
        n_iter=5,
        diagnostics={"em": restarts, "mle": {**restarts, "n_decreases": 0}},
    )
    _write(out, "broken", {"map": Fit("map", "failed", MAP_FAILED, 0.3), "em": em, "nuts": _nuts(2)})
    index = render(out, extra_pages=[("EM step by step", "teaching/em.html")])
    return out, index


class _Page(HTMLParser):
    """Rows of the comparison table (by ``data-parameter``), image sources and links."""

    def __init__(self, text):
        super().__init__()
        self.rows, self.images, self.links, self._row = {}, [], [], None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr" and "data-parameter" in attrs:
            self._row = attrs["data-parameter"]
            self.rows[self._row] = []
        elif tag in ("td", "th") and self._row is not None:
            self.rows[self._row].append("")
        elif tag == "img":
            self.images.append(attrs["src"])
        elif tag == "a":
            self.links.append(attrs["href"])

    def handle_endtag(self, tag):
        if tag == "tr":
            self._row = None

    def handle_data(self, data):
        if self._row is not None and self.rows[self._row]:
            self.rows[self._row][-1] += data


def _cells(page: _Page, parameter: str) -> dict[str, str]:
    """A row's cells by column; the page shows no column of an optional solver that was not run."""
    owners = column_owners()
    shown = lead_first(c for c in columns() if SOLVERS[owners[c]["solvers"][0]].default)
    if len(page.rows[parameter]) == len(shown) + 2:  # the results record gap kinds: shown right after gap_sd
        shown.insert(shown.index("gap_sd") + 1, "gap_kind")
    return dict(zip(["parameter", *shown], page.rows[parameter], strict=True))


def test_table_lists_every_parameter(site):
    out, _ = site
    for name in ("skewed", "broken"):
        page = _Page((out / name / "index.html").read_text())
        assert list(page.rows) == list(json.loads((out / name / "results.json").read_text())["parameters"])


def test_not_applicable_em_is_explained_in_words(site):
    out, _ = site
    text = (out / "skewed" / "index.html").read_text()
    cells = _cells(_Page(text), "tau")
    assert cells["em"] == cells["mle"] == "EM not applicable"
    assert EM_NA in text  # the solver's message is on the page, not only a blank


def test_failed_solver_is_explained_in_words(site):
    out, _ = site
    text = (out / "broken" / "index.html").read_text()
    cells = _cells(_Page(text), "mu")
    for column in ("map", "map_unconstrained", "laplace_sd", "gap_sd"):
        assert cells[column] == "find_MAP failed"
    assert float(cells["em"]) == pytest.approx(1.1)
    assert MAP_FAILED in text
    assert "find_MAP failed, so its columns are empty" in text  # the verdict says so too


def test_boundary_cell_and_verdict(site):
    out, _ = site
    text = (out / "skewed" / "index.html").read_text()
    cells = _cells(_Page(text), "tau")
    assert cells["map"].startswith("0.001") and "on the boundary tau = 0" in cells["map"]
    assert "tau: the posterior mean lies" in text and "sits on the boundary tau = 0" in text
    assert "the Laplace approximation puts 50% of its mass below zero" in text


def test_no_bare_missing_values(site):
    out, _ = site
    for name in ("skewed", "broken"):
        page = _Page((out / name / "index.html").read_text())
        for parameter, cells in page.rows.items():
            assert all(c.strip() and c.strip() not in ("—", "None", "nan", "null") for c in cells), (name, parameter)


def test_figures_exist_and_em_trace_only_where_em_ran(site):
    out, _ = site
    for name in ("skewed", "broken"):
        page = _Page((out / name / "index.html").read_text())
        assert page.images, name
        for src in page.images:
            assert (out / name / src).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert ("fig-em-trace.png" in page.images) == (name == "broken")
        assert "fig-reparameterisation.png" in page.images  # tau has only positive draws
    assert "No EM trace: EM not applicable" in (out / "skewed" / "index.html").read_text()


def test_index_sorted_by_gap_with_statuses_and_extra_pages(site):
    out, index = site
    text = index.read_text()
    results = load_all(out)
    gaps = {r.name: abs(skew_headline(r)[1]) if skew_headline(r) else -1 for r in results}  # skew gaps rank
    order = sorted(gaps, key=lambda n: -gaps[n])
    assert text.index(f'data-model="{order[0]}"') < text.index(f'data-model="{order[1]}"')
    # broken: no MAP, so its headline (a skew gap) is measured from EM's marginal mode
    row = unescape(text[text.index('data-model="broken"') :])
    assert "from EM's mode" in row[: row.index("</tr>")] and "find_MAP found none" in row[: row.index("</tr>")]
    assert 'href="teaching/em.html"' in text
    links = _Page(text).links
    assert {"skewed/index.html", "broken/index.html", "skewed/results.json", "broken/results.nc"} <= set(links)


def test_cli_report(site, tmp_path, capsys):
    out, _ = site
    assert main(["report", "skewed", "--out", str(out)]) == 0
    assert str(out / "index.html") in capsys.readouterr().out
    assert main(["report", "--out", str(tmp_path / "empty")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "run 'modemean run all" in err
    assert main(["report", "missing", "--out", str(out)]) == 2
    assert "run 'modemean run missing" in capsys.readouterr().err


def test_no_mode_is_explained_and_the_gap_is_measured_from_em(tmp_path):
    """A joint density without a mode (find_MAP's point still rising): gap_sd is withheld, not printed."""
    note = Flag(
        "map", "no_mode", 900.0, "map: not a mode: the log density is still rising where find_MAP stopped (tau = 705.5)"
    )
    runaway = Fit(
        "map",
        "ok",
        "find_MAP found no mode",
        0.4,
        {
            "map": {"mu": 1.0, "tau": 705.5},
            "map_unconstrained": {"mu": 1.0, "tau": 1e7},
            "laplace_sd": {"mu": 0.5, "tau": 300.0},
        },
        converged=False,
        n_iter=40,
        flags={"tau": [note]},
        diagnostics={"no_mode": True, "still_rising": {"tau": 900.0}},
    )
    em = Fit(
        "em",
        "ok",
        "",
        0.2,
        {"em": {"mu": 1.1, "tau": 2.0}, "mle": {"mu": 1.2, "tau": 1.5}},
        converged=True,
        n_iter=5,
        diagnostics={},
    )
    fits = {"map": runaway, "em": em, "nuts": _nuts(3)}
    table = make_table(fits, ["mu", "tau"])
    assert table["gap_sd"].isna().all()  # the point is not a mode in any coordinate
    assert table.loc["tau", "gap_sd_em"] == pytest.approx((table.loc["tau", "mean"] - 2.0) / table.loc["tau", "sd"])
    _write(tmp_path, "runaway", fits)
    render(tmp_path)
    page = (tmp_path / "runaway" / "index.html").read_text()
    assert ">no mode</a>" in page and "gap_sd_em measures the distance from EM" in page
    assert "find_MAP found no mode (the joint density is unbounded or keeps rising" in page
    index = (tmp_path / "index.html").read_text()
    assert '<td class="status-no_mode" title="find_MAP found no mode">no mode</td>' in index  # not a green "ok"
    [loaded] = load_all(tmp_path)
    assert loaded.headline()[0] == "tau" and loaded.headline()[2] == "gap_sd_em"
    assert (
        "find_MAP found no mode: no point is the peak, so gap_sd (the distance from the MAP) is withheld; the "
        "distances below are from EM" in page
    )


def test_no_mode_without_em_says_so_and_ranks_nothing(tmp_path):
    """A researcher's centred model without LATENT: no mode, no EM, so no gap at all -- said in words."""
    message = "find_MAP found no mode: the log density is unbounded as tau -> 0 (see the notes)"
    flag = Flag("map", "no_mode", 0.0, "map: not a mode: the log density is unbounded as tau -> 0")
    runaway = Fit(
        "map",
        "ok",
        message,
        0.4,
        {"map": {"mu": 1.0, "tau": 1e-12}},
        converged=False,
        n_iter=40,
        diagnostics={"no_mode": True, "unbounded": {"tau": {"bound": 0.0, "rise_per_decade": 18.4}}},
        flags={"tau": [flag]},
    )
    fits = {"map": runaway, "em": Fit("em", "not_applicable", "EM does not apply: no LATENT"), "nuts": _nuts(3)}
    _write(tmp_path, "centred", fits)
    render(tmp_path)
    page = (tmp_path / "centred" / "index.html").read_text()
    assert (
        "find_MAP found no mode: the log density is unbounded as tau -&gt; 0: no point is the peak, so gap_sd "
        "(the distance from the MAP) is withheld; declare the random effects in LATENT"
    ) in page
    [loaded] = load_all(tmp_path)
    assert loaded.headline() is None
    assert "— (needs a mode and NUTS)" in (tmp_path / "index.html").read_text()


def test_model_highlights_are_rendered(tmp_path):
    fits = {
        "map": Fit("map", "ok", "", 0.1, {"map": {"mu": 1.0, "tau": 1.0}}, converged=True, n_iter=3),
        "nuts": _nuts(4),
    }
    table = make_table(fits, ["mu", "tau"])
    folder = tmp_path / "lit"
    folder.mkdir()
    highlights = {"P(tau < 0), Laplace approximation at the mode": 0.0812, "coefficients at 0": ["b[1]", "b[3]"]}
    results_tree(fits, table).to_netcdf(folder / "results.nc", engine="h5netcdf")
    dump_json(
        results_dict(
            "lit", {"title": "t"}, {"seed": 1, "solvers": ["map", "nuts"]}, fits, table, "x.py", highlights=highlights
        ),
        folder / "results.json",
    )
    render(tmp_path)
    page = (folder / "index.html").read_text()
    assert "This model in numbers" in page
    assert '<th scope="row">P(tau &lt; 0), Laplace approximation at the mode</th><td>0.0812</td>' in page
    assert "<td>b[1], b[3]</td>" in page


def test_up_to_date_pages_are_kept_and_stale_ones_rerendered(site):
    import os
    import time

    out, _ = site
    page = out / "skewed" / "index.html"
    before = page.stat().st_mtime_ns
    render(out)
    assert page.stat().st_mtime_ns == before  # newer than its results: kept
    results = out / "skewed" / "results.json"
    later = time.time() + 5
    os.utime(results, (later, later))  # the results changed
    render(out)
    assert page.stat().st_mtime_ns > before
    again = page.stat().st_mtime_ns
    render(out, force=True)
    assert page.stat().st_mtime_ns > again


def test_pages_rendered_by_worker_processes_are_the_pages_rendered_here(site):
    """``jobs=2`` renders the model pages in two worker processes: the same HTML and figures as in one."""
    out, _ = site
    files = lambda: {p.relative_to(out): p.read_bytes() for p in out.glob("*/*") if p.suffix in (".html", ".png")}
    render(out, force=True, extra_pages=[("EM step by step", "teaching/em.html")])
    here = files()
    render(out, force=True, extra_pages=[("EM step by step", "teaching/em.html")], jobs=2)
    assert files() == here and len(here) > 4


def test_an_approximate_em_is_labelled_in_the_table_the_page_and_the_text(tmp_path):
    """em_kind travels from the EM fit to results.json, the printed table (≈, footnote) and the page."""
    from modemean.comparisons.results.table import format_table

    em = Fit(
        "em",
        "ok",
        "EM is Laplace (approximate): its objective is an approximate marginal likelihood",
        0.2,
        {"em": {"mu": 1.1, "tau": 2.0}, "mle": {"mu": 1.2, "tau": 1.5}},
        converged=True,
        n_iter=5,
        diagnostics={"em_kind": "Laplace (approximate)"},
    )
    fits = {"em": em, "nuts": _nuts(4)}
    text = format_table(make_table(fits, ["mu", "tau"]), em_kind="Laplace (approximate)")
    assert "em≈" in text and "mle≈" in text and "≈ em, mle: EM is Laplace (approximate)" in text
    _write(tmp_path, "glmm", fits)
    assert (
        json.loads((tmp_path / "glmm" / "results.json").read_text())["solvers"]["em"]["diagnostics"]["em_kind"]
        == "Laplace (approximate)"
    )
    render(tmp_path)
    page = (tmp_path / "glmm" / "index.html").read_text()
    assert "EM here is <b>Laplace (approximate)</b>" in page and "Laplace-approximate marginal" in page
    assert ">em≈</th>" in page and ">mle≈</th>" in page
    exact = Fit(
        "em", "ok", "", 0.2, em.estimates, converged=True, n_iter=5, diagnostics={"em_kind": "exact (Gaussian)"}
    )
    _write(tmp_path, "lmm", {"em": exact, "nuts": _nuts(5)})
    render(tmp_path)
    page = (tmp_path / "lmm" / "index.html").read_text()
    assert "EM here is <b>exact (Gaussian)</b>" in page and ">em</th>" in page and "≈" not in page


def test_flags_are_read_by_kind_never_by_their_words(tmp_path):
    """A boundary flag worded differently still marks the cell, the † and the verdict: nothing parses the text."""
    worded = Flag("map", "boundary", 0.0, "map: tau sits at its lower limit")
    fits = {
        "map": Fit(
            "map", "ok", "", 0.1, {"map": {"mu": 1.0, "tau": 0.001}}, converged=True, n_iter=3, flags={"tau": [worded]}
        ),
        "nuts": _nuts(5),
    }
    table = make_table(fits, ["mu", "tau"])
    assert table.loc["tau", "flags"] == [worded] and table.loc["tau", "notes"] == worded.text
    assert "0.001†" in format_table(table)
    _write(tmp_path, "worded", fits)
    saved = json.loads((tmp_path / "worded" / "results.json").read_text())
    assert saved["parameters"]["tau"]["flags"] == [
        {"column": "map", "kind": "boundary", "value": 0.0, "text": "map: tau sits at its lower limit"}
    ]
    assert saved["solvers"]["map"]["flags"]["tau"] == saved["parameters"]["tau"]["flags"]
    render(tmp_path)
    page = (tmp_path / "worded" / "index.html").read_text()
    assert '<span class="why">on the boundary tau = 0</span>' in page and "sits on the boundary tau = 0" in page
    assert "<li><b>tau</b>: map: tau sits at its lower limit</li>" in page


def test_a_page_section_is_one_line(site, monkeypatch):
    """A new section is one entry in SECTIONS: rendered in order with its anchor; one that returns None is left out."""
    from modemean.reports import model_page as pages

    out, _ = site
    count = lambda r: f"<p>{len(r.parameters)} parameters</p>"  # noqa: E731
    with monkeypatch.context() as patch:
        patch.setattr(
            pages,
            "SECTIONS",
            [
                *pages.SECTIONS,
                pages.Section("count", "Counted", count),
                pages.Section("empty", "Never shown", lambda r: None),
            ],
        )
        render(out, ["skewed"], force=True)
    page = (out / "skewed" / "index.html").read_text()
    assert '<section class="section-count"><h2 id="count">Counted</h2><p>2 parameters</p></section>' in page
    assert page.index('id="metadata"') < page.index('id="count"') and "Never shown" not in page
    render(out, ["skewed"], force=True)  # back to the page without it, for the other tests
