"""Shared model maths for the normal-mixture models (two_gaussians, old_faithful): not a catalog model.

Files in ``models/`` whose name starts with ``_`` are helpers: the catalog does not list them, and a
model's cache key hashes the helpers it imports (:func:`comparisons.cache.catalog_imports`).
"""

import numpy as np

__all__ = ["normal_mixture_m_step"]


def normal_mixture_m_step(
    moments: np.ndarray,
    sigma: np.ndarray,
    *,
    alpha: float | None = None,
    mu_loc: np.ndarray | None = None,
    mu_scale: float | None = None,
    sigma_scale: float | None = None,
    tol: float = 1e-14,
    max_iter: int = 500,
) -> dict:
    """Exact M-step of a 1-D normal mixture from the weighted moments, with or without priors.

    Without priors (``alpha is None``): the ML update (weights n_k/N, weighted means, weighted
    variances). With the priors w ~ Dirichlet(alpha), mu_k ~ N(mu_loc_k, mu_scale),
    sigma_k ~ HalfNormal(sigma_scale) (log densities without Jacobian, as find_MAP): the joint
    maximiser of the expected complete-data log posterior, found by alternating the two
    conditional closed forms (mu | sigma, sigma | mu) to a fixed point (each is exact, so this
    converges to the joint stationary point in a few steps — K-sized arithmetic, no data pass).
    An ordering constraint on the means (``transforms.ordered``) is not imposed: when the
    components overlap so much that the maximiser swaps them, the returned means are unordered
    (the numerical M-step would stop on the constraint instead).

    Parameters
    ----------
    moments : ndarray of shape (K, 3)
        ``sum_i r_ik [1, x_i, x_i^2]``.
    sigma : ndarray of shape (K,)
        Current sds (the start of the fixed-point iteration).

    Returns
    -------
    dict
        ``w`` (K,), ``mu`` (K,), ``sigma`` (K,).
    """
    with np.errstate(divide="ignore", invalid="ignore"):  # a collapsed component gives inf/nan: the E-step reports it
        return _normal_mixture_m_step(moments, sigma, alpha, mu_loc, mu_scale, sigma_scale, tol, max_iter)


def _normal_mixture_m_step(moments, sigma, alpha, mu_loc, mu_scale, sigma_scale, tol, max_iter):
    n, s1, s2 = moments[:, 0], moments[:, 1], moments[:, 2]
    if alpha is None:
        mu = s1 / n
        return {"w": n / n.sum(), "mu": mu, "sigma": np.sqrt(np.maximum(s2 / n - mu**2, 0.0))}
    K = len(n)
    w = (n + alpha - 1) / (n.sum() + K * (alpha - 1))
    sigma = np.asarray(sigma, dtype=float)
    s2p = sigma_scale**2
    for _ in range(max_iter):
        mu = (s1 / sigma**2 + mu_loc / mu_scale**2) / (n / sigma**2 + 1 / mu_scale**2)
        scatter = np.maximum(s2 - 2 * mu * s1 + n * mu**2, 0.0)
        new = np.sqrt(s2p * (-n + np.sqrt(n**2 + 4 * scatter / s2p)) / 2)
        done = np.max(np.abs(new - sigma) / (1e-300 + sigma)) < tol
        sigma = new
        if done:
            break
    mu = (s1 / sigma**2 + mu_loc / mu_scale**2) / (n / sigma**2 + 1 / mu_scale**2)
    return {"w": w, "mu": mu, "sigma": sigma}
