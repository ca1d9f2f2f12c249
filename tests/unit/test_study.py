"""Simulation studies (``modemean study``): closed forms on a conjugate model, resume, workers, bad input."""

import json
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from modemean.cli import main
from modemean.comparisons.errors import ModemeanError
from modemean.comparisons.studies import study
from modemean.comparisons.studies.replicate import Replicator, replicate_seeds
from modemean.comparisons.studies.summary import sbc_bins, summarise

CONJUGATE = str(Path(__file__).parent / "study_models" / "normal_mean.py")
TAU0, SIGMA, N = 2.0, 1.0, 5  # as in the model file
POSTERIOR_VAR = 1 / (1 / TAU0**2 + N / SIGMA**2)
FAST = {"n_starts": 1}  # find_MAP from the initial point only: the conjugate posterior has one mode
SMALL_NUTS = {"draws": 200, "tune": 300, "chains": 2}


def test_replicate_i_owns_the_ith_spawned_seed_sequence():
    children = np.random.SeedSequence(7).spawn(5)
    for i, child in enumerate(children):
        simulate, fit = (int(c.generate_state(1, dtype=np.uint32)[0]) for c in child.spawn(2))
        assert replicate_seeds(7, i) == (simulate, fit)
    assert len(set(replicate_seeds(7, i) for i in range(5))) == 5


