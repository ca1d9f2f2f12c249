"""A researcher's own data and project (issue 13): missing values, pm.Data, install name, result folders.

Each test asserts something the code before issue 13 got wrong: masked arrays were unmasked (the
sentinels fitted as data), NaN refused, the imputation deterministic gave zero-sd rows with
gap_sd +-1, pm.Data with a discrete latent crashed, a model file could not import from its own
project, and two model sources wrote one results folder silently.
"""

import json
import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pymc as pm
import pytest

from modemean import compare
from modemean.comparisons.errors import ModemeanError
from modemean.comparisons.results.fit import Fit
from modemean.comparisons.results.table import make_table
from modemean.comparisons.run.cache import cache_key
from modemean.comparisons.spec import load_spec
from modemean.comparisons.spec.data import check_data

CLI = [sys.executable, "-m", "modemean.cli"]
FAST_NUTS = {"draws": 300, "tune": 300, "chains": 2}
INFO = 'INFO = {"title": "t", "story": "s", "why_skewed": "w", "references": []}\n'

LINE = (
    INFO
    + """
import numpy as np
import pymc as pm
import pytensor.tensor as pt

LATENT = ()


def load_data():
    rng = np.random.default_rng(0)
    x = np.linspace(0.0, 1.0, 30)
    y = 1.0 + 2.0 * x + rng.normal(0.0, 0.5, 30)
    y[[3, 10, 20]] = -999.0
    return {"x": x, "y": np.ma.masked_values(y, -999.0)}


def build(data):
    with pm.Model() as model:
        a = pm.Normal("a", 0.0, 10.0)
        b = pm.Normal("b", 0.0, 10.0)
        sigma = pm.HalfNormal("sigma", 5.0)
        pm.Normal("y", a + b * data["x"], sigma, observed=data["y"])
        pm.Deterministic("half", pt.as_tensor(0.5) + 0.0 * a)   # a constant: sd exactly 0
    return model
"""
)


def run_cli(*args, cwd=None, timeout=600):
    env = {**os.environ, "MPLBACKEND": "Agg"}
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, timeout=timeout, cwd=cwd, env=env)


def one_line_error(proc):
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("modemean: error: "), proc.stderr
    return lines[0]


