"""Formulas as models (issue 37): dyestuff and cbpp from formulas, a model file returning a Bambi model, the cache.

lme4's numbers are read from benchmarks/references/lme4_references.json (computed once with R); the
likelihoods that settle where modemean and lme4 differ are numpy's (tests/mixed_reference.py).
"""

import json
from pathlib import Path

import bambi
import numpy as np
import pandas as pd
import pytest
from mixed_reference import binomial_laplace_loglik, flatness_bounds

from modemean import compare
from modemean.cli import main
from modemean.comparisons.run.cache import cache_key
from modemean.comparisons.spec import load_spec

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "models" / "data"
LME4 = json.loads((ROOT / "benchmarks" / "references" / "lme4_references.json").read_text())
DYESTUFF = "Yield ~ 1 + (1 | Batch)"
CBPP = "cbind(incidence, size - incidence) ~ C(period) + (1 | herd)"  # as in lme4; Bambi's p(incidence, size)
SETTINGS = {"seed": 5, "n_init": 1, "solvers": ["em"]}


@pytest.mark.slow  # EM on the formula model (twice: the second run reads the stored result) and the catalog's
def test_dyestuff_formula_mle_is_the_catalog_models_and_lme4s_and_is_kept(tmp_path, capsys):
    args = ["run", "--formula", DYESTUFF, "--data", str(DATA / "dyestuff.csv"), "--solvers", "em", "--out"]
    assert main([*args, str(tmp_path), "--quiet"]) == 0
    first = capsys.readouterr().out
    assert "wrote" in first and "(Intercept)" in first and "sd Batch (Intercept)" in first
    mle = {
        k: row["mle"]
        for k, row in json.loads((tmp_path / "formula" / "results.json").read_text())["parameters"].items()
    }
    catalog = compare("dyestuff", solvers="em").fits["em"].estimates["mle"]
    lme4 = LME4["dyestuff"]
    for ours, theirs, reference in [
        ("(Intercept)", "mu", lme4["fixef"]["(Intercept)"]),
        ("sd Batch (Intercept)", "tau", lme4["sd"]["Batch (Intercept)"]),
        ("sigma", "sigma", lme4["sd"]["Residual"]),
    ]:
        assert mle[ours] == pytest.approx(catalog[theirs], rel=1e-6), ours
        assert mle[ours] == pytest.approx(reference, rel=1e-6), ours
    assert main([*args, str(tmp_path), "--quiet"]) == 0  # the same formula, family, CSV and priors: kept
    assert "kept" in capsys.readouterr().out


@pytest.mark.slow  # Laplace-EM on a binomial GLMM (about 45 s)
def test_cbpp_formula_laplace_em_is_glmers_nagq1_fit():
    frame = pd.read_csv(DATA / "cbpp.csv")
    comparison = compare(bambi.Model(CBPP.replace("cbind(incidence, size - incidence)", "p(incidence, size)"),
                                     frame, family="binomial"), solvers="em", n_init=1)  # fmt: skip
    names = ["(Intercept)", "period2", "period3", "period4"]
    assert set(names) <= set(comparison.table.index)  # lme4's rows, not C(period)[0]
    fit = comparison.fits["em"]
    glmer = LME4["cbpp_nAGQ1"]
    ours = np.array([fit.estimates["mle"][n] for n in names] + [fit.estimates["mle"]["sd herd (Intercept)"]])
    theirs = np.array([glmer["fixef"][n] for n in names] + [glmer["sd"]["herd (Intercept)"]])
    assert ours == pytest.approx(theirs, rel=5e-4)
    # glmer's objective, in numpy: -92.0262818648 at modemean's mle, -92.0262862017 at glmer's estimates (its
    # stored logLik, -92.0265664, is not its own Laplace value there): glmer stopped 4.3e-6 short, which allows
    # (Intercept) 6.8e-4, period2 9.0e-4, period3 9.6e-4, period4 1.3e-3, sd 5.3e-4 of distance; glmer lies
    # -1.9e-4, -4.1e-4, -4.6e-4, -5.7e-4, 1.9e-4 away
    y, n = frame["incidence"].to_numpy(float), frame["size"].to_numpy(float)
    X = np.column_stack([np.ones(len(y))] + [(frame["period"] == k).to_numpy(float) for k in (2, 3, 4)])

    def loglik(x):
        return binomial_laplace_loglik(y, n, X, frame["herd"].to_numpy(), x[:4], x[4])

    diagnostics = fit.diagnostics["mle"]
    assert diagnostics["restarts"][diagnostics["best_restart"]]["objective"] == pytest.approx(loglik(ours), abs=1e-7)
    assert loglik(ours) >= loglik(theirs) - 1e-9
    bounds = flatness_bounds(loglik, ours, loglik(ours) - loglik(theirs), [1e-3] * 5)
    assert np.all(np.abs(ours - theirs) <= bounds), (ours - theirs, bounds)


MODEL_FILE = """
import numpy as np
import pandas as pd
import bambi

INFO = {"title": "Dyestuff as a formula", "story": "", "why_skewed": "", "references": []}


def load_data():
    frame = pd.read_csv(%r)
    return {"Yield": frame["Yield"].to_numpy(float), "Batch": pd.Categorical(frame["Batch"]).codes.astype(np.int64)}


def build(data):
    return bambi.Model("Yield ~ 1 + (1 | Batch)", pd.DataFrame(data))
"""


def test_a_model_file_whose_build_returns_a_bambi_model(tmp_path):
    path = tmp_path / "dyes.py"
    path.write_text(MODEL_FILE % str(DATA / "dyestuff.csv"))
    spec = load_spec(path)
    assert (spec.name, spec.source, spec.info["title"]) == ("dyes", str(path.resolve()), "Dyestuff as a formula")
    assert spec.latent == ("1|Batch_offset",) and spec.em_engine.kind == "exact (Gaussian)"
    assert set(spec.params) == {"(Intercept)", "sd Batch (Intercept)", "sigma"}
    assert cache_key(spec, SETTINGS) is not None


def test_the_cache_key_is_the_formula_family_data_and_priors():
    frame = pd.read_csv(DATA / "dyestuff.csv")

    def key(formula=DYESTUFF, data=frame, **kwargs):
        return cache_key(load_spec(bambi.Model(formula, data, **kwargs)), SETTINGS)

    same = key()
    assert same is not None and key() == same
    assert key(priors={"Intercept": bambi.Prior("Normal", mu=1500, sigma=100)}) != same
    assert key(family="t") != same
    assert key(data=frame.assign(Yield=frame["Yield"] + 1e-9)) != same
    assert key("np.log(Yield) ~ 1 + (1 | Batch)") != same
