"""The approximations (laplace, advi, fullrank_advi, pathfinder) against their own closed forms.

Two conjugate models whose answers are known exactly:

- censored_lifetimes (catalog): the posterior of ``lam`` is Gamma(A, B), so ``u = log lam`` has the
  density ``exp(A u - B e^u)``: its mode is ``log(A / B)`` with curvature ``A`` (the Laplace Gaussian),
  and the Gaussian closest to it in KL(q || p) is found here by minimising the KL numerically.
- a linear-Gaussian model with two correlated coefficients: the posterior is exactly N(mu, Lambda^-1),
  so Laplace and full-rank ADVI must recover it, and mean-field ADVI must give the mean with sds
  ``1 / sqrt(Lambda_ii)`` (the mean-field KL optimum for a Gaussian target).
"""

import arviz as az
import numpy as np
import pandas as pd
import pymc as pm
import pytest
import xarray as xr
from scipy import optimize, special, stats

from modemean.comparisons.results.closest import closest_approximation
from modemean.comparisons.results.fit import Fit
from modemean.comparisons.results.schema import KHAT_MAX
from modemean.comparisons.results.table import make_table
from modemean.comparisons.results.write import dump_json, results_dict, results_tree
from modemean.comparisons.solvers.approximations.advi import fit_advi, fit_fullrank_advi
from modemean.comparisons.solvers.approximations.base import (
    approximation_columns,
    khat_words,
    pareto_khat,
    summarise_approximation,
)
from modemean.comparisons.solvers.approximations.laplace import PREFIX, fit_laplace_sampling
from modemean.comparisons.solvers.approximations.pathfinder import available, fit_pathfinder
from modemean.comparisons.solvers.nuts import summarise_draws
from modemean.comparisons.spec import load_spec, spec_from_parts
from modemean.reports import load_all, render

SEED = 20261126


@pytest.fixture(scope="module")
def lifetimes():
    """The censored_lifetimes spec and its exact posterior Gamma(A, B) of lam."""
    spec = load_spec("censored_lifetimes")
    data = spec.data
    failures = int(np.sum(data["time"] < data["window"]))
    return spec, 2.0 + failures, 1.0 + float(np.sum(data["time"]))


X = np.array([[1.0, 1.0], [1.0, -2.0], [2.0, 0.5], [0.5, 1.5]])  # design: the coefficients' posterior is correlated
Y = np.array([3.0, -1.0, 2.5, 2.0])
PRIOR_SD = 10.0


def _gaussian_build(data):
    with pm.Model() as model:
        beta = pm.Normal("beta", 0.0, PRIOR_SD, shape=2)
        pm.Normal("y", pm.math.dot(data["x"], beta), 1.0, observed=data["y"])
    return model


@pytest.fixture(scope="module")
def gaussian():
    """A linear-Gaussian spec and its exact posterior mean and precision."""
    spec = spec_from_parts(_gaussian_build, {"x": X, "y": Y}, name="linear_gaussian")
    precision = X.T @ X + np.eye(2) / PRIOR_SD**2
    return spec, np.linalg.solve(precision, X.T @ Y), precision


def _kl(m: float, s: float, a: float, b: float) -> float:
    """KL(N(m, s^2) || p) for p(u) = B^A exp(A u - B e^u) / Gamma(A), the density of log lam (exact)."""
    # E_q[A u - B e^u] = A m - B exp(m + s^2 / 2); entropy of q = log(s sqrt(2 pi e))
    log_p = a * m - b * np.exp(m + s**2 / 2) + a * np.log(b) - special.gammaln(a)
    return -(log_p + np.log(s * np.sqrt(2 * np.pi * np.e)))