def write(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    head = INFO if body.startswith(INFO) else ""
    path.write_text(head + textwrap.dedent(body.removeprefix(head)))
    return path


# -- 1. missing values reach build as PyMC expects them


def test_check_data_keeps_masks_and_nan_refuses_inf():
    y = np.ma.masked_values(np.array([1.0, -999.0, 3.0]), -999.0)
    out = check_data({"y": y, "n": np.array([1.0, np.nan, 2.0])}, "m", {"n": ("int", ("i",))})
    assert np.ma.isMaskedArray(out["y"]) and out["y"].mask.tolist() == [False, True, False]
    assert np.isnan(out["n"][1])  # missing, not a fraction where counts are declared
    assert not np.ma.isMaskedArray(check_data({"y": np.ma.masked_array([1.0, 2.0])}, "m")["y"])  # nothing hidden
    with pytest.raises(ModemeanError, match=r"data 'y' has inf at position\(s\) 1: remove them, or mark them missing"):
        check_data({"y": np.ma.masked_values(np.array([1.0, np.inf, -999.0]), -999.0)}, "m")


def test_cache_key_includes_the_mask(tmp_path):
    spec = load_spec(write(tmp_path / "line.py", LINE))
    other = np.ma.array(spec.data["y"], mask=np.roll(np.ma.getmaskarray(spec.data["y"]), 1))
    from dataclasses import replace

    settings = {"seed": 1}
    assert cache_key(spec, settings) != cache_key(replace(spec, data={**spec.data, "y": other}), settings)


@pytest.fixture(scope="module")
def line(tmp_path_factory):
    """The issue's example (y = 1 + 2x + N(0, 0.5), 30 points, 3 masked as -999), solved by find_MAP and NUTS."""
    folder = tmp_path_factory.mktemp("line")
    out = folder / "OUT"
    c = compare(str(write(folder / "line.py", LINE)), solvers="map,nuts", out=out, seed=5, **FAST_NUTS)
    return c, out


@pytest.mark.slow
def test_masked_array_is_imputed_not_fitted_as_data(line):
    c, _ = line
    t = c.table
    # before: the -999 sentinels were data (a = -46.2, b = 7.8, sigma = 57)
    assert abs(t.loc["a", "mean"] - 1.0) < 0.4 and abs(t.loc["b", "mean"] - 2.0) < 0.7
    assert abs(t.loc["sigma", "mean"] - 0.5) < 0.15 and abs(t.loc["sigma", "map"] - 0.5) < 0.15
    assert abs(t.loc["a", "map"] - 1.0) < 0.4 and abs(t.loc["b", "map"] - 2.0) < 0.7
    for j, position in enumerate((3, 10, 20)):
        row = t.loc[f"y_unobserved[{j}]"]
        # the imputation note, exactly; a short run's sampler notes (e.g. R-hat) may follow it
        assert row["notes"].split("; ")[0] == f"imputed: missing observation of y at position {position}"
        assert abs(row["mean"] - (t.loc["a", "mean"] + t.loc["b", "mean"] * position / 29)) < 0.3
        assert 0.3 < row["sd"] < 0.8


def test_observed_entries_give_no_rows_and_constants_no_gap(line):
    c, _ = line
    t = c.table
    assert not [n for n in t.index if n.startswith("y[")]  # the joined deterministic repeats the data
    assert np.isnan(t.loc["half", "gap_sd"]) and t.loc["half", "sd"] == 0  # before: (0.5 - 0.5) / 0 -> nan/inf
    assert "no posterior spread (sd = 0): a constant, so no gap_sd" in t.loc["half", "notes"]
    assert np.isfinite(t.loc["sigma", "gap_sd"])


def test_report_never_ranks_or_draws_a_constant(line):
    from modemean.reports import render
    from modemean.reports.load import load_model
    from modemean.reports.verdict import verdict

    _, out = line
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        index = render(out, force=True)
    noisy = [str(w.message) for w in caught if any(k in w.filename for k in ("arviz", "matplotlib"))]
    assert noisy == []
    results = load_model(out, "line")
    assert results.headline()[0] != "half" and "half" not in " ".join(verdict(results))
    page = (out / "line" / "index.html").read_text()
    assert "half: no density figure" in page and "no spread" in page
    assert "(half" not in index.read_text()


def test_nan_in_a_predictor_is_refused_naming_it(tmp_path, capsys):
    path = write(
        tmp_path / "pred.py",
        INFO
        + """
        import numpy as np
        import pymc as pm

        def load_data():
            return {"x": np.array([0.0, np.nan, 2.0, 3.0]), "y": np.array([1.0, 2.0, 3.0, 4.0])}

        def build(data):
            with pm.Model() as model:
                b = pm.Normal("b", 0, 1)
                pm.Normal("y", b * data["x"], 1.0, observed=data["y"])
            return model
    """,
    )
    line = main_error(capsys, "run", path, "--solvers", "map", "--out", tmp_path / "OUT")
    assert line == (
        "modemean: error: model 'pred': data 'x' has missing values (NaN or masked) at position(s) 1 "
        "that PyMC does not impute (it imputes only data passed as observed= of a distribution): "
        "remove or fill them"
    )


def test_nan_in_a_discrete_observation_is_refused():
    def build(data):
        with pm.Model() as model:
            lam = pm.Gamma("lam", 2.0, 1.0)
            pm.Poisson("y", lam, observed=data["y"])
        return model

    with pytest.raises(
        ModemeanError,
        match=r"the observation 'y' is discrete \(Poisson\) and has missing values at "
        r"position\(s\) 1: their imputed values would be discrete parameters",
    ):
        compare(build, {"y": np.array([1.0, np.nan, 3.0])}, solvers="map", name="counts")


def test_missing_values_under_a_discrete_latent_are_refused():
    def build(data):
        with pm.Model() as model:
            w = pm.Dirichlet("w", np.ones(2))
            mu = pm.Normal("mu", np.array([-1.0, 1.0]), 5.0, transform=pm.distributions.transforms.ordered)
            z = pm.Categorical("z", p=w, shape=4)
            pm.Normal("x", mu[z], 1.0, observed=data["x"])
        return model

    with pytest.raises(ModemeanError, match="the observation 'x' has missing values and depends on the discrete z"):
        compare(build, {"x": np.array([-2.0, np.nan, 2.0, 2.1])}, solvers="map", name="mix", latent=("z",))


def test_nan_in_pm_data_gives_pymcs_one_line_refusal():
    def build(data):
        with pm.Model() as model:
            y = pm.Data("y", data["y"])
            pm.Normal("obs", pm.Normal("mu"), 1.0, observed=y)
        return model

    with pytest.raises(ModemeanError) as info:
        compare(build, {"y": np.array([1.0, np.nan])}, solvers="map", name="d")
    assert str(info.value).startswith(
        "model 'd': build(data) raised NotImplementedError: Masked arrays or arrays "
        "with `nan` entries are not supported"
    ) and "\n" not in str(info.value)


# -- 3. pm.Data with a discrete latent


MIXTURE = (
    INFO
    + """
import numpy as np
import pymc as pm

from modemean import normal_mixture_m_step

LATENT = ("z",)


def load_data():
    rng = np.random.default_rng(3)
    z = rng.choice(2, 120, p=[0.4, 0.6])
    return {"x": rng.normal(np.array([-2.0, 2.0])[z], 1.0)}


def build(data):
    with pm.Model() as model:
        x = pm.Data("x", data["x"])
        w = pm.Dirichlet("w", a=np.full(2, 2.0))
        mu = pm.Normal("mu", np.array([-1.0, 1.0]), 5.0, transform=pm.distributions.transforms.ordered)
        sigma = pm.HalfNormal("sigma", 3.0, shape=2)
        z = pm.Categorical("z", p=w, shape=len(data["x"]))
        pm.Normal("obs", mu=mu[z], sigma=sigma[z], observed=x)
    return model


def m_step(data, expectations, prior):
    if prior is None:
        return normal_mixture_m_step(expectations["moments"], expectations["params"]["sigma"])
    return normal_mixture_m_step(expectations["moments"], expectations["params"]["sigma"], alpha=2.0,
                                 mu_loc=np.array([-1.0, 1.0]), mu_scale=5.0, sigma_scale=3.0)
"""
)


@pytest.mark.slow
def test_pm_data_with_a_discrete_latent(tmp_path):
    # before: AttributeError: 'TensorSharedVariable' object has no attribute 'data' (discrete.py, _obs_extra)
    c = compare(str(write(tmp_path / "mix.py", MIXTURE)), solvers="em", n_init=1)
    em = c.fits["em"]
    assert em.status == "ok", em.message
    mu, sigma = [[c.table.loc[f"{p}[{k}]", "em"] for k in range(2)] for p in ("mu", "sigma")]
    assert abs(mu[0] + 2) < 0.4 and abs(mu[1] - 2) < 0.4 and all(0.7 < s < 1.3 for s in sigma)


# -- 4. one install name: a researcher's own models/ and reports/ packages shadow nothing


@pytest.fixture
def project(tmp_path):
    write(tmp_path / "models" / "__init__.py", "")
    write(tmp_path / "models" / "common.py", "def helper():\n    return 2.0\n")
    write(tmp_path / "reports" / "__init__.py", "raise RuntimeError('the researcher reports package was imported')\n")
    write(
        tmp_path / "models" / "mine.py",
        INFO
        + """
        import numpy as np
        import pymc as pm

        from models.common import helper

        LATENT = ()

        def load_data():
            return {"y": np.array([1.0, 2.5, 1.5, 2.2])}

        def build(data):
            with pm.Model() as model:
                mu = pm.Normal("mu", 0.0, helper())
                pm.Normal("y", mu, 1.0, observed=data["y"])
            return model
    """,
    )
    return tmp_path


def test_api_from_a_folder_with_its_own_models_package(project):
    code = "from modemean import compare; c = compare('eight_schools', solvers='map'); print(c.fits['map'].status)"
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "MPLBACKEND": "Agg"},
    )
    assert proc.returncode == 0 and proc.stdout.strip().endswith("ok"), proc.stderr


