"""Formulas in, lme4-comparable answers out (issue 37): ``run --formula F --data CSV``, ``compare(bmb.Model)``.

lme4's numbers are read from benchmarks/references/lme4_references.json (computed once with R; see
its README): no R here.
"""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mixed_reference import flatness_bounds, lmm_loglik

from modemean import compare
from modemean.cli import main
from modemean.comparisons.spec import load_spec

ROOT = Path(__file__).resolve().parents[2]
SLEEPSTUDY = ROOT / "models" / "data" / "sleepstudy.csv"
LME4 = json.loads((ROOT / "benchmarks" / "references" / "lme4_references.json").read_text())
FORMULA = "Reaction ~ Days + (Days | Subject)"
# the catalog model's names (models/sleepstudy.py) and lme4's, for the formula model's rows
CATALOG = {
    "(Intercept)": "beta[0]",
    "Days": "beta[1]",
    "sd Subject (Intercept)": "tau[0]",
    "sd Subject Days": "tau[1]",
    "cor Subject (Intercept) Days": "rho",
    "sigma": "sigma",
}
LME4_NAMES = {
    "(Intercept)": ("fixef", "(Intercept)"),
    "Days": ("fixef", "Days"),
    "sd Subject (Intercept)": ("sd", "Subject (Intercept)"),
    "sd Subject Days": ("sd", "Subject Days"),
    "cor Subject (Intercept) Days": ("sd", "cor Subject (Intercept) Days"),
    "sigma": ("sd", "Residual"),
}