def test_summary_matches_direct_formulas():
    rng = np.random.default_rng(1)
    truths, maps, sds = rng.normal(size=40), rng.normal(size=40), rng.uniform(0.5, 2, size=40)
    records = [
        {
            "replicate": i,
            "truth": {"a": truths[i]},
            "seconds": 1.0 + i,
            "error": None,
            "solvers": {
                "map": {"status": "ok", "estimates": {"map": {"a": maps[i]}, "laplace_sd": {"a": sds[i]}}},
                "nuts": {
                    "status": "ok",
                    "estimates": {},
                    "sbc": {"draws": 99, "ranks": {"a": (7 * i) % 100}, "ess_bulk": {"a": 50.0 + i}},
                },
            },
        }
        for i in range(40)
    ]
    records[3] = {"replicate": 3, "error": "ValueError: simulated", "seconds": 0.5}
    ok = [i for i in range(40) if i != 3]
    s = summarise(
        records[::-1], model="m", source="s", truth="prior", settings={"replicates": 40}, key="k", parameters=["a"]
    )
    err = maps[ok] - truths[ok]
    row = s["estimators"]["a"]["map"]
    assert row["n"] == 39 and row["bias"] == pytest.approx(err.mean(), rel=1e-12)
    assert row["bias_mcse"] == pytest.approx(err.std(ddof=1) / np.sqrt(39), rel=1e-12)
    rmse = np.sqrt(np.mean(err**2))
    assert row["rmse"] == pytest.approx(rmse, rel=1e-12)
    assert row["rmse_mcse"] == pytest.approx((err**2).std(ddof=1) / (2 * rmse * np.sqrt(39)), rel=1e-12)
    covered = np.abs(err) <= stats.norm.ppf(0.97) * sds[ok]
    cov = s["coverage"]["a"]["laplace94"]
    assert (cov["n"], cov["covered"]) == (39, int(covered.sum()))
    assert cov["se"] == pytest.approx(np.sqrt(cov["rate"] * (1 - cov["rate"]) / 39))
    sbc = s["sbc"]["a"]
    ranks = np.array([(7 * i) % 100 for i in ok])
    assert sbc["bins"] == 5 and sbc["counts"] == [int(np.sum(ranks // 20 == b)) for b in range(5)]
    assert sbc["low_ess"] == 39 - sum(50 + i >= 99 for i in ok)
    assert s["replicates"]["done"] == 39 and s["replicates"]["failures"] == [
        {"replicate": 3, "error": "ValueError: simulated"}
    ]
    assert s["replicates"]["seconds"]["median"] == np.median([1.0 + i for i in ok] + [0.5])
    assert sbc_bins(99, 200) == 20 and sbc_bins(99, 60) == 10 and sbc_bins(49, 1000) == 10


def test_prior_simulation_keeps_missing_entries_and_draws_discrete_labels():
    import pymc as pm

    from modemean.comparisons.spec import load_spec, spec_from_parts

    def build(data):
        with pm.Model() as model:
            mu = pm.Normal("mu", 0.0, 3.0)
            pm.Normal("y", mu, 1.0, observed=data["y"])
        return model

    y = np.array([0.5, np.nan, 1.5, 2.0, np.nan])
    with pytest.warns(pm.exceptions.ImputationWarning):
        spec = spec_from_parts(build, {"y": y})
    rep = Replicator("custom", "prior", ("map",), {"seed": 1, "n_starts": 1}, spec=spec)
    truth, data = rep.simulate(123)
    assert np.array_equal(np.isnan(data["y"]), np.isnan(y)) and not np.array_equal(data["y"][[0, 2, 3]], y[[0, 2, 3]])
    assert set(truth) == {"mu", "y_unobserved"} and truth["y_unobserved"].shape == (2,)
    again, data2 = rep.simulate(123)
    assert np.array_equal(data["y"], data2["y"], equal_nan=True) and again["mu"] == truth["mu"]

    mixture = Replicator(
        "two_gaussians", "prior", ("map",), {"seed": 1, "n_starts": 1}, spec=load_spec("two_gaussians")
    )
    truth, data = mixture.simulate(5)
    labels = [k for k, v in truth.items() if np.asarray(v).dtype.kind in "iu"]
    assert labels and truth[labels[0]].shape == data["x"].shape  # one label per observation, drawn with it


@pytest.mark.slow
def test_fixed_truth_map_bias_and_rmse_match_the_conjugate_closed_form(tmp_path):
    # mu held at 1: the MAP (= posterior mean) is shrunk, bias -(1/tau0^2) V, variance (N/sigma^2) V^2
    result = study(CONJUGATE, replicates=40, truth="fixed", solvers="map", workers=1, out=tmp_path, **FAST)
    row = result.summary["estimators"]["mu"]["map"]
    bias = -(1 / TAU0**2) * POSTERIOR_VAR * 1.0
    rmse = np.sqrt(bias**2 + N / SIGMA**2 * POSTERIOR_VAR**2)
    assert row["n"] == 40 and abs(row["bias"] - bias) < 3 * row["bias_mcse"]
    assert abs(row["rmse"] - rmse) < 3 * row["rmse_mcse"]
    assert all(r["truth"]["mu"] == 1.0 for r in result.records)
    # map +- 1.88 posterior sd covers mu = 1 when |map - 1| <= 1.88 sqrt(V), map - 1 ~ N(bias, N V^2 / sigma^2)
    assert np.isclose(result.records[0]["solvers"]["map"]["estimates"]["laplace_sd"]["mu"], np.sqrt(POSTERIOR_VAR))
    half, spread = stats.norm.ppf(0.97) * np.sqrt(POSTERIOR_VAR), np.sqrt(N) / SIGMA * POSTERIOR_VAR
    rate = stats.norm.cdf((half - bias) / spread) - stats.norm.cdf((-half - bias) / spread)
    cov = result.summary["coverage"]["mu"]["laplace94"]
    assert abs(cov["rate"] - rate) < 3 * np.sqrt(rate * (1 - rate) / 40) + 1 / 40


@pytest.mark.slow
def test_prior_truth_estimators_coverage_and_sbc_on_the_conjugate_model(tmp_path):
    result = study(CONJUGATE, replicates=60, solvers="map,nuts", workers=1, out=tmp_path, **FAST, **SMALL_NUTS)
    s = result.summary
    assert s["replicates"] == {**s["replicates"], "done": 60, "failed": 0}
    for est in ("map", "mean", "median"):  # posterior mean = median = mode: bias 0, RMSE = posterior sd
        row = s["estimators"]["mu"][est]
        assert abs(row["bias"]) < 3 * row["bias_mcse"], (est, row)
        assert abs(row["rmse"] - np.sqrt(POSTERIOR_VAR)) < 3 * row["rmse_mcse"], (est, row)
    for kind in ("laplace94", "hdi94"):
        cov = s["coverage"]["mu"][kind]
        assert abs(cov["rate"] - 0.94) < 3 * np.sqrt(0.94 * 0.06 / cov["n"]), (kind, cov)
    sbc = s["sbc"]["mu"]
    assert sbc["n"] == 60 and sum(sbc["counts"]) == 60 and sbc["p_value"] > 0.01, sbc


def test_an_interrupted_study_resumes_without_losing_or_recomputing(tmp_path):
    first, seen = tmp_path / "killed", []

    def stop_after_two(record):
        seen.append(record["replicate"])
        if len(seen) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt, match="2 of 4 replicates are in .*run the same study again"):
        study(CONJUGATE, replicates=4, solvers="map", workers=1, out=first, callback=stop_after_two, **FAST)
    folder = first / "normal_mean" / "study"
    files = sorted(folder.glob("replicate_*.json"))
    assert [f.name for f in files] == [f"replicate_{i:05d}.json" for i in range(2)]
    before = {f.name: (f.stat().st_mtime_ns, f.read_bytes()) for f in files}
    partial = json.loads((first / "normal_mean" / "study.json").read_text())
    assert partial["replicates"]["done"] == 2 and not partial["complete"]

    resumed = study(CONJUGATE, replicates=4, solvers="map", workers=1, out=first, **FAST)
    assert resumed.computed == 2 and resumed.summary["complete"]
    assert {f.name: (f.stat().st_mtime_ns, f.read_bytes()) for f in files} == before
    straight = study(CONJUGATE, replicates=4, solvers="map", workers=1, out=tmp_path / "straight", **FAST)
    for part in ("estimators", "coverage", "sbc"):
        assert resumed.summary[part] == straight.summary[part]
    assert study(CONJUGATE, replicates=3, solvers="map", workers=1, out=first, **FAST).computed == 0  # fewer: read
    with pytest.raises(ModemeanError, match="another model source, data, truth or settings"):
        study(CONJUGATE, replicates=4, solvers="map", workers=1, out=first, n_starts=2)


@pytest.mark.slow
def test_two_local_workers_give_the_numbers_of_one(tmp_path):
    args = dict(replicates=4, solvers="map,nuts", out=None, **FAST, **SMALL_NUTS)
    one = study(CONJUGATE, **{**args, "out": tmp_path / "one"}, workers=1)
    two = study(CONJUGATE, **{**args, "out": tmp_path / "two"}, workers=2)
    assert two.computed == one.computed == 4
    for part in ("estimators", "coverage", "sbc"):
        assert two.summary[part] == one.summary[part]
    for a, b in zip(one.records, two.records, strict=True):
        assert a["truth"] == b["truth"] and a["seeds"] == b["seeds"]
        for name in ("map", "nuts"):
            assert a["solvers"][name]["estimates"] == b["solvers"][name]["estimates"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["nosuch_model", "--replicates", "3"], "unknown model 'nosuch_model'"),
        (["eight_schools", "--replicates", "0"], "replicates must be a positive integer, got 0"),
        (["eight_schools", "--replicates", "2", "--scheduler", "nonsense"], "cannot connect to the Dask scheduler"),
        (["eight_schools", "--replicates", "2", "--truth", "fixed"], "gives no TRUTH"),
        (["eight_schools", "--replicates", "2", "--workers", "1", "--scheduler", "tcp://h:1"], "not allowed with"),
    ],
)
def test_cli_refuses_bad_input_in_one_line(argv, message, capsys, tmp_path):
    try:
        status = main(["study", *argv, "--out", str(tmp_path), "--quiet"])
    except SystemExit as exc:  # argparse's own checks exit through the parser's one-line error
        status = exc.code
    assert status == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert not list(tmp_path.rglob("replicate_*.json"))


