"""The simulation-study page (``reports/study/``) on hand-written ``study.json`` files: made-up numbers that
pin the rendering (which row is marked, what is a tie, that every number of the JSON is on the page). The
numbers of a real study come from ``modemean study``; no solver runs here."""

import json
import re
from html import unescape

import pytest
from test_reports import _nuts
from test_reports import _write as _write_results

from modemean.cli import main
from modemean.reports import render
from modemean.reports.study.load import Study, load_study
from modemean.reports.study.words import in_short, plus_minus, smallest_rmse


def _est(n, bias, bias_mcse, rmse, rmse_mcse):
    return {"n": n, "bias": bias, "bias_mcse": bias_mcse, "rmse": rmse, "rmse_mcse": rmse_mcse}


def _coverage(n, covered):
    rate = covered / n
    return {
        "n": n,
        "covered": covered,
        "rate": rate,
        "se": (rate * (1 - rate) / n) ** 0.5,
        "nominal": 0.94,
        "missing": 0,
    }


def _sbc(counts, draws=99):
    n, bins = sum(counts), len(counts)
    return {
        "n": n,
        "low_ess": 0,
        "draws": draws,
        "bins": bins,
        "counts": counts,
        "expected": n / bins,
        "band": [1.0, 2 * n / bins + 2],
        "chi2": 3.2,
        "p_value": 0.52,
    }


def study_dict(solvers=("map", "em", "nuts"), failures=2, entries=3):
    """A study summary as ``modemean study`` writes it (schema 1), with made-up numbers."""
    keys = {"map": ["map", "em", "mle"], "em": [], "nuts": ["mean", "median", "mode"]}
    keys["map"] = ["map"] if "map" in solvers else []
    keys["em"] = ["em", "mle"] if "em" in solvers else []
    present = [k for s in solvers for k in keys[s]]
    table = {
        # mu: mean and median tie (0.05 apart, MCSE 0.10 each); mode 0.30 above the mean: beyond 2 x 0.141
        "mu": {
            "map": _est(38, 0.4, 0.5, 3.6, 0.12),
            "em": _est(38, 0.1, 0.5, 3.5, 0.10),
            "mle": _est(38, -0.2, 0.6, 4.0, 0.20),
            "mean": _est(38, 0.05, 0.5, 3.00, 0.10),
            "median": _est(38, 0.02, 0.5, 3.05, 0.10),
            "mode": _est(38, 0.0, 0.5, 3.30, 0.10),
        },
        # tau: the median alone has the smallest RMSE; MAP biased low
        "tau": {
            "map": _est(38, -1.9, 0.2, 3.5, 0.2),
            "em": _est(38, -1.5, 0.2, 3.1, 0.2),
            "mle": _est(38, -1.8, 0.2, 3.4, 0.2),
            "mean": _est(38, 0.3, 0.3, 2.30, 0.05),
            "median": _est(38, -0.1, 0.3, 2.00, 0.05),
            "mode": _est(38, -0.9, 0.3, 2.60, 0.05),
        },
    }
    for i in range(entries):  # a vector parameter (fewer figures to draw without it)
        table[f"eta[{i}]"] = {k: _est(38, 0.01 * i, 0.15, 0.9 + 0.01 * i, 0.05) for k in table["mu"]}
    estimators = {p: {k: v for k, v in rows.items() if k in present} for p, rows in table.items()}
    coverage = {}
    for i, p in enumerate(table):
        coverage[p] = {}
        if "nuts" in solvers:
            coverage[p]["hdi94"] = _coverage(38, 36 - i)
        if "map" in solvers:
            coverage[p]["laplace94"] = _coverage(38, 30 + i)
    sbc = {p: _sbc([4, 3, 5, 4, 3, 4, 5, 3, 4, 3]) for p in table} if "nuts" in solvers else {}
    return {
        "schema": 1,
        "model": "toy",
        "source": "models/toy.py",
        "truth": "prior",
        "key": "0" * 64,
        "complete": True,
        "settings": {
            "replicates": 38 + failures,
            "solvers": list(solvers),
            "seed": 7,
            "workers": 2,
            "draws": 200,
            "tune": 200,
            "chains": 2,
        },
        "replicates": {
            "done": 38,
            "failed": failures,
            "seconds": {"total": 123.4, "mean": 6.1, "median": 5.9},
            "failures": [
                {"replicate": 3 + 10 * i, "error": f"LinAlgError: singular matrix <{i}>"} for i in range(failures)
            ],
        },
        "estimators": estimators,
        "coverage": coverage,
        "sbc": sbc,
    }