def _best_gaussian(a: float, b: float) -> np.ndarray:
    """(m, s) minimising the KL numerically."""
    res = optimize.minimize(
        lambda x: _kl(x[0], np.exp(x[1]), a, b),
        [np.log(a / b), -0.5 * np.log(a)],
        method="Nelder-Mead",
        options={"xatol": 1e-10, "fatol": 1e-14, "maxiter": 10_000},
    )
    return np.array([res.x[0], np.exp(res.x[1])])


# ------------------------------------------------------------------------------------------ PSIS k̂


def test_khat_recovers_a_known_pareto_tail():
    """Ratios w = U^(-k) have a Pareto tail of shape k: the sign convention of ArviZ's psislw is right."""
    rng = np.random.default_rng(0)
    for k in (0.3, 0.9):
        khat, log_weights = pareto_khat(-k * np.log(rng.uniform(size=8000)))
        assert abs(khat - k) < 0.15
        assert np.isclose(special.logsumexp(log_weights), 0.0)
    assert "not to be trusted" in khat_words(KHAT_MAX + 0.01) and "close" in khat_words(0.3)


def test_laplace_khat_equals_arviz_on_the_exact_weights(lifetimes):
    """The reported k̂ is ArviZ's k̂ of log p - log q recomputed here from the closed forms."""
    spec, a, b = lifetimes
    fit = fit_laplace_sampling(spec, seed=SEED, draws=2000)
    u = np.log(fit.draws.posterior["lam"].values.ravel())
    gauss = fit.diagnostics["gaussian"]
    log_ratio = (a * u - b * np.exp(u)) - stats.norm.logpdf(u, gauss["mean"]["lam_log__"], gauss["sd"]["lam_log__"])
    _, khat = xr.DataArray(-log_ratio, dims=["draw"]).azstats.psislw(dim="draw", r_eff=1.0)
    assert fit.diagnostics["khat"] == pytest.approx(float(khat), abs=1e-9)


# ------------------------------------------------------------------------------------------ Laplace


def test_laplace_is_the_gaussian_at_the_jacobian_mode(lifetimes):
    """Mode log(A/B) (lam = A/B, not find_MAP's (A-1)/B), sd 1/sqrt(A) in log lam; draws match to MC error."""
    spec, a, b = lifetimes
    n = 4000
    fit = fit_laplace_sampling(spec, seed=SEED, draws=n)
    assert fit.ok and fit.converged
    gauss = fit.diagnostics["gaussian"]
    assert gauss["mean"]["lam_log__"] == pytest.approx(np.log(a / b), abs=1e-8)
    assert gauss["sd"]["lam_log__"] == pytest.approx(1 / np.sqrt(a), rel=1e-6)
    assert fit.diagnostics["mode"]["lam"] == pytest.approx(a / b, rel=1e-8)
    u = np.log(fit.draws.posterior["lam"].values.ravel())
    s = 1 / np.sqrt(a)
    assert abs(u.mean() - np.log(a / b)) < 4 * s / np.sqrt(n)
    assert abs(u.std() - s) < 4 * s / np.sqrt(2 * n)
    # lam = exp(u) is log-normal: its mean and sd columns are those of the draws
    lam = np.exp(u)
    assert fit.estimates[f"{PREFIX}_mean"]["lam"] == pytest.approx(lam.mean(), rel=1e-12)
    assert fit.estimates[f"{PREFIX}_sd"]["lam"] == pytest.approx(lam.std(ddof=1), rel=1e-12)


@pytest.mark.parametrize("name", ["bioassay", "dyestuff"])
def test_map_unconstrained_is_laplace_samplings_centre(name):
    """One mode of the unconstrained density (density.optimize.jacobian_mode, from the initial point): map's
    map_unconstrained column is the point Laplace sampling draws around, to the last bit (issue 31, step 6)."""
    from modemean.comparisons.solvers.map import fit_map

    spec = load_spec(name)
    centre = fit_laplace_sampling(spec, seed=SEED, draws=100).diagnostics["mode"]
    column = fit_map(spec, seed=SEED).estimates["map_unconstrained"]
    assert column == centre