@pytest.fixture(scope="module")
def formula_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("formula")
    proc = subprocess.run(
        [sys.executable, "-m", "modemean.cli", "run", "--formula", FORMULA, "--data", str(SLEEPSTUDY),
         "--solvers", "em", "--out", str(out), "--quiet"],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return proc.stdout, json.loads((out / "formula" / "results.json").read_text())


def _mle(results):
    return {name: row["mle"] for name, row in results["parameters"].items()}


def sleepstudy_loglik(x):
    """The ML log-likelihood of ``Reaction ~ Days + (Days | Subject)`` at ``x`` (rows of LME4_NAMES' order)."""
    frame = pd.read_csv(SLEEPSTUDY)
    y = frame["Reaction"].to_numpy(float)
    X = np.column_stack([np.ones_like(y), frame["Days"]])
    b0, b1, s0, s1, rho, sigma = x
    G = np.array([[s0**2, rho * s0 * s1], [rho * s0 * s1, s1**2]])
    return lmm_loglik(y, X, X, pd.Categorical(frame["Subject"]).codes, np.array([b0, b1]), sigma, G)


@pytest.mark.slow  # EM on the formula model and on the catalog model
def test_sleepstudy_formula_mle_is_the_catalog_models_and_lme4s(formula_run):
    stdout, results = formula_run
    mle = _mle(results)
    for name in CATALOG:
        assert name in stdout  # the table shows lme4's names
    catalog = compare("sleepstudy", solvers="em").fits["em"].estimates["mle"]
    for name, theirs in CATALOG.items():
        assert mle[name] == pytest.approx(catalog[theirs], rel=1e-6, abs=1e-6), name
    # Who is right where they differ is settled by the likelihood (numpy, tests/mixed_reference.py), not by a
    # tolerance: at modemean's mle -875.96967223160, at lme4's estimates -875.96967224450 (lme4's stored logLik
    # -875.969672244495): lme4's bobyqa stopped 1.29e-8 short. A point 1.29e-8 below the maximum may lie
    # sqrt(2 * 1.29e-8 * (H^-1)_ii) from it: (Intercept) 1.1e-3, Days 2.4e-4, sd (Intercept) 9.0e-4,
    # sd Days 1.9e-4, cor 5.2e-5, sigma 2.4e-4; lme4 lies -1.0e-7, -3.2e-8, 8.1e-4, 3.6e-5, -7.8e-7, -9.1e-5 away.
    solver = results["solvers"]["em"]["diagnostics"]["mle"]
    objective = solver["restarts"][solver["best_restart"]]["objective"]
    ours = np.array([mle[name] for name in LME4_NAMES])
    theirs = np.array([LME4["sleepstudy"][group][key] for group, key in LME4_NAMES.values()])
    assert sleepstudy_loglik(ours) == pytest.approx(objective, abs=1e-8)  # the objective is the likelihood
    assert objective == pytest.approx(LME4["sleepstudy"]["logLik"], abs=1e-6)
    assert sleepstudy_loglik(ours) >= sleepstudy_loglik(theirs) - 1e-9  # lme4 stopped short, not modemean
    deficit = sleepstudy_loglik(ours) - sleepstudy_loglik(theirs)
    bounds = flatness_bounds(sleepstudy_loglik, ours, max(deficit, 1e-12), [1e-3, 1e-4, 1e-3, 1e-4, 1e-4, 1e-3])
    assert np.all(np.abs(ours - theirs) <= bounds), (ours - theirs, bounds)
    assert np.all(bounds <= 1e-3 * np.maximum(np.abs(theirs), 1.0))  # a flat maximum, yet a tight one


def test_the_formula_records_the_priors_bambi_chose():
    import bambi

    priors = load_spec(bambi.Model(FORMULA, pd.read_csv(SLEEPSTUDY))).info["formula"]["priors"]
    assert set(priors) == {"Intercept", "Days", "1|Subject", "Days|Subject", "sigma"}
    assert priors["sigma"].startswith("HalfStudentT")


def _one_line_error(capsys, *args):
    status = main(["run", *map(str, args), "--solvers", "em", "--quiet"])
    err = capsys.readouterr().err.strip()
    assert status == 2
    assert "\n" not in err and err.startswith("modemean: error: "), err
    return err


def test_an_unknown_column_is_one_line(capsys, tmp_path):
    err = _one_line_error(
        capsys, "--formula", "Reaction ~ Hours + (1 | Subject)", "--data", SLEEPSTUDY, "--out", tmp_path
    )
    assert "Hours" in err


def test_a_csv_that_does_not_parse_is_one_line(capsys, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("Reaction,Days,Subject\n1,2,3\n4,5,6,7,8\n")
    err = _one_line_error(capsys, "--formula", FORMULA, "--data", bad, "--out", tmp_path)
    assert "does not parse as CSV" in err and "bad.csv" in err


def test_an_unknown_family_is_one_line(capsys, tmp_path):
    err = _one_line_error(capsys, "--formula", FORMULA, "--data", SLEEPSTUDY, "--family", "poison", "--out", tmp_path)
    assert "unknown family 'poison'" in err and "poisson" in err


def test_bambi_missing_names_the_extra(capsys, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "bambi", None)  # import bambi raises ImportError
    err = _one_line_error(capsys, "--formula", FORMULA, "--data", SLEEPSTUDY, "--out", tmp_path)
    assert "pip install 'modemean[formula]'" in err


def test_a_bambi_model_rebuilt_on_other_data_keeps_its_priors():
    import bambi

    frame = pd.read_csv(SLEEPSTUDY)
    spec = load_spec(bambi.Model(FORMULA, frame))
    data = dict(spec.data, Reaction=spec.data["Reaction"] * 2.0)  # a response with another scale
    other = spec.with_data(data)
    point = spec.model.initial_point()
    assert other.model.compile_logp()(point) != spec.model.compile_logp()(point)  # new observations
    mu = [float(s.model["Intercept"].owner.inputs[2].eval()) for s in (spec, other)]
    assert mu[0] == mu[1] == pytest.approx(np.mean(spec.data["Reaction"]), rel=1e-6)  # not refitted to 2 y
    assert other.info["formula"]["priors"] == spec.info["formula"]["priors"]
