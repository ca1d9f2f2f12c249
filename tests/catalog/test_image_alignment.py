"""Image alignment (cryo-EM in miniature): the rotation operators, the E-step against numpy, EM, the priors."""

import json

import numpy as np
import pytest
import xarray as xr
from scipy import special, stats

from modemean import compare, models
from modemean.comparisons.density.prior import LogPrior
from modemean.comparisons.em.discrete import DiscreteLatentEM
from modemean.comparisons.em.engine import HandWritten
from modemean.comparisons.em.loop import run_em
from modemean.models import _images as im
from modemean.reports import images
from modemean.reports.load import ModelResults

NAMES = ("image_alignment", "image_alignment_learned")
SMALL = {"size": 12, "n_poses": 4, "n_obs": 30, "noise_sd": 0.8}  # 144 pixels: fast to compile and to solve


def _small(name):
    """The model built on a small simulation of the same family, its written model and its EM engine."""
    data = im.simulate(**SMALL)
    model = models.get(name).build(data)
    return data, model, DiscreteLatentEM(model, "z")


def test_rotations_by_quarter_turns_are_exact():
    """Bilinear interpolation at multiples of 90 degrees moves whole pixels: np.rot90, independently."""
    size = 12
    image = np.random.default_rng(0).normal(size=(size, size))
    ops = im.rotation_operators(size, 4)
    np.testing.assert_array_equal((ops[0] @ image.ravel()).reshape(size, size), image)
    for k in (1, 2, 3):  # counter-clockwise in (x right, y down) pixel coordinates = np.rot90 clockwise
        np.testing.assert_allclose((ops[k] @ image.ravel()).reshape(size, size), np.rot90(image, -k), atol=1e-12)


def test_rotation_keeps_the_particle_inside_the_image():
    """The particle lies in the inscribed disk: a rotation by 45 degrees loses (almost) none of its mass."""
    truth = im.simulate()["truth"]
    ops = im.rotation_operators(im.SIZE, 8)
    assert abs((ops[1] @ truth).sum() / truth.sum() - 1) < 0.01
    assert np.linalg.norm(ops[4] @ truth - truth) > 0.5 * np.linalg.norm(truth)  # no symmetry under a half turn


@pytest.mark.parametrize("name", NAMES)
def test_e_step_objective_is_the_numpy_marginal_density(name):
    """log p(y | theta) from the engine (the PyMC graph) = sum_i logsumexp_k [log pi_ik + log N(y_i | A_k theta, s)]."""
    data, model, engine = _small(name)
    y, sd, K = data["y"], float(data["noise_sd"]), int(data["n_poses"])
    ops = im.rotation_operators(SMALL["size"], K)
    log_pi = np.log(np.maximum(im.pose_prior(len(y), K), 1e-300))
    log_pi[im.pose_prior(len(y), K) == 0] = -np.inf
    rng = np.random.default_rng(1)
    for _ in range(3):
        theta = rng.normal(0, 0.5, y.shape[1])
        joint = np.stack([stats.norm.logpdf(y, A @ theta, sd).sum(axis=1) for A in ops], axis=1) + log_pi  # (N, K)
        expectations, loglik = engine.e_step({"theta": theta})
        np.testing.assert_allclose(loglik, special.logsumexp(joint, axis=1).sum(), rtol=1e-10)
        np.testing.assert_allclose(expectations["resp"], special.softmax(joint, axis=1), atol=1e-10)


@pytest.mark.parametrize("with_prior", [True, False], ids=["map", "ml"])
@pytest.mark.parametrize("name", NAMES)
def test_closed_form_m_step_equals_the_numerical_one(name, with_prior):
    """The model's linear-solve M-step = the engine's L-BFGS on the expected complete-data log density."""
    data, model, engine = _small(name)
    prior = LogPrior(model, ["theta"]) if with_prior else None
    start = im.em_starts(data, 1, np.random.default_rng(0))[0]
    expectations, _ = engine.e_step(start)
    closed = im.m_step(data, expectations, prior)["theta"]
    numerical = engine.m_step(expectations, with_prior)["theta"]
    np.testing.assert_allclose(closed, numerical, atol=2e-5 * np.abs(closed).max())