@pytest.mark.slow
def test_cli_runs_a_model_importing_from_its_own_project(project):
    run = run_cli("run", "models/mine.py", "--solvers", "map", "--out", "OUT", cwd=project)
    assert run.returncode == 0, run.stderr  # before: No module named 'models.common'
    assert json.loads((project / "OUT" / "mine" / "results.json").read_text())["solvers"]["map"]["status"] == "ok"
    report = run_cli("report", "--out", "OUT", cwd=project)
    assert report.returncode == 0, report.stderr
    assert (project / "OUT" / "mine" / "index.html").is_file()


def test_no_bare_models_import_survives():
    root = Path(__file__).resolve().parents[2]
    offenders = [
        f"{p.relative_to(root)}:{i}"
        for folder in ("models", "comparisons", "reports", "modemean", "tests", "benchmarks")
        for p in (root / folder).rglob("*.py")
        for i, line in enumerate(p.read_text().splitlines(), 1)
        if line.strip().startswith(
            ("import models", "from models", "import comparisons", "from comparisons", "import reports", "from reports")
        )
        and p.name != Path(__file__).name
    ]
    assert offenders == []


# -- 5. result folders unique per model source


SIMPLE = (
    INFO
    + """
import numpy as np
import pymc as pm

LATENT = ()


def load_data():
    return {"y": np.array([1.0, 2.0, 3.0])}


def build(data):
    with pm.Model() as model:
        mu = pm.Normal("mu", 0.0, 5.0)
        pm.Normal("y", mu, 1.0, observed=data["y"])
    return model
"""
)


