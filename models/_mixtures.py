"""Shared model maths for the normal-mixture models (two_gaussians, old_faithful): not a catalog model.

Files in ``models/`` whose name starts with ``_`` are helpers: the catalog does not list them, and a
model's cache key hashes the helpers it imports (:func:`comparisons.run.hashing.catalog_imports`).
"""

import numpy as np

__all__ = ["normal_mixture_m_step"]


def normal_mixture_m_step(
    moments: np.ndarray,
    sigma: np.ndarray,
    *,
    resp: np.ndarray | None = None,
    x: np.ndarray | None = None,
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

    The spreads need the scatter about each mean, ``sum_i r_ik (x_i - m_k)^2``. From the moments
    alone it is ``s2 - s1^2 / n``, which loses its digits to cancellation when a component is far
    narrower than its distance from 0 (sigma_k / |mu_k| below about 1e-5: the log likelihood then
    moves by ~1e-9 from one M-step to the next in either direction). Given ``resp`` and ``x``, the
    scatter is summed about the weighted mean directly (two passes), exact to rounding.

    Parameters
    ----------
    moments : ndarray of shape (K, 3)
        ``sum_i r_ik [1, x_i, x_i^2]``.
    sigma : ndarray of shape (K,)
        Current sds (the start of the fixed-point iteration).
    resp : ndarray of shape (N, K), optional
        The responsibilities ``r_ik`` the moments were summed with (``None`` where the E-step gave
        moments only: then the scatter comes from the moments).
    x : ndarray of shape (N,), optional
        The observations; needed with ``resp``.

    Returns
    -------
    dict
        ``w`` (K,), ``mu`` (K,), ``sigma`` (K,).
    """
    with np.errstate(divide="ignore", invalid="ignore"):  # a collapsed component gives inf/nan: the E-step reports it
        n, s1 = moments[:, 0], moments[:, 1]
        mean = np.divide(s1, n, out=np.zeros_like(s1), where=n > 0)  # 0 for an empty component: no scatter
        if resp is None:
            scatter = np.maximum(moments[:, 2] - mean * s1, 0.0)
        else:
            scatter = np.einsum("ik,ik->k", resp, (np.asarray(x, dtype=float)[:, None] - mean) ** 2)
        return _normal_mixture_m_step(n, s1, mean, scatter, sigma, alpha, mu_loc, mu_scale, sigma_scale, tol, max_iter)


def _normal_mixture_m_step(n, s1, mean, scatter, sigma, alpha, mu_loc, mu_scale, sigma_scale, tol, max_iter):
    """The M-step from ``n_k``, ``s1_k = sum_i r_ik x_i`` and the scatters about ``s1_k / n_k`` (each (K,))."""
    if alpha is None:
        return {"w": n / n.sum(), "mu": s1 / n, "sigma": np.sqrt(scatter / n)}
    K = len(n)
    w = (n + alpha - 1) / (n.sum() + K * (alpha - 1))
    sigma = np.asarray(sigma, dtype=float)
    s2p = sigma_scale**2
    for _ in range(max_iter):
        mu = (s1 / sigma**2 + mu_loc / mu_scale**2) / (n / sigma**2 + 1 / mu_scale**2)
        about_mu = scatter + n * (mean - mu) ** 2  # sum_i r_ik (x_i - mu_k)^2, no cancellation
        new = np.sqrt(s2p * (-n + np.sqrt(n**2 + 4 * about_mu / s2p)) / 2)
        done = np.max(np.abs(new - sigma) / (1e-300 + sigma)) < tol
        sigma = new
        if done:
            break
    mu = (s1 / sigma**2 + mu_loc / mu_scale**2) / (n / sigma**2 + 1 / mu_scale**2)
    return {"w": w, "mu": mu, "sigma": sigma}
