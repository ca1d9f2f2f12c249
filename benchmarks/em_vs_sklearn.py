"""EM on a 1-D normal mixture (N = 10^6, K = 3): modemean's two paths against scikit-learn.

Run: ``.venv/bin/python benchmarks/em_vs_sklearn.py`` (needs the ``bench`` extra: scikit-learn).
Prints a Markdown table for ``benchmarks/README.md``.

All three fit the same data from the same start with maximum likelihood:

* **closed form** -- modemean's fast path: the log joint's quadratic coefficients read off the PyMC
  graph, E-step and weighted moments in cache-sized blocks, closed-form M-step;
* **generic** -- the E-step from the PyMC model: its log joint compiled with ``z`` vectorised over K
  (numba), softmax/logsumexp over K in numpy, the responsibilities' moments by one matrix
  product, the same closed-form M-step;
* **scikit-learn** -- ``GaussianMixture(covariance_type="spherical", reg_covar=0)``.

Per-iteration times are medians over repeated blocks of iterations in one process (compilation
excluded; scikit-learn's initialisation excluded by timing 1 and 1 + n iterations). "Iterations"
counts the EM iterations each needs until every parameter is within 1e-6 (relative, + absolute)
of EM's fixed point; "total" is iterations x time per iteration. The floor is one ``np.exp`` over
K*N values plus one ``np.log`` over N values, measured in the same run.
"""

from __future__ import annotations

import datetime
import os
import time
import warnings

import numpy as np
import pymc as pm
from readme_section import machine

from modemean.comparisons.spec import spec_from_parts
from modemean.models._mixtures import normal_mixture_m_step

N, K, SEED, REPEATS, BLOCK_ITERS, TARGET = 1_000_000, 3, 0, 5, 10, 1e-6
TRUE = {"w": np.array([0.3, 0.4, 0.3]), "mu": np.array([-3.0, 0.0, 3.0]), "sigma": np.array([1.0, 0.7, 1.5])}


def build(data):
    """K-component normal mixture with explicit labels (priors irrelevant: the benchmark is ML-EM)."""
    with pm.Model() as model:
        w = pm.Dirichlet("w", a=np.ones(K))
        mu = pm.Normal("mu", np.linspace(-1, 1, K), 10.0, transform=pm.distributions.transforms.ordered)
        sigma = pm.HalfNormal("sigma", 5.0, shape=K)
        z = pm.Categorical("z", p=w, shape=len(data["x"]))
        pm.Normal("x", mu=mu[z], sigma=sigma[z], observed=data["x"])
    return model


def m_step(data, expectations, prior):
    """ML closed form from the weighted moments."""
    return normal_mixture_m_step(expectations["moments"], expectations["params"]["sigma"])


def data_and_start():
    rng = np.random.default_rng(SEED)
    z = rng.choice(K, size=N, p=TRUE["w"])
    x = rng.normal(TRUE["mu"][z], TRUE["sigma"][z])
    start = {"w": np.full(K, 1 / K), "mu": np.quantile(x, [0.1, 0.5, 0.9]), "sigma": np.full(K, np.std(x) / 2)}
    return x, start


def flat(p):
    return np.concatenate([np.ravel(p["w"]), np.ravel(p["mu"]), np.ravel(p["sigma"])])


def iterations_to(path, star):
    """First iteration at which the parameters are within TARGET of ``star``."""
    for it, p in enumerate(path):
        if np.max(np.abs(flat(p) - star) / (1 + np.abs(star))) < TARGET:
            return it
    return None


def modemean_path(e_step, start, n):
    params, path = start, [start]
    for _ in range(n):
        expectations, _ = e_step(params)
        params = m_step(None, expectations, None)
        path.append(params)
    return path


def time_modemean(e_step, start):
    params = modemean_path(e_step, start, 3)[-1]  # warm: compiled, caches loaded
    times = []
    for _ in range(REPEATS):
        t = time.perf_counter()
        for _ in range(BLOCK_ITERS):
            expectations, _ = e_step(params)
            params = m_step(None, expectations, None)
        times.append((time.perf_counter() - t) / BLOCK_ITERS)
    return float(np.median(times))