def main_error(capsys, *args):
    """Run the CLI in this process (no interpreter start-up); its one-line error."""
    from modemean.cli import main

    capsys.readouterr()
    assert main([str(a) for a in args]) == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("modemean: error: "), lines
    return lines[0]


def test_same_stem_in_two_folders_never_overwrites(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "a" / "mine.py", SIMPLE)
    write(tmp_path / "b" / "mine.py", SIMPLE.replace("[1.0, 2.0, 3.0]", "[7.0, 8.0]"))
    compare("a/mine.py", solvers="map", out="OUT")
    stored = (tmp_path / "OUT" / "mine" / "results.json").read_text()
    assert json.loads(stored)["source"] == "a/mine.py"  # relative to the working folder: no machine path shown
    line = main_error(capsys, "run", "b/mine.py", "--solvers", "map", "--out", "OUT")
    assert line == (
        "modemean: error: OUT/mine holds results of a/mine.py; pass --name NAME (or name= in compare) to keep both"
    )
    with pytest.raises(ModemeanError, match="OUT/mine holds results of a/mine.py"):
        compare("b/mine.py", solvers="map", out="OUT")
    assert (tmp_path / "OUT" / "mine" / "results.json").read_text() == stored
    both = main_error(capsys, "run", "a/mine.py", "b/mine.py", "--solvers", "map", "--out", "OUT2")
    assert both == (
        "modemean: error: a/mine.py and b/mine.py would both write OUT2/mine: run them one at a time with --name NAME"
    )
    assert not (tmp_path / "OUT2" / "mine").exists()  # checked before any solver ran
    from modemean.cli import main

    assert main(["run", "b/mine.py", "--name", "mine_b", "--solvers", "map", "--out", "OUT"]) == 0
    assert json.loads((tmp_path / "OUT" / "mine_b" / "results.json").read_text())["source"].endswith("b/mine.py")
    assert (tmp_path / "OUT" / "mine" / "results.json").read_text() == stored
    two = main_error(capsys, "run", "a/mine.py", "b/mine.py", "--name", "x", "--out", "OUT")
    assert two == (
        "modemean: error: --name names the results folder of one model, got 2 models: run them one at a time"
    )


def test_a_file_named_like_a_catalog_model_keeps_its_own_folder(tmp_path):
    from modemean.comparisons.run.output import planned_source

    out = tmp_path / "OUT"
    catalog = planned_source("eight_schools")  # what compare("eight_schools", out=out) records (test above: recorded)
    write(out / "eight_schools" / "results.json", json.dumps({"source": catalog, "parameters": {}, "solvers": {}}))
    path = write(tmp_path / "eight_schools.py", SIMPLE)
    with pytest.raises(ModemeanError, match=r"eight_schools holds results of .*models/eight_schools.py; pass --name"):
        compare(str(path), solvers="map", out=out)
    c = compare(str(path), solvers="map", out=out, name="my_eight_schools")
    assert c.spec.name == "my_eight_schools" and (out / "my_eight_schools" / "results.json").is_file()
    assert json.loads((out / "eight_schools" / "results.json").read_text())["source"] == catalog
    with pytest.raises(ModemeanError, match="name must be a folder name"):
        compare(str(path), solvers="map", out=out, name="../x")


def test_table_withholds_gaps_of_zero_spread_quantities():
    nuts = Fit(
        "nuts",
        "ok",
        "",
        estimates={"mean": {"mu": 1.0, "c": 3.0, "obs": 0.237}, "sd": {"mu": 0.5, "c": 0.0, "obs": 1e-16}},
    )
    fit_map = Fit("map", "ok", "", estimates={"map": {"mu": 0.5, "c": 3.0, "obs": 0.237 + 1e-16}})
    t = make_table({"map": fit_map, "nuts": nuts}, ["mu", "c", "obs"])
    assert t.loc["mu", "gap_sd"] == pytest.approx(1.0)
    assert np.isnan(t.loc["c", "gap_sd"]) and np.isnan(t.loc["obs", "gap_sd"])  # before: nan/inf and +-1.00
    assert "no posterior spread" in t.loc["obs", "notes"]