def _write(out, name, data):
    (out / name).mkdir(parents=True, exist_ok=True)
    (out / name / "study.json").write_text(json.dumps(data))


def _text(html):
    inline = re.sub(r"</?(?:b|i|code|a|span)\b[^>]*>", "", html)
    return unescape(re.sub(r"<[^>]+>", " ", inline))


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    out = tmp_path_factory.mktemp("studies")
    data = study_dict()
    _write(out, "toy", data)
    render(out)
    return out, data, (out / "toy" / "study.html").read_text()


def test_every_parameter_and_estimator_listed(rendered):
    out, data, html = rendered
    rows = re.findall(r'data-parameter="([^"]+)" data-estimator="([^"]+)"', html)
    assert sorted(rows) == sorted((p, e) for p, ests in data["estimators"].items() for e in ests)
    for p, ests in data["estimators"].items():
        for e, v in ests.items():
            row = re.search(rf'<tr[^>]*data-parameter="{re.escape(p)}" data-estimator="{e}">.*?</tr>', html).group(0)
            assert plus_minus(v["rmse"], v["rmse_mcse"]) in unescape(row)
            assert plus_minus(v["bias"], v["bias_mcse"]) in unescape(row)


def test_best_rmse_marked_and_ties_called_ties(rendered):
    _, _, html = rendered
    marked = {
        (p, e): css
        for css, p, e in re.findall(r'<tr class="(best|tied)" data-parameter="([^"]+)" data-estimator="([^"]+)"', html)
    }
    assert marked[("tau", "median")] == "best"
    assert marked[("mu", "mean")] == marked[("mu", "median")] == "tied"
    assert {k for k in marked if k[0] in ("mu", "tau")} == {("tau", "median"), ("mu", "mean"), ("mu", "median")}
    text = _text(html)
    # tau: the runner-up and both modes, with the ratio to the smallest RMSE and their bias beyond 2 MCSE
    assert (
        "tau: the posterior median has the smallest RMSE, 2.000 ± 0.050; posterior mean: 2.300 ± 0.050 (× 1.15), "
        "MAP-EM (marginal mode): 3.10 ± 0.20 (× 1.55), MAP (find_MAP): 3.50 ± 0.20 (× 1.75). Bias beyond 2 MCSE: "
        "posterior mode (of the draws) -0.90 ± 0.30, MAP-EM (marginal mode) -1.50 ± 0.20, MLE (ML-EM) -1.80 ± 0.20, "
        "MAP (find_MAP) -1.90 ± 0.20."
    ) in text
    assert "mu: the posterior mean and posterior median tie for the smallest RMSE (3.00 ± 0.10, 3.05 ± 0.10); " in text
    assert "eta (3 entries): all estimates tie for 3 of 3 entries" in text
    assert (
        "In short: the posterior median has the smallest RMSE, or ties for it, for every parameter (mu, tau); the "
        "RMSE of MAP (find_MAP) is up to 1.75× the smallest (tau); the RMSE of MAP-EM (marginal mode) is up to 1.55× "
        "the smallest (tau). Ties are what 38 replicates cannot separate"
    ) in text
    split = study_dict()
    split["estimators"]["mu"]["median"]["rmse"] = 3.5  # mu: the mean alone; tau: the median alone
    assert in_short(Study("toy", None, split)).startswith(
        "no single estimate has (or ties for) the smallest RMSE for every parameter (mu, tau): see each below; "
    )
    # eta entries are equal for every estimator: six-way ties, never a winner
    assert all(marked[(f"eta[{i}]", e)] == "tied" for i in range(3) for e in ("map", "mean", "mode"))