def test_laplace_recovers_a_gaussian_posterior_exactly(gaussian):
    spec, mean, precision = gaussian
    fit = fit_laplace_sampling(spec, seed=SEED, draws=1000)
    gauss = fit.diagnostics["gaussian"]
    assert [gauss["mean"][f"beta[{i}]"] for i in range(2)] == pytest.approx(mean, abs=1e-8)
    cov = np.linalg.inv(precision)
    sd = np.sqrt(np.diag(cov))
    assert [gauss["sd"][f"beta[{i}]"] for i in range(2)] == pytest.approx(sd, rel=1e-6)
    values = fit.draws.posterior["beta"].values.reshape(-1, 2)
    assert np.corrcoef(values.T)[0, 1] == pytest.approx(cov[0, 1] / np.prod(sd), abs=0.1)
    assert fit.diagnostics["khat"] < 0.5  # q = p: the ratios are constant


def test_laplace_seeded_reruns_are_identical(lifetimes):
    spec, _, _ = lifetimes
    one, two = (fit_laplace_sampling(spec, seed=7, draws=500) for _ in range(2))
    assert one.estimates == two.estimates and one.diagnostics["khat"] == two.diagnostics["khat"]
    assert fit_laplace_sampling(spec, seed=8, draws=500).estimates != one.estimates


def test_laplace_without_a_mode_fails_with_the_reason():
    """A funnel whose density of the unconstrained coordinates is unbounded has no Gaussian to centre."""

    def build(data):
        with pm.Model() as model:
            tau = pm.HalfNormal("tau", 1.0)
            pm.Normal("eta", 0.0, tau, shape=5)
        return model

    fit = fit_laplace_sampling(spec_from_parts(build, {}, name="funnel"), seed=SEED, draws=100)
    assert fit.status == "failed" and "no mode" in fit.message


def test_relative_to_nuts_columns():
    """The declared formulas: (mean_x - mean) / sd and sd_x / sd, from the merged table."""
    columns = approximation_columns("advi", "ADVI")
    table = pd.DataFrame({"mean": [1.0], "sd": [2.0], "advi_mean": [2.0], "advi_sd": [1.0]})
    assert columns["advi_gap_sd"].formula(table)[0] == 0.5 and columns["advi_sd_ratio"].formula(table)[0] == 0.5
    assert set(columns["advi_gap_sd"].inputs) == {"advi_mean", "mean", "sd"}


def test_the_family_base_declares_what_each_approximation_declared_by_hand():
    """Approximation derives each solver's registry entry from its prefix and label: the same names,
    labels, columns (and help), options and draws groups as the four hand-written classes (main at b24d38f)."""
    from modemean.comparisons.solvers import SOLVERS
    from modemean.comparisons.solvers.approximations.base import APPROX_DRAWS

    assert list(SOLVERS) == ["map", "em", "nuts", "laplace", "advi", "fullrank_advi", "pathfinder"]
    stats = ("mean", "median", "sd", "hdi_low", "hdi_high", "skewness", "gap_sd", "sd_ratio", "khat")
    declared = {  # name: label, column prefix, how the column help names the draws, options
        "laplace": ("Laplace sampling", "laplace_sample", "Laplace", ["approx_draws"]),
        "advi": ("ADVI (mean-field)", "advi", "mean-field ADVI", ["approx_draws"]),
        "fullrank_advi": ("ADVI (full-rank)", "fullrank_advi", "full-rank ADVI", ["approx_draws"]),
        "pathfinder": ("Pathfinder", "pathfinder", "Pathfinder", ["approx_draws", "pathfinder_maxiter"]),
    }
    for name, (label, prefix, words, options) in declared.items():
        solver = SOLVERS[name]
        assert solver.label == label and list(solver.options) == options, name
        assert solver.options["approx_draws"] is APPROX_DRAWS and APPROX_DRAWS.default == 4000
        assert solver.has_draws and not solver.default and solver.group == f"draws_{name}", name
        assert list(solver.columns) == [f"{prefix}_{s}" for s in stats], name
        assert solver.columns == approximation_columns(prefix, words), name
        assert solver.columns[f"{prefix}_mean"].help == f"mean of the {words} draws"
    assert SOLVERS["advi"].method == "advi" and SOLVERS["fullrank_advi"].method == "fullrank_advi"