@pytest.mark.slow
def test_replicates_a_worker_cannot_run_are_not_recorded_as_failures(tmp_path):
    # the model loads here but not in a Dask worker (data missing on the node): a cluster problem, so no
    # replicate file is written (a rerun computes them) and the study ends with one line saying so
    model = tmp_path / "node_data.py"
    model.write_text(
        Path(CONJUGATE).read_text()
        + "\nimport multiprocessing\n\nif multiprocessing.current_process().daemon:\n"
        + "    raise FileNotFoundError('data not on this node')\n"
    )
    with pytest.raises(ModemeanError, match=r"2 replicates did not run on the Dask workers .*data not on this node"):
        study(str(model), replicates=2, solvers="map", workers=2, out=tmp_path / "out", **FAST)
    assert not list((tmp_path / "out").rglob("replicate_*.json"))
    summary = json.loads((tmp_path / "out" / "node_data" / "study.json").read_text())
    assert summary["replicates"]["done"] == summary["replicates"]["failed"] == 0 and not summary["complete"]


def test_progress_prints_plain_lines_off_a_terminal_a_bar_on_one_and_nothing_when_quiet():
    import io

    from modemean.comparisons.studies.execute import Progress

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    records = [{"replicate": i, "error": "x" if i == 3 else None} for i in range(2, 40)]
    plain, terminal, quiet = io.StringIO(), Terminal(), io.StringIO()
    for stream, kwargs in ((plain, {}), (terminal, {}), (quiet, {"quiet": True})):
        progress = Progress("m", 40, 2, 0, stream=stream, **kwargs)
        for record in records:
            progress.update(record)
        progress.close()
    lines = plain.getvalue().splitlines()
    assert lines[0] == "study m: 2/40 replicates, 0 failed" and len(lines) == 1 + 19  # then every 2 (5%)
    assert lines[-1].startswith("study m: 40/40 replicates, 1 failed, ") and "/min, ETA 0m00s" in lines[-1]
    assert "40/40 replicates, 1 failed" in terminal.getvalue() and quiet.getvalue() == ""