@pytest.mark.parametrize("with_prior", [True, False], ids=["map_em", "ml_em"])
@pytest.mark.parametrize("name", NAMES)
def test_em_objective_never_decreases(name, with_prior):
    data, model, engine = _small(name)
    prior = LogPrior(model, ["theta"]) if with_prior else None
    for start in im.em_starts(data, 2, np.random.default_rng(0)):
        steps = HandWritten(None, lambda _, p: engine.e_step(p), im.m_step, data)
        run = run_em(steps, start, prior=prior, max_iter=200)
        assert not run.error and run.converged, run.error
        assert run.n_iter >= 3
        assert np.diff(run.trace).min() >= -1e-12 * abs(run.trace[-1]), np.diff(run.trace).min()


@pytest.fixture(scope="module")
def catalog_em():
    """MAP-EM under each prior and ML-EM, on the catalog data (100 images, 256 pixels), from the canonical start."""
    out = {}
    for name in NAMES:
        data = models.get(name).load_data()
        model = models.get(name).build(data)
        engine = DiscreteLatentEM(model, "z")
        prior = LogPrior(model, ["theta"])
        start = im.em_starts(data, 1, np.random.default_rng(0))[0]
        steps = HandWritten(None, lambda _, p, engine=engine: engine.e_step(p), im.m_step, data)
        runs = {column: run_em(steps, start, prior=p) for column, p in (("em", prior), ("mle", None))}
        assert all(r.converged and not r.decreases for r in runs.values())
        y, pose, sd, K = data["y"], data["pose"], float(data["noise_sd"]), int(data["n_poses"])
        out[name] = {
            "data": data,
            "em": runs["em"].params["theta"],
            "mle": runs["mle"].params["theta"],
            "oracle": im.oracle(y, pose, K, sd, *im.gaussian_prior_of(prior, "theta", y.shape[1])),
            "oracle_mle": im.oracle(y, pose, K, sd),
            "resp": engine.e_step(runs["em"].params)[0]["resp"],
        }
    return out


def test_recovery_within_a_stated_error_of_the_oracle(catalog_em):
    """Not knowing the poses costs little under the learned prior, more under the smoothness prior (stated bounds)."""
    learned, smooth = catalog_em["image_alignment_learned"], catalog_em["image_alignment"]
    truth = learned["data"]["truth"]
    assert im.relative_error(learned["em"], learned["oracle"]) < 0.1
    assert im.relative_error(smooth["em"], smooth["oracle"]) < 0.3
    assert im.relative_error(learned["mle"], learned["oracle_mle"]) < 0.5
    assert im.relative_error(learned["oracle"], truth) < 0.15  # the oracle itself is close to the truth
    for case in (learned, smooth):  # most poses recovered, in observation 0's frame
        assert np.mean(case["resp"].argmax(axis=1) == case["data"]["pose"]) > 0.7
    np.testing.assert_allclose(learned["mle"], smooth["mle"], atol=1e-8)  # ML-EM does not see the prior


def test_the_learned_prior_lowers_the_error_at_low_snr(catalog_em):
    truth = catalog_em["image_alignment"]["data"]["truth"]
    error = {k: im.relative_error(v["em"], truth) for k, v in catalog_em.items()}
    ml = im.relative_error(catalog_em["image_alignment"]["mle"], truth)
    assert error["image_alignment_learned"] < 0.5 * error["image_alignment"] < 0.5 * ml


def test_the_learned_prior_is_read_off_the_model_exactly():
    """The precision probed from the PyMC prior's gradient is the PPCA covariance's inverse."""
    data = im.simulate(**SMALL)
    model = models.get("image_alignment_learned").build(data)
    precision, shift = im.gaussian_prior_of(LogPrior(model, ["theta"]), "theta", 144)
    learned = im.learned_prior(12)
    V = learned["components"]
    cov = V.T @ np.diag(learned["variances"] - learned["s2"]) @ V + learned["s2"] * np.eye(144)
    np.testing.assert_allclose(precision @ cov, np.eye(144), atol=1e-6)
    np.testing.assert_allclose(np.linalg.solve(precision, shift), learned["mean"], atol=1e-8)