# ------------------------------------------------------------------------------------------ ADVI


@pytest.mark.slow
@pytest.mark.parametrize("fit_vi", [fit_advi, fit_fullrank_advi])
def test_advi_is_the_kl_closest_gaussian(lifetimes, fit_vi):
    """In one dimension both ADVIs fit N(m, s^2) to log lam: they must land on the KL minimum (found
    numerically here), and that Gaussian is closer in KL than the Laplace one."""
    spec, a, b = lifetimes
    fit = fit_vi(spec, seed=SEED, draws=500)
    assert fit.ok and fit.converged
    m, s = fit.diagnostics["gaussian"]["mean"]["lam_log__"], fit.diagnostics["gaussian"]["sd"]["lam_log__"]
    best = _best_gaussian(a, b)
    assert best == pytest.approx([np.log(a / b) - 1 / (2 * a), 1 / np.sqrt(a)], abs=1e-6)  # the closed form
    assert abs(m - best[0]) < 0.03 * best[1] and abs(s / best[1] - 1) < 0.03
    laplace = _kl(np.log(a / b), 1 / np.sqrt(a), a, b)
    assert _kl(m, s, a, b) - _kl(*best, a, b) < 0.1 * (laplace - _kl(*best, a, b))


@pytest.mark.slow
def test_advi_on_a_gaussian_posterior(gaussian):
    """Full-rank: the exact mean and covariance; mean-field: the exact mean, sds 1/sqrt(precision_ii)."""
    spec, mean, precision = gaussian
    cov = np.linalg.inv(precision)
    names = ["beta[0]", "beta[1]"]
    full = fit_fullrank_advi(spec, seed=SEED, draws=500).diagnostics["gaussian"]
    field = fit_advi(spec, seed=SEED, draws=500).diagnostics["gaussian"]
    sd = np.sqrt(np.diag(cov))
    assert [full["mean"][n] for n in names] == pytest.approx(mean, abs=0.03 * sd.min())
    assert [full["sd"][n] for n in names] == pytest.approx(sd, rel=0.03)
    assert [field["mean"][n] for n in names] == pytest.approx(mean, abs=0.03 * sd.min())
    assert [field["sd"][n] for n in names] == pytest.approx(1 / np.sqrt(np.diag(precision)), rel=0.03)


@pytest.mark.slow
def test_advi_seeded_reruns_are_identical(lifetimes):
    spec, _, _ = lifetimes
    one, two = (fit_advi(spec, seed=3, draws=200) for _ in range(2))
    assert one.estimates == two.estimates and one.n_iter == two.n_iter


@pytest.mark.slow
def test_advi_reports_the_iteration_limit(lifetimes):
    spec, _, _ = lifetimes
    fit = fit_advi(spec, seed=SEED, draws=100, max_iter=1500)
    assert fit.converged is False and "iteration limit (1500)" in fit.message


# ------------------------------------------------------------------------------------------ Pathfinder