def test_smallest_rmse_tie_rule():
    rows = {
        "a": {"rmse": 1.0, "rmse_mcse": 0.1},
        "b": {"rmse": 1.28, "rmse_mcse": 0.1},
        "c": {"rmse": 1.29, "rmse_mcse": 0.1},
    }
    assert smallest_rmse(rows) == (["a", "b"], ["a", "b", "c"])  # 0.28 <= 2 x 0.1414; 0.29 is not
    assert smallest_rmse({"a": {"rmse": None}, "b": {"rmse": 2.0, "rmse_mcse": None}}) == (["b"], ["b"])
    # one replicate: no MCSE, so no ranking (a tie), however far apart
    assert smallest_rmse({"a": {"rmse": 1.0, "rmse_mcse": 0.1}, "b": {"rmse": 5.0, "rmse_mcse": None}})[0] == ["a", "b"]
    assert plus_minus(-0.81234, 0.1) == "-0.81 ± 0.10" and plus_minus(123.4, 23.0) == "123 ± 23"


def test_coverage_numbers_equal_the_json(rendered):
    _, data, html = rendered
    for p, kinds in data["coverage"].items():
        row = re.search(
            rf'<tr data-parameter="{re.escape(p)}"><th scope="row">.*?</tr>', html.split('class="coverage"', 1)[1]
        )
        for kind, c in kinds.items():
            cell = re.search(
                rf'<td data-interval="{kind}">(\d+) / (\d+)</td><td data-rate="([^"]+)">([^<]+)</td>', row.group(0)
            )
            assert (int(cell[1]), int(cell[2])) == (c["covered"], c["n"])
            assert float(cell[3]) == c["rate"]
            assert unescape(cell[4]) == f"{100 * c['rate']:.1f}% ± {100 * c['se']:.1f}%"
    # tau's HDI covered 35 of 38 (92.1%): within 2 binomial s.e. of 94%; its Laplace 31 of 38 (81.6%): below
    text = _text(html)
    assert (
        "Coverage: 94% HDI 92.1% ± 4.4% (consistent with 94%), Laplace interval 81.6% ± 6.3% (below 94%: too narrow)."
    ) in text


def test_failures_listed(rendered):
    _, data, html = rendered
    for f in data["replicates"]["failures"]:
        error = f["error"].replace("<", "&lt;").replace(">", "&gt;")
        assert f'<tr data-replicate="{f["replicate"]}"><td>{f["replicate"]}</td><td>{error}</td>' in html
    assert "Failed replicates (2)" in html


def test_sbc_figure_and_table(rendered):
    out, data, html = rendered
    assert (out / "toy" / "study-fig-sbc.png").stat().st_size > 1000
    assert (out / "toy" / "study-fig-sbc-eta.png").is_file()
    for p in data["sbc"]:
        assert f'<tr data-parameter="{p}"><th scope="row">{p}</th><td>99</td><td>10</td><td>38</td>' in html


def test_index_links_the_study_with_and_without_results(rendered, tmp_path):
    out, _, _ = rendered  # a study alone: no results.json in the folder
    index = (out / "index.html").read_text()
    assert '<a href="toy/study.html">toy</a>' in index and 'data-study="toy"' in index
    assert "mu: tie (posterior mean and posterior median); tau: posterior median" in index
    assert 'href="index.html">model page' not in (out / "toy" / "study.html").read_text()
    # a model with results and a study, and one with results only
    _write_results(tmp_path, "toy", {"nuts": _nuts(3)})
    _write_results(tmp_path, "plain", {"nuts": _nuts(4)})
    _write(tmp_path, "toy", study_dict())
    index = render(tmp_path, ["toy"]).read_text()  # plain: on the index, its page not needed
    toy_row = index[index.index('data-model="toy"') :]
    assert '<a href="toy/study.html">study</a>' in toy_row[: toy_row.index("</tr>")]
    plain_row = index[index.index('data-model="plain"') :]
    assert "study" not in plain_row[: plain_row.index("</tr>")]
    assert '<a href="study.html">simulation study</a>' in (tmp_path / "toy" / "index.html").read_text()
    assert '<a href="index.html">model page</a>' in (tmp_path / "toy" / "study.html").read_text()