# ------------------------------------------------------------------------ the payload hook and the report section

PAYLOAD_MODEL = """
import numpy as np
import pymc as pm

INFO = {"title": "t", "story": "s", "why_skewed": "w", "references": []}

def load_data():
    return {"y": np.array([0.1, -0.3, 0.4])}

def build(data):
    with pm.Model() as model:
        mu = pm.Normal("mu", 0, 1)
        pm.Normal("y", mu, 1, observed=data["y"])
    return model

def payload(comparison):
    return {"image": np.arange(6.0).reshape(2, 3), "label": np.array([3, 1])}
"""


def test_payload_is_saved_with_the_results_and_read_back_from_the_cache(tmp_path):
    path = tmp_path / "with_payload.py"
    path.write_text(PAYLOAD_MODEL)
    first = compare(path, solvers="map", out=tmp_path / "out")
    with xr.open_datatree(tmp_path / "out" / "with_payload" / "results.nc", engine="h5netcdf") as tree:
        np.testing.assert_array_equal(tree["payload"]["image"].values, np.arange(6.0).reshape(2, 3))
    again = compare(path, solvers="map", out=tmp_path / "out")
    assert again.cached and not first.cached
    np.testing.assert_array_equal(again.payload["label"], [3, 1])


def _fake_results(out, name, truth, em, highlights):
    """A results folder as a run of an image model writes it (no solver: the section reads files only)."""
    folder = out / name
    folder.mkdir(parents=True)
    P = truth.size
    params = {f"theta[{i}]": {"em": em[i], "mle": em[i] + 0.1, "mean": em[i] + 0.01, "sd": 0.2} for i in range(P)}
    (folder / "results.json").write_text(json.dumps({"parameters": params, "solvers": {}, "highlights": highlights}))
    rng = np.random.default_rng(0)
    payload = {
        "truth": truth,
        "oracle": truth + 0.01,
        "observations": rng.normal(size=(3, P)),
        "shown": np.array([0, 1, 2]),
        "pose": np.array([0, 2, 1, 3]),
        "resp_em": np.eye(4)[[0, 2, 1, 3]],
        "resp_nuts": np.full((4, 4), 0.25),
    }
    xr.DataTree(
        children={
            "payload": xr.DataTree(
                xr.Dataset({k: ([f"{k}_{i}" for i in range(np.ndim(v))], v) for k, v in payload.items()})
            )
        }
    ).to_netcdf(folder / "results.nc", engine="h5netcdf")
    return folder


def _results(out, name):
    return ModelResults(name, out / name, json.loads((out / name / "results.json").read_text()))


def test_image_section_draws_the_images_and_the_same_data_under_another_prior(tmp_path):
    truth = np.linspace(0, 1, 16)
    _fake_results(tmp_path, "a", truth, truth + 0.05, {"MAP-EM (em): error vs truth": 0.111})
    _fake_results(tmp_path, "b", truth, truth - 0.02, {"MAP-EM (em): error vs truth": 0.222})
    _fake_results(tmp_path, "other_data", truth + 1, truth, {})
    html = images.section(_results(tmp_path, "a"))
    assert (tmp_path / "a" / "fig-images.png").stat().st_size > 1000
    assert (tmp_path / "a" / "fig-poses.png").stat().st_size > 1000
    assert "0.111" in html and "MAP-EM, b" in html and "0.222" in html and "other_data" not in html
    assert "Mode and mean" in html


def test_image_section_is_empty_for_a_model_without_images(tmp_path):
    folder = tmp_path / "plain"
    folder.mkdir()
    (folder / "results.json").write_text(json.dumps({"parameters": {}, "solvers": {}}))
    xr.DataTree().to_netcdf(folder / "results.nc", engine="h5netcdf")
    assert images.section(_results(tmp_path, "plain")) == ""