@pytest.mark.slow
@pytest.mark.skipif(not available(), reason="BlackJAX is not installed: pip install 'modemean[approx]'")
def test_pathfinder_on_a_gaussian_posterior(gaussian):
    """On a Gaussian target the L-BFGS path ends at the mean with the exact covariance. Pathfinder keeps the
    path point with the best ELBO *estimate* (25 draws each), which with this seed is point 2 of 4, whose
    Gaussian is off by about 0.1 sd in the mean and 5% in the sd (the last point is exact to MC error):
    the draws must be within that, k̂ must say the fit is usable, and a rerun must repeat it."""
    spec, mean, precision = gaussian
    fit = fit_pathfinder(spec, seed=SEED, draws=4000)
    assert fit.ok, fit.message
    values = fit.draws.posterior["beta"].values.reshape(-1, 2)
    sd = np.sqrt(np.diag(np.linalg.inv(precision)))
    assert np.all(np.abs(values.mean(axis=0) - mean) < 0.15 * sd)
    assert values.std(axis=0) == pytest.approx(sd, rel=0.1)
    assert fit.diagnostics["khat"] < KHAT_MAX
    again = fit_pathfinder(spec, seed=SEED, draws=4000)
    assert again.estimates == fit.estimates


# ------------------------------------------------------------------------------------------ reports


def _approximation(method: str, prefix: str, draws: dict[str, np.ndarray], khat: float) -> Fit:
    names = list(draws)
    values = np.column_stack([draws[n] for n in names])
    estimates = summarise_approximation(values, names, prefix)
    estimates[f"{prefix}_khat"] = dict.fromkeys(names, khat)
    tree = az.from_dict({"posterior": {n: v[None, :] for n, v in draws.items()}})
    return Fit(method, "ok", "", 1.0, estimates, tree, diagnostics={"khat": khat})


def test_report_shows_the_approximations_and_the_closest(tmp_path):
    """Model page: k̂, distance from NUTS, one figure for the skewed parameter; index: the closest one."""
    rng = np.random.default_rng(0)
    nuts_draws = {"mu": rng.normal(1.0, 0.5, (2, 500)), "tau": rng.gamma(1.5, 2.0, (2, 500))}
    nuts = Fit(
        "nuts",
        "ok",
        "",
        1.0,
        summarise_draws(az.from_dict({"posterior": nuts_draws}).posterior),
        az.from_dict({"posterior": nuts_draws}),
        diagnostics={"divergences": 0},
    )
    close = {"mu": rng.normal(1.0, 0.5, 1000), "tau": rng.gamma(1.5, 2.0, 1000)}  # the same distribution
    narrow = {"mu": rng.normal(1.2, 0.2, 1000), "tau": rng.lognormal(0.8, 0.3, 1000)}  # off centre, too narrow
    fits = {
        "nuts": nuts,
        "advi": _approximation("advi", "advi", narrow, 0.9),
        "fullrank_advi": _approximation("fullrank_advi", "fullrank_advi", close, 0.3),
        "laplace": Fit("laplace", "failed", "the density of the unconstrained coordinates has no mode"),
    }
    table = make_table(fits, ["mu", "tau"])
    assert table.loc["mu", "advi_gap_sd"] == pytest.approx(
        (table.loc["mu", "advi_mean"] - table.loc["mu", "mean"]) / table.loc["mu", "sd"]
    )
    assert np.isnan(table.loc["mu", "laplace_sample_gap_sd"])
    folder = tmp_path / "toy"
    folder.mkdir()
    results_tree(fits, table).to_netcdf(folder / "results.nc", engine="h5netcdf")
    info = {"title": "Toy", "story": "", "why_skewed": "", "references": []}
    dump_json(
        results_dict("toy", info, {"seed": 1, "solvers": list(fits)}, fits, table, "toy.py"), folder / "results.json"
    )
    results = load_all(tmp_path)[0]
    assert set(results.solver_draws) == {"advi", "fullrank_advi"}
    assert results.closest_approximation()[0] == "fullrank_advi"
    assert results.approximations()["laplace"]["distance"] is None
    render(tmp_path)
    page = (folder / "index.html").read_text()
    assert "Approximations of the posterior" in page and "0.90 (not to be trusted)" in page
    assert (folder / "fig-approximations-00-tau.png").is_file()  # tau is skewed, mu is not
    assert not list(folder.glob("fig-approximations-*-mu.png"))
    index = (tmp_path / "index.html").read_text()
    assert "closest approximation to NUTS" in index and "ADVI (full-rank)</td>" in index