def _varying_intercepts(data):
    """A centred varying-intercept regression (the way a researcher writes it)."""
    with pm.Model() as model:
        mu = pm.Normal("mu", 0, 5)
        tau = pm.HalfNormal("tau", 2)
        b = pm.Normal("b", 0, 2)
        sigma = pm.HalfNormal("sigma", 2)
        a = pm.Normal("a", mu, tau, shape=4)
        pm.Normal("y", a[data["g"]] + b * data["x"], sigma, observed=data["y"])
    return model


def _regression(data):
    with pm.Model() as model:
        b = pm.Normal("b", 0, 2, shape=2)
        sigma = pm.HalfNormal("sigma", 2)
        pm.Normal("y", b[0] + b[1] * data["x"], sigma, observed=data["y"])
    return model


def _with_missing(seed=3):
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(4), 5)
    x = rng.normal(0, 1, g.size)
    y = rng.normal(1.0, 0.7, 4)[g] + 0.5 * x + rng.normal(0, 1.0, g.size)
    y[[2, 11, 12]] = np.nan
    keep = ~np.isnan(y)
    return {"g": g, "x": x, "y": y}, {"g": g[keep], "x": x[keep], "y": y[keep]}


def test_em_integrates_missing_outcomes_out_with_the_random_effects():
    """Missing-data EM: with three NaN outcomes, EM integrates y_unobserved out with the latent a, so its
    marginal mode (em) and ML estimate (mle) equal EM's on the same model with those rows removed."""
    missing, dropped = _with_missing()
    with_nan = compare(_varying_intercepts, missing, name="nan_latent", latent=("a",), solvers="em").fits["em"]
    without = compare(_varying_intercepts, dropped, name="dropped", latent=("a",), solvers="em").fits["em"]
    assert with_nan.ok and without.ok, (with_nan.message, without.message)
    assert with_nan.diagnostics["em_kind"] == "exact (Gaussian)"
    for column in ("em", "mle"):
        assert set(with_nan.estimates[column]) == {"mu", "tau", "b", "sigma"}  # y_unobserved is integrated out
        for name, value in without.estimates[column].items():
            assert with_nan.estimates[column][name] == pytest.approx(value, rel=1e-6, abs=1e-8), (column, name)
        assert not with_nan.diagnostics[column]["n_decreases"]


def test_em_applies_to_missing_outcomes_alone_and_equals_find_map_on_the_complete_cases():
    """No LATENT, NaN outcomes: the textbook missing-data EM; MAP-EM is find_MAP on the complete cases."""
    missing, dropped = _with_missing(seed=4)
    em = compare(_regression, missing, name="nan_regression", solvers="em").fits["em"]
    complete = compare(_regression, dropped, name="complete_cases", solvers="map").fits["map"]
    assert em.ok, em.message
    for name, value in complete.estimates["map"].items():
        assert em.estimates["em"][name] == pytest.approx(value, rel=1e-5, abs=1e-7), name
    no_missing = compare(_regression, dropped, name="complete_cases", solvers="em").fits["em"]
    assert no_missing.status == "not_applicable" and "no missing observations" in no_missing.message


# -- 7. a free discrete parameter: the advice works (issue 38, 7)

SWITCH = (
    INFO
    + """
import numpy as np
import pymc as pm

LATENT = ()


def load_data():
    return {"y": np.array([-2.1, -1.8, 2.2, 1.9, 2.4, -2.0])}


def build(data):
    with pm.Model() as model:
        mu = pm.Normal("mu", 0.0, 5.0, shape=2)
        z = pm.Bernoulli("z", 0.5)
        pm.Normal("y", mu[z], 1.0, observed=data["y"])
    return model
"""
)

COUNT = (
    INFO
    + """
import numpy as np
import pymc as pm

LATENT = ()


def load_data():
    return {"y": np.array([3, 5, 4, 6, 2])}


def build(data):
    with pm.Model() as model:
        n = pm.Poisson("n", 10)
        p = pm.Beta("p", 2, 2)
        pm.Binomial("y", n + 6, p, observed=data["y"])
    return model
"""
)


