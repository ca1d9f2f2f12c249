"""What the exact Gaussian E-step needs of the log joint ``f(z; theta) = log p(y, z | theta)``, checked on the graph.

* **Quadratic.** ``f`` must be a quadratic polynomial in the latents ``z`` for every ``theta``:
  checked at three random parameter points, the gradient in ``z`` affine (midpoint identities for the
  gradient and the value) and Hessian-vector products ``g(z + v) - g(z)`` not depending on ``z``
  (:func:`check_quadratic`).
* **Blocks.** When the latents share a leading axis of length ``G`` (one random intercept and slope
  per subject: ``b`` of shape ``(G, 2)``; or several latents of shape ``(G, ...)``), whether the
  Hessian is block-diagonal over that axis is tested once, at a random point (:func:`find_blocks`). If
  so no ``n x n`` matrix is ever formed: the ``G`` blocks of size ``k`` come from ``k`` Hessian-vector
  products (:func:`block_hessian`, one per position in the block, all groups at once; for an affine
  gradient ``H v = g(z + v) - g(z)`` exactly, so no second-order graph is compiled) and are factorised
  in a batch. Otherwise a dense Hessian is used for small latent sizes (``n <= DENSE_MAX``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from pymc.logprob.utils import ParameterValueError

__all__ = ["DENSE_MAX", "QUAD_RTOL", "NotGaussian", "block_hessian", "check_quadratic", "find_blocks"]

DENSE_MAX = 2000  # a latent vector up to this size may use a dense Hessian when no blocks exist
QUAD_RTOL = 1e-7  # the quadraticity checks must hold to this (relative to the vectors' sizes)

ValueGrad = Callable[[np.ndarray, np.ndarray], tuple]  # (z, u) -> (f, grad_z f)
HessianVectors = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]  # (z, u, V) -> rows H v


class NotGaussian(Exception):
    """The declared latents are not conditionally Gaussian: the message says why."""


def check_quadratic(
    fg: ValueGrad, random_u: Callable, random_z: Callable, u_init: np.ndarray, n: int, rng: np.random.Generator
) -> None:
    """``f`` is quadratic in ``z``: its gradient is affine and H v does not depend on ``z``.

    Raises
    ------
    NotGaussian
    """
    checked = 0
    for attempt in range(12):
        u = u_init if attempt == 0 else random_u(rng)
        za, zb, v = random_z(rng), random_z(rng), rng.normal(size=n)
        try:
            with np.errstate(all="ignore"):
                fa, ga = fg(za, u)
                fb, gb = fg(zb, u)
                fm, gm = fg(0.5 * (za + zb), u)
                hva = fg(za + v, u)[1] - ga
                hvb = fg(zb + v, u)[1] - gb
        except (ParameterValueError, ValueError, FloatingPointError):
            continue
        if not all(np.all(np.isfinite(x)) for x in (fa, fb, fm, ga, gb, gm, hva, hvb)):
            continue
        scale = np.linalg.norm(hva) + np.linalg.norm(ga) + np.linalg.norm(gb) + 1e-300
        if np.linalg.norm(hva - hvb) > QUAD_RTOL * scale:
            raise NotGaussian("its Hessian in the latents changes with the latents' values")
        if np.linalg.norm(gm - 0.5 * (ga + gb)) > QUAD_RTOL * scale:
            raise NotGaussian("its gradient in the latents is not affine in them")
        # a quadratic's value at the midpoint: f(a) + f(b) - 2 f(m) = 1/4 (b - a)' (g(b) - g(a))
        d = zb - za
        if abs(fa + fb - 2 * fm - 0.25 * d @ (gb - ga)) > QUAD_RTOL * (abs(fa) + abs(fb) + abs(fm) + 1.0):
            raise NotGaussian("its value is not a quadratic polynomial in the latents")
        checked += 1
        if checked == 3:
            return
    if not checked:
        raise NotGaussian("its log density is undefined at every random point tried")


def find_blocks(
    hv: HessianVectors,
    z_shapes: list[tuple],
    n: int,
    u: np.ndarray,
    random_z: Callable,
    rng: np.random.Generator,
) -> np.ndarray:
    """Index array ``(G, k)`` of conditionally independent blocks, tested once at a random point.

    Raises
    ------
    NotGaussian
        No blocks, and more than ``DENSE_MAX`` latent values.
    """
    lead = {s[0] if s else 0 for s in z_shapes}  # 0: a scalar latent
    idx = None
    if len(lead) == 1 and next(iter(lead)) > 1:
        G = next(iter(lead))
        cols, start = [], 0
        for shape in z_shapes:
            size = int(np.prod(shape))
            cols.append(start + np.arange(size).reshape(G, size // G))
            start += size
        idx = np.concatenate(cols, axis=1)
        z = random_z(rng)
        try:
            H = block_hessian(hv, z, u, idx, n)
            w = rng.normal(size=(G, 1)) + 2.0
            V = np.zeros((idx.shape[1], n))
            for j in range(idx.shape[1]):
                V[j, idx[:, j]] = w[:, 0]
            HV = hv(z, u, V)  # (k, n)
            expect = H * w[:, None, :]  # block g, column j, times w_g
            got = np.transpose(HV[:, idx], (1, 2, 0))  # (G, k, k): [g, i, j]
            if not np.allclose(got, expect, rtol=1e-8, atol=1e-10 * (np.abs(expect).max() + 1e-300)):
                idx = None
        except (ParameterValueError, ValueError, FloatingPointError):
            idx = None
    if idx is None:
        if n > DENSE_MAX:
            raise NotGaussian(
                f"its Hessian in the {n} latent values has no block structure along a "
                f"shared leading axis, and a dense one is refused above {DENSE_MAX}"
            )
        idx = np.arange(n)[None, :]
    return idx


def block_hessian(hv: HessianVectors, z: np.ndarray, u: np.ndarray, idx: np.ndarray, n: int) -> np.ndarray:
    """The ``G`` diagonal blocks of H, shape ``(G, k, k)``, from ``k`` Hessian-vector products."""
    G, k = idx.shape
    V = np.zeros((k, n))
    for j in range(k):
        V[j, idx[:, j]] = 1.0
    HV = hv(z, u, V)  # row j: column j of every block
    H = np.transpose(HV[:, idx], (1, 2, 0))  # [g, i, j] = H[idx[g, i], idx[g, j]]
    return 0.5 * (H + np.transpose(H, (0, 2, 1)))