def test_no_closest_approximation_without_a_reliable_nuts_or_a_trusted_khat():
    """Issue 32, item 7: an approximation is named closest to NUTS only when NUTS passed its checks and the
    approximation's k̂ is at most 0.7; otherwise the reason is data."""
    rng = np.random.default_rng(1)
    draws = {"mu": rng.normal(1.0, 0.5, (2, 500)), "tau": rng.gamma(1.5, 2.0, (2, 500))}
    summary = summarise_draws(az.from_dict({"posterior": draws}).posterior)
    close = {"mu": rng.normal(1.0, 0.5, 1000), "tau": rng.gamma(1.5, 2.0, 1000)}

    def closest(nuts, khat):
        fits = {"nuts": nuts, "advi": _approximation("advi", "advi", close, khat)}
        return closest_approximation(fits, make_table(fits, ["mu", "tau"]))

    reliable = Fit("nuts", "ok", "", 1.0, summary, converged=True, diagnostics={"divergences": 0})
    assert closest(reliable, 0.3)["solver"] == "advi"
    diverging = Fit("nuts", "ok", "267 divergent transitions", 1.0, summary, converged=False)
    named = closest(diverging, 0.3)
    assert named["solver"] is None and "267 divergent transitions" in named["reason"]
    assert named["measured"]["advi"]["distance"] < 0.3  # still measured, for the model page's table
    untrusted = closest(reliable, 0.9)
    assert untrusted["solver"] is None and "k̂ > 0.7 (ADVI (mean-field) 0.90)" in untrusted["reason"]
    assert closest_approximation({"nuts": reliable}, make_table({"nuts": reliable}, ["mu"])) is None


def test_solvers_all_and_the_missing_extra(monkeypatch):
    """``all`` names every solver, the approximations are not run by default, and without BlackJAX the
    pathfinder solver is refused before anything runs, saying what to install."""
    from modemean.comparisons.errors import ModemeanError
    from modemean.comparisons.solvers import SOLVERS, check_options, default_solvers
    from modemean.comparisons.solvers.approximations import pathfinder as module

    assert check_options("all", {})[0] == tuple(SOLVERS)
    assert not {"laplace", "advi", "fullrank_advi", "pathfinder"} & set(default_solvers())
    monkeypatch.setattr(module, "available", lambda: False)
    with pytest.raises(ModemeanError, match=r"pip install 'modemean\[approx\]'"):
        check_options("map,pathfinder", {})


@pytest.mark.slow
@pytest.mark.skipif(not available(), reason="BlackJAX is not installed: pip install 'modemean[approx]'")
def test_pathfinder_differentiates_with_pytensor_gradient():
    """zero_inflated_counts: JAX's own derivative of the jaxified log density is NaN in lam (a switch with
    log 0 on the untaken branch); the function Pathfinder gets has PyTensor's finite gradient."""
    import jax
    from pymc.sampling.jax import get_jaxified_graph

    from modemean.comparisons.density.space import ValueSpace
    from modemean.comparisons.solvers.approximations.pathfinder import _jax_log_density

    jax.config.update("jax_enable_x64", True)
    model = load_spec("zero_inflated_counts").model
    space = ValueSpace(model, [rv.name for rv in model.free_RVs])
    u = space.ravel(model.initial_point())
    value, grad = space.logp_jacobian(u)
    f = _jax_log_density(space, jax, get_jaxified_graph)
    assert float(f(u)) == pytest.approx(value, rel=1e-12)
    assert np.asarray(jax.grad(f)(u)) == pytest.approx(grad, rel=1e-10)
    assert np.asarray(jax.vmap(jax.grad(f))(np.stack([u, u + 0.1]))).shape == (2, space.size)