@pytest.mark.parametrize("solvers", [("nuts",), ("map",), ("map", "em")])
def test_missing_solvers_render(tmp_path, solvers):
    data = study_dict(solvers, failures=0, entries=0)
    _write(tmp_path, "toy", data)
    assert main(["report", "--out", str(tmp_path)]) == 0
    html = (tmp_path / "toy" / "study.html").read_text()
    assert "No replicate failed." in html
    rows = re.findall(r'data-parameter="([^"]+)" data-estimator="([^"]+)"', html)
    assert sorted(rows) == sorted((p, e) for p, ests in data["estimators"].items() for e in ests)
    if "nuts" not in solvers:
        assert "No SBC: SBC ranks NUTS's draws, and NUTS was not run" in unescape(html)
        assert 'data-interval="hdi94"' not in html


def test_incomplete_study_missing_intervals_and_parameters_first(tmp_path):
    data = study_dict(failures=0)
    data["complete"], data["settings"]["replicates"] = False, 50
    data["coverage"]["tau"]["laplace94"]["missing"] = 4
    data["sbc"]["tau"]["low_ess"] = 5
    data["parameters"] = ["tau", "mu"]  # the model's parameters (the engine's order); eta is a latent variable
    _write(tmp_path, "toy", data)
    text = _text(render(tmp_path).parent.joinpath("toy", "study.html").read_text())
    assert "an incomplete study: 38 of 50 replicates finished (the same command resumes it)" in text
    assert "4 more without an interval" in text
    assert "low ESS: replicates whose bulk ESS was below the draws ranked" in text and "pile up at both ends" in text
    assert text.index("tau: the posterior median") < text.index("mu: the posterior mean") < text.index("eta (3")
    assert "eta (3 entries, latent or derived): all estimates tie" in text


def test_fixed_truth_and_all_failed(tmp_path):
    fixed = study_dict(failures=0, entries=0)
    fixed["truth"], fixed["sbc"] = "fixed", {}
    _write(tmp_path, "fixed", fixed)
    failed = study_dict(failures=3)
    failed["replicates"]["done"], failed["estimators"], failed["coverage"], failed["sbc"] = 0, {}, {}, {}
    _write(tmp_path, "failed", failed)
    render(tmp_path)
    text = _text((tmp_path / "fixed" / "study.html").read_text())
    assert "No SBC: SBC needs the true values drawn from the prior; this study fixed them." in text
    assert "θ was fixed: these numbers hold at this θ only." in text and "As theory says" not in text
    text = _text((tmp_path / "failed" / "study.html").read_text())
    assert "No replicate finished: there is nothing to compare yet." in text and "Failed replicates (3)" in text
    assert "LinAlgError: singular matrix <2>" in text


def test_report_names_a_study_only_model(tmp_path, capsys):
    _write(tmp_path, "toy", study_dict(("nuts",), failures=0, entries=0))
    assert main(["report", "toy", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "toy" / "study.html").is_file() and (tmp_path / "index.html").is_file()
    assert main(["report", "other", "--out", str(tmp_path)]) == 2
    assert "no results found in" in capsys.readouterr().err


def test_bad_study_file_one_line(tmp_path, capsys):
    (tmp_path / "toy").mkdir()
    (tmp_path / "toy" / "study.json").write_text('{"schema": 2}')
    assert main(["report", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is not a modemean study summary" in err and "modemean study toy" in err
    with pytest.raises(Exception, match="no study of 'other'"):
        load_study(tmp_path, "other")


def test_study_page_in_the_browser(page, rendered):
    """Chromium (slow: the browser fixture): the study page and the index open without console errors, every
    image loads (the vector parameters' figures behind a click too) and every link resolves."""
    from test_browser import _follow_links, _open

    out, data, _ = rendered
    _open(page, out / "toy" / "study.html")
    shown = page.eval_on_selector_all(
        "table.estimators tr[data-parameter]", "rows => rows.map(r => r.dataset.parameter)"
    )
    assert set(shown) == set(data["estimators"])
    _follow_links(page, out / "toy" / "study.html")
    _open(page, out / "index.html")
    assert page.eval_on_selector_all("tr[data-study] a", "links => links.map(a => a.getAttribute('href'))") == [
        "toy/study.html",
        "toy/study.json",
    ]
    _follow_links(page, out / "index.html")