def test_a_free_discrete_parameter_with_finite_support_is_advised_latent_and_that_works(tmp_path):
    fit = compare(str(write(tmp_path / "switch.py", SWITCH)), solvers="map").fits["map"]
    assert fit.status == "not_applicable"
    assert fit.message == (
        "find_MAP optimises continuous parameters only, but z (Bernoulli) is discrete and not declared latent: "
        "declare it in LATENT (finite support: EM then sums it out and every solver sees the marginal model), "
        "or marginalise it in the model by hand"
    )
    latent = write(tmp_path / "latent" / "switch.py", SWITCH.replace("LATENT = ()", 'LATENT = ("z",)'))
    advised = compare(str(latent), solvers="map")
    assert advised.fits["map"].ok


def test_a_free_poisson_parameter_is_not_advised_latent(tmp_path):
    """LATENT refuses a Poisson (a countably infinite support): the line says what works instead."""
    fit = compare(str(write(tmp_path / "count.py", COUNT)), solvers="map").fits["map"]
    assert fit.status == "not_applicable" and "declare it in LATENT" not in fit.message
    assert fit.message == (
        "find_MAP optimises continuous parameters only, but n (Poisson) is discrete, and LATENT cannot sum it "
        "out (EM enumerates only Bernoulli, Categorical and DiscreteUniform latents): marginalise it by hand "
        "(pm.Mixture, or a pm.Potential with the log of the sum over a truncated range), truncate it to a finite "
        "support (pm.Categorical or pm.DiscreteUniform over 0..K, then LATENT), or make it observed"
    )
    count = str(write(tmp_path / "latent" / "count.py", COUNT.replace("LATENT = ()", 'LATENT = ("n",)')))
    with pytest.raises(ModemeanError, match="PoissonRV: EM can only enumerate"):
        compare(count, solvers="map")


HYPER_LATENT = (
    INFO
    + """
import numpy as np
import pymc as pm

LATENT = ("tau",)


def load_data():
    return {"y": np.array([28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0]),
            "sigma": np.array([15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0])}


def build(data):
    with pm.Model() as model:
        mu = pm.Normal("mu", 0.0, 5.0)
        tau = pm.HalfCauchy("tau", 5.0)
        theta = pm.Normal("theta", mu, tau, shape=8)
        pm.Normal("y", theta, data["sigma"], observed=data["y"])
    return model
"""
)

MARKOV_CHAIN = (
    INFO
    + """
import numpy as np
import pymc as pm

T = 100
LATENT = tuple(f"z{t}" for t in range(T))


def load_data():
    return {"y": np.random.default_rng(0).normal(0.0, 1.0, T)}


def build(data):
    with pm.Model() as model:
        P = pm.Dirichlet("P", a=np.ones((2, 2)))
        mu = pm.Normal("mu", 0.0, 5.0, shape=2)
        z = pm.Categorical("z0", p=np.array([0.5, 0.5]))
        pm.Normal("y0", mu[z], 1.0, observed=data["y"][0])
        for t in range(1, T):
            z = pm.Categorical(f"z{t}", p=P[z])
            pm.Normal(f"y{t}", mu[z], 1.0, observed=data["y"][t])
    return model
"""
)


def test_a_hyper_parameter_in_latent_is_one_line_at_load_exit_2(tmp_path):
    # issue 38 item 4: was "em failed — MissingInputError: Input 0 (z) ...", exit 0
    model = write(tmp_path / "schools_tau.py", HYPER_LATENT)
    line = one_line_error(run_cli("run", model, "--solvers", "em", "--out", tmp_path / "out", "--quiet"))
    assert "LATENT names 'tau', which cannot be a latent: it is a parameter of the distribution of the free " in line
    assert "variable 'theta'" in line and "declare the random effects it scales instead" in line
    assert not (tmp_path / "out" / "schools_tau").exists()  # refused before any solver ran


def test_markov_chain_latents_are_one_short_line(tmp_path):
    # issue 38 item 5: was ~1,300 characters listing z0..z99 twice, ending "cannot mix discrete and continuous"
    model = write(tmp_path / "hmm.py", MARKOV_CHAIN)
    line = one_line_error(run_cli("run", model, "--solvers", "em", "--out", tmp_path / "out", "--quiet"))
    assert len(line) < 300, len(line)
    assert "chain of 100 discrete latents (z1's distribution depends on z0, ..., z99's on z98)" in line
    assert "EM does not support Markov-chain latents yet" in line and "forward algorithm in a pm.Potential" in line
    assert "cannot mix" not in line and "z50" not in line
    with pytest.raises(ModemeanError, match="chain of 100 discrete latents"):
        load_spec(model)
