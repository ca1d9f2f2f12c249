"""Every catalog model, every solver: the acceptance that holds across the whole catalog."""

import json
import math
from typing import get_args

import pytest

from modemean import models
from modemean.comparisons.results.fit import Flag
from modemean.comparisons.results.schema import FlagKind
from modemean.comparisons.solvers import SOLVERS

NAMES = models.CATALOG


def test_catalog_is_complete():
    expected = {
        "two_gaussians",
        "eight_schools",
        "old_faithful",
        "zero_inflated_counts",
        "shift_alignment",
        "beta_blockers",
        "rat_tumors",
        "bioassay",
        "censored_lifetimes",
        "sparse_regression",
        "ridge_regression",
        "robust_regression",
        "dyestuff",
        "dyestuff2",
        "sleepstudy",
        "eight_schools_centered",
        "rat_tumors_logit",
        "image_alignment",
        "image_alignment_learned",
    }
    assert expected <= set(NAMES)


FUNNELS = {"eight_schools_centered"}  # centred on purpose: NUTS diverges, and its story says why


@pytest.mark.parametrize("name", NAMES)
def test_every_solver_runs_and_nuts_is_clean_at_defaults(solved, name):
    """find_MAP and NUTS succeed on every model; EM too, unless the model has no latent variables;
    NUTS at 4 x (1000 tune + 1000 draws) has no divergences and R-hat <= 1.01."""
    c = solved(name)
    assert c.fits["map"].ok, c.fits["map"].message
    expected_em = "ok" if c.spec.latent else "not_applicable"
    assert c.fits["em"].status == expected_em, c.fits["em"].message
    nuts = c.fits["nuts"].diagnostics
    assert (nuts["chains"], nuts["draws"], nuts["tune"]) == (4, 1000, 1000)
    if name in FUNNELS:  # the centred funnel is the lesson: NUTS must report it, not hide it
        assert nuts["divergences"] > 0 and "divergent transitions" in c.fits["nuts"].message
        return
    assert nuts["divergences"] == 0
    assert nuts["max_r_hat"] <= 1.01


@pytest.mark.parametrize("name", NAMES)
def test_results_are_strict_json_with_a_gap_for_every_model(solved, name):
    results = json.loads(json.dumps(solved(name).results, allow_nan=False))
    gaps = [
        row.get("gap_sd") if row.get("gap_sd") is not None else row.get("gap_sd_em")
        for row in results["parameters"].values()
    ]
    assert any(g is not None and math.isfinite(g) for g in gaps), "no peak-to-mean distance for any parameter"
    assert all(results["solvers"][s]["seconds"] > 0 for s in ("map", "em", "nuts"))


@pytest.mark.parametrize("name, solver", [(n, s) for n in NAMES for s in SOLVERS])
def test_every_solver_keeps_to_its_declaration_on_every_model(solved, name, solver):
    """Registry x catalog: a solver fills only the columns it declares, the results' schema says so, its
    draws match ``has_draws``, its flags are structured, and ``converged`` / ``n_iter`` are set exactly
    when it gave an answer."""
    c = solved(name)
    if solver not in c.fits:
        pytest.skip(f"{solver} is not among the default solvers")
    fit, declared, results = c.fits[solver], SOLVERS[solver], c.results
    assert fit.method == solver and fit.status in ("ok", "failed", "not_applicable")
    assert set(fit.estimates) <= set(declared.columns)
    assert results["schema"]["solvers"][solver]["columns"] == list(declared.columns)
    for column, column_declared in declared.columns.items():
        assert results["schema"]["columns"][column]["solvers"] == [solver]
        if column_declared.formula is not None:
            continue  # computed by the table from other columns, not filled by the solver
        for parameter, row in results["parameters"].items():
            value = fit.estimates.get(column, {}).get(parameter)
            assert row[column] == (value if value is not None and math.isfinite(value) else None), (column, parameter)
    assert (fit.draws is not None) == (fit.ok and declared.has_draws)
    kinds = set(get_args(FlagKind))
    for flags in fit.flags.values():
        assert all(isinstance(f, Flag) and f.kind in kinds and f.column in results["schema"]["columns"] for f in flags)
    if fit.ok:
        assert isinstance(fit.converged, bool) and isinstance(fit.n_iter, int) and fit.n_iter >= 0
    else:
        assert fit.converged is None and fit.n_iter is None