MASKED_LINE = """
import numpy as np
import pymc as pm

INFO = {"title": "t", "story": "s", "why_skewed": "w", "references": []}
LATENT = ()


def load_data():
    y = np.array([0.9, 1.4, -999.0, 2.2, 2.9, -999.0])
    return {"x": np.linspace(0.0, 1.0, 6), "y": np.ma.masked_values(y, -999.0)}


def build(data):
    with pm.Model() as model:
        a = pm.Normal("a", 0.0, 5.0)
        pm.Normal("y", a * data["x"], 1.0, observed=data["y"])
    return model
"""


def test_a_study_accepts_a_masked_outcome_as_run_does(tmp_path):
    path = tmp_path / "masked_line.py"
    path.write_text(MASKED_LINE)
    fast = ["--solvers", "map", "--n-starts", "1", "--out", str(tmp_path / "out")]
    assert main(["run", str(path), *fast]) == 0
    assert main(["study", str(path), "--replicates", "2", "--workers", "1", "--quiet", *fast]) == 0
    summary = json.loads((tmp_path / "out" / "masked_line" / "study.json").read_text())
    assert summary["replicates"]["done"] == 2 and summary["replicates"]["failed"] == 0
    rep = Replicator(str(path), "prior", ("map",), {"seed": 1, "n_starts": 1})
    truth, data = rep.simulate(3)  # the same entries stay masked; the others are simulated
    original = rep.spec.data["y"]
    assert np.ma.isMaskedArray(data["y"]) and data["y"].mask.tolist() == original.mask.tolist()
    assert not np.array_equal(data["y"].compressed(), original.compressed()) and truth["y_unobserved"].shape == (2,)
