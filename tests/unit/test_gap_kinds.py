"""Why a gap exists, as data (issue 32): each row's ``gap_kind``, on a catalog model that has the kind.

Each model is solved with only the solvers its kind needs (find_MAP, EM; NUTS where the kind is about the
draws), so every test takes seconds to about a minute.
"""

import json

import numpy as np
import pandas as pd
import xarray as xr

from modemean import compare
from modemean.comparisons.results.gaps import KHAT_NO_MEAN, row_kinds, tail_khat

SEED = 20261126


def test_tail_khat_tells_a_tail_without_a_mean():
    rng = np.random.default_rng(SEED)
    assert tail_khat(rng.standard_cauchy((2, 2000))) > KHAT_NO_MEAN  # the Cauchy's tails have no mean
    assert tail_khat(rng.standard_normal((2, 2000))) < 0.5
    assert tail_khat(rng.lognormal(0.0, 1.0, (2, 2000))) < KHAT_NO_MEAN  # skewed, but its mean exists
    assert np.isnan(tail_khat(np.ones((2, 100))))


def test_eight_schools_centered_no_mode_joint_vs_marginal_and_unreliable():
    c = compare("eight_schools_centered", solvers="map,em,nuts", seed=SEED, draws=200, tune=200, chains=2)
    kinds = c.table["gap_kind"]
    # tau: find_MAP's joint density is unbounded as tau -> 0; mu: its joint point is not EM's marginal mode
    assert "no_mode" in row_kinds(c.table.loc["tau"], c.fits)
    assert "joint_vs_marginal" in row_kinds(c.table.loc["mu"], c.fits)
    assert "joint_vs_marginal" not in row_kinds(c.table.loc["tau"], c.fits)  # no_mode first: a kind per row
    # the funnel: 400 draws of the centred model diverge, so NUTS's own numbers are the first thing to doubt
    assert c.fits["nuts"].diagnostics["divergences"] > 0
    assert set(kinds) == {"unreliable"}
    assert c.results["parameters"]["tau"]["gap_kind"] == "unreliable"


def test_eight_schools_centered_without_nuts():
    c = compare("eight_schools_centered", solvers="map,em", seed=SEED)
    assert c.table.loc["tau", "gap_kind"] == "no_mode"
    assert c.table.loc["mu", "gap_kind"] == "joint_vs_marginal"
    assert pd.isna(c.table.loc["theta[0]", "gap_kind"])  # a latent: no marginal mode, no mean, nothing measured


def test_dyestuff2_boundary():
    c = compare("dyestuff2", solvers="map,em", seed=SEED)
    assert c.table.loc["tau", "gap_kind"] == "boundary"  # EM's marginal mode of tau is 0
    assert c.table.loc["sigma", "gap_kind"] == "joint_vs_marginal"


def test_rat_tumors_no_mean():
    c = compare("rat_tumors", solvers="map,em", seed=SEED)
    for name in ("alpha", "beta"):
        assert c.table.loc[name, "gap_kind"] == "no_mean"  # known from the model: its (alpha+beta)^(-3/2) tail
        assert "no finite mean" in c.table.loc[name, "notes"]
        assert [f.kind for f in c.table.loc[name, "flags"] if f.column == "mean"] == ["no_mean"]


def test_image_alignment_several_modes():
    c = compare("image_alignment", solvers="map", seed=SEED)
    d = c.fits["map"].diagnostics
    assert d["n_stationary"] > d["n_starts_agreeing"]  # a start reached a peak other than the best one
    assert set(c.table["gap_kind"].dropna()) == {"several_modes"}


def test_bioassay_skew_and_only_what_ran(tmp_path):
    c = compare("bioassay", solvers="map,nuts", seed=SEED, draws=1500, tune=1000, chains=2, out=tmp_path)
    assert c.fits["nuts"].converged, c.fits["nuts"].message
    assert list(c.table["gap_kind"]) == ["skew", "skew"]
    assert c.table.loc["beta", "gap_sd"] > 0.5  # beta's long right tail pulls the mean off the peak
    # only the columns of the solvers that ran: no em, mle or gap_sd_em, in the table, results.json, results.nc
    absent = {"em", "mle", "gap_sd_em", "laplace_gap_sd"}
    assert absent.isdisjoint(c.table.columns) and {"map", "mean", "gap_sd"} <= set(c.table.columns)
    results = json.loads((tmp_path / "bioassay" / "results.json").read_text())
    assert absent.isdisjoint(results["schema"]["columns"]) and set(results["solvers"]) == {"map", "nuts"}
    assert results["parameters"]["beta"]["gap_kind"] == "skew" and "em" not in results["parameters"]["beta"]
    stored = xr.open_dataset(tmp_path / "bioassay" / "results.nc", group="point_estimates", engine="h5netcdf")
    assert absent.isdisjoint(stored.data_vars)
    assert not [v for v, da in stored.data_vars.items() if bool(np.isnan(da.values).all())]  # no all-NaN variable
    again = compare("bioassay", solvers="map,nuts", seed=SEED, draws=1500, tune=1000, chains=2, out=tmp_path)
    assert again.cached and list(again.table.columns) == list(c.table.columns)
    assert list(again.table["gap_kind"]) == ["skew", "skew"]