def sklearn_model(start, max_iter, warm=False):
    from sklearn.mixture import GaussianMixture

    return GaussianMixture(
        K,
        covariance_type="spherical",
        tol=0.0,
        reg_covar=0.0,
        max_iter=max_iter,
        weights_init=start["w"],
        means_init=start["mu"][:, None],
        precisions_init=1 / start["sigma"] ** 2,
        warm_start=warm,
    )


def time_sklearn(X, start):
    from sklearn.exceptions import ConvergenceWarning

    times = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for _ in range(REPEATS):
            t = time.perf_counter()
            sklearn_model(start, 1).fit(X)
            one = time.perf_counter() - t
            t = time.perf_counter()
            sklearn_model(start, 1 + BLOCK_ITERS).fit(X)
            times.append((time.perf_counter() - t - one) / BLOCK_ITERS)
    return float(np.median(times))


def sklearn_path(X, start, n):
    from sklearn.exceptions import ConvergenceWarning

    gm = sklearn_model(start, 1, warm=True)
    path = [start]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for _ in range(n):
            gm.fit(X)  # warm start: one EM iteration per call
            path.append({"w": gm.weights_.copy(), "mu": gm.means_[:, 0].copy(), "sigma": np.sqrt(gm.covariances_)})
    return path


def time_floor():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=K * N), rng.uniform(1, 2, N)
    times = []
    for _ in range(REPEATS * 2):
        t = time.perf_counter()
        np.exp(a)
        np.log(b)
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def main():
    import sklearn

    x, start = data_and_start()
    X = x[:, None]
    spec = spec_from_parts(build, {"x": x}, name="bench", latent=("z",), em={"m_step": m_step})
    closed = spec.em_engine.e_step  # the blocked fast E-step: the model gives a closed-form M-step
    generic = spec.em_engine.derived.e_step  # the E-step from the graph
    t = time.perf_counter()
    generic(start)
    setup_generic = time.perf_counter() - t
    t = time.perf_counter()
    closed(start)
    setup_closed = time.perf_counter() - t

    # EM's fixed point: the closed-form path run long past convergence
    star = flat(modemean_path(closed, start, 1500)[-1])
    n_path = 600
    iters = {
        "closed form": iterations_to(modemean_path(closed, start, n_path), star),
        "generic": iterations_to(modemean_path(generic, start, n_path), star),
        "scikit-learn": iterations_to(sklearn_path(X, start, n_path), star),
    }
    per = {
        "scikit-learn": time_sklearn(X, start),
        "closed form": time_modemean(closed, start),
        "generic": time_modemean(generic, start),
    }
    floor = time_floor()

    import pytensor
    import scipy

    print(
        f"Machine: {machine()}; date {datetime.date.today().isoformat()}; numpy {np.__version__}, "
        f"scipy {scipy.__version__}, scikit-learn {sklearn.__version__}, pymc {pm.__version__}, "
        f"pytensor {pytensor.__version__}."
    )
    print(
        f"One-off set-up: generic {setup_generic:.1f} s (compiling the graph's log joint + first E-step), then "
        f"closed form {setup_closed:.1f} s more (probe model, check against the graph). Load average during "
        f"the run: {os.getloadavg()[0]:.1f}. EM fixed point: {np.round(star, 4).tolist()}.\n"
    )
    print(
        "| implementation | ms / iteration | × scikit-learn | × floor | iterations to 1e-6 | total ms "
        "| total × scikit-learn |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    ref_total = per["scikit-learn"] * iters["scikit-learn"] if iters["scikit-learn"] is not None else None
    for name in ("scikit-learn", "closed form", "generic"):
        n = iters[name]
        total = per[name] * n if n is not None else None
        ratio_total = f"{total / ref_total:.3f}" if total is not None and ref_total else "—"
        print(
            f"| {name} | {per[name] * 1e3:.1f} | {per[name] / per['scikit-learn']:.3f} | {per[name] / floor:.1f} | "
            f"{n if n is not None else f'> {n_path}'} | {total * 1e3:.0f} | {ratio_total} |"
            if total is not None
            else f"| {name} | {per[name] * 1e3:.1f} | {per[name] / per['scikit-learn']:.3f} "
            f"| {per[name] / floor:.1f} | "
            f"> {n_path} | — | — |"
        )
    print(
        f"| floor: np.exp over K·N + np.log over N | {floor * 1e3:.2f} | {floor / per['scikit-learn']:.3f} "
        "| 1.0 | | | |"
    )


if __name__ == "__main__":
    main()
