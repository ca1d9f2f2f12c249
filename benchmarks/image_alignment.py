"""Image alignment (cryo-EM in miniature): one EM iteration against numpy, and the floor; the whole model.

Run: ``.venv/bin/python benchmarks/image_alignment.py [--no-whole]``. Writes its section of
``benchmarks/README.md``.

The E-step is the same computation everywhere: for every observation i and pose k the log density
``log pi_ik + sum_p log N(y_ip | (A_k theta)_p, s)`` (K poses x N images x P pixels), then the
softmax and logsumexp over k. Timed, in one process, medians of repeated calls (compilation
excluded):

* **modemean** -- the E-step from the PyMC graph (``DiscreteLatentEM.e_step``: the model's log joint
  with the pose vectorised over K, compiled by PyTensor; softmax/logsumexp in numpy), and the EM
  iteration with the model's closed-form M-step (one Cholesky solve of size P);
* **numpy** -- the same E-step written directly: the K rotated images by the same bilinear stencil,
  the (K, N, P) residuals, their squared sum over pixels, ``scipy.special.logsumexp``;
* **numpy, matmul** -- the squared distance expanded as ``|y|^2 - 2 y.m + |m|^2``, the cross term one
  (N, P) x (P, K) matrix product (what a careful hand implementation does; no (K, N, P) array);
* **floor** -- one pass over K x N x P values: ``np.subtract`` of the rotated images from the
  observations into a preallocated (K, N, P) buffer.

Targets (issue 18): modemean's E-step <= 1x numpy, <= 3x the floor.
"""

from __future__ import annotations

import argparse
import datetime
import os
import resource
import time

import numpy as np
from readme_section import machine, write_section
from scipy import special

from modemean import compare, models
from modemean.comparisons.density.prior import LogPrior
from modemean.comparisons.em.discrete import DiscreteLatentEM
from modemean.models import _images as im

REPEATS, CALLS = 7, 20
CASES = (("catalog (16 x 16, K = 8, N = 100)", {}), ("larger (24 x 24, K = 8, N = 200)", {"size": 24, "n_obs": 200}))


def _median_ms(f, calls: int = CALLS) -> float:
    f()
    times = []
    for _ in range(REPEATS):
        t = time.perf_counter()
        for _ in range(calls):
            f()
        times.append((time.perf_counter() - t) / calls)
    return 1e3 * float(np.median(times))


def numpy_e_step(y, theta, index, weight, log_pi, sd):
    """The E-step in numpy: (K, N, P) residuals; responsibilities (N, K) and the log likelihood."""
    rotated = (theta[index] * weight).sum(axis=-1)  # (K, P)
    constant = y.shape[1] * np.log(sd * np.sqrt(2 * np.pi))
    joint = -0.5 * ((y[None] - rotated[:, None]) ** 2).sum(axis=-1) / sd**2 - constant + log_pi  # (K, N)
    total = special.logsumexp(joint, axis=0)
    return np.exp(joint - total).T, float(total.sum())


def matmul_e_step(y, y2, theta, index, weight, log_pi, sd):
    """The same E-step with the squared distance expanded: one (N, P) x (P, K) product."""
    rotated = (theta[index] * weight).sum(axis=-1)
    joint = (
        -0.5 * (y2[None] - 2 * (rotated @ y.T) + (rotated**2).sum(axis=1)[:, None]) / sd**2
        - y.shape[1] * np.log(sd * np.sqrt(2 * np.pi))
        + log_pi
    )
    total = special.logsumexp(joint, axis=0)
    return np.exp(joint - total).T, float(total.sum())


def case(options: dict) -> dict:
    data = im.simulate(**options)
    y, sd, K = data["y"], float(data["noise_sd"]), int(data["n_poses"])
    N, P = y.shape
    model = models.get("image_alignment").build(data)
    engine = DiscreteLatentEM(model, "z")
    prior = LogPrior(model, ["theta"])
    theta = im.em_starts(data, 1, np.random.default_rng(0))[0]["theta"]
    index, weight = im.rotation_stencil(int(round(np.sqrt(P))), K)
    with np.errstate(divide="ignore"):
        log_pi = np.log(im.pose_prior(N, K)).T
    y2 = (y**2).sum(axis=1)
    ours, loglik = engine.e_step({"theta": theta})
    theirs, loglik_np = numpy_e_step(y, theta, index, weight, log_pi, sd)
    fused, loglik_mm = matmul_e_step(y, y2, theta, index, weight, log_pi, sd)
    assert np.allclose(ours["resp"], theirs, atol=1e-9) and np.allclose(ours["resp"], fused, atol=1e-6)
    assert abs(loglik - loglik_np) < 1e-8 * abs(loglik) and abs(loglik - loglik_mm) < 1e-8 * abs(loglik)
    buffer = np.empty((K, N, P))
    rotated = (theta[index] * weight).sum(axis=-1)
    im.m_step(data, ours, prior)  # reads the prior's precision once (cached on the prior)
    out = {
        "K x N x P": K * N * P,
        "modemean E-step": _median_ms(lambda: engine.e_step({"theta": theta})),
        "numpy E-step": _median_ms(lambda: numpy_e_step(y, theta, index, weight, log_pi, sd)),
        "numpy matmul E-step": _median_ms(lambda: matmul_e_step(y, y2, theta, index, weight, log_pi, sd)),
        "floor": _median_ms(lambda: np.subtract(y[None], rotated[:, None], out=buffer)),
        "M-step": _median_ms(lambda: im.m_step(data, ours, prior)),
    }
    return out


def whole(name: str) -> dict:
    """Wall and CPU seconds per solver at default settings (the compile cache warmed by a first call).

    CPU seconds count this process and its finished children (NUTS runs its chains in 2 processes):
    on a machine shared with other jobs the wall time stretches, the CPU time much less.
    """
    compare(name, solvers="map,em", seed=1)  # warms the compile cache for map and em
    out = {}
    for solver in ("map", "em", "nuts"):
        before = _cpu()
        c = compare(name, solvers=solver)
        out[solver] = (c.fits[solver].seconds, _cpu() - before)
    return out


def _cpu() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-whole", action="store_true", help="skip the whole-model runs (minutes)")
    args = parser.parse_args()
    lines = [
        f"{machine()}; {datetime.date.today().isoformat()}; medians of {REPEATS} x {CALLS} calls in one "
        "process, compilation excluded.",
        "",
        "| case | K·N·P | modemean E-step (ms) | numpy E-step (ms) | numpy matmul E-step (ms) | floor (ms) "
        "| modemean / numpy | modemean / floor | M-step (ms) | EM iteration (ms) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, options in CASES:
        r = case(options)
        lines.append(
            f"| {label} | {r['K x N x P']:,} | {r['modemean E-step']:.2f} | {r['numpy E-step']:.2f} | "
            f"{r['numpy matmul E-step']:.2f} | {r['floor']:.2f} | "
            f"{r['modemean E-step'] / r['numpy E-step']:.2f} | "
            f"{r['modemean E-step'] / r['floor']:.2f} | {r['M-step']:.2f} | "
            f"{r['modemean E-step'] + r['M-step']:.2f} |"
        )
        print(lines[-1], flush=True)
    if not args.no_whole:
        lines += [
            "",
            "Whole model, default settings (map: 4 starts; em: 5 restarts, em and mle; nuts: 4 chains x "
            "(1000 tune + 1000 draws) on 2 cores), warm compile cache; wall seconds (CPU seconds, this "
            f"process and its children; load average {os.getloadavg()[0]:.1f} when it started):",
            "",
            "| model | map | em | nuts | total |",
            "|---|---:|---:|---:|---:|",
        ]
        for name in ("image_alignment", "image_alignment_learned"):
            s = whole(name)
            total = [sum(v[i] for v in s.values()) for i in (0, 1)]
            lines.append(f"| {name} | " + " | ".join(f"{w:.1f} ({c:.1f})" for w, c in [*s.values(), total]) + " |")
            print(lines[-1], flush=True)
    table = "\n".join(lines)
    print(table)
    write_section(
        "image_alignment", "Image alignment: EM iteration vs numpy and the floor (`image_alignment.py`)", table
    )


if __name__ == "__main__":
    main()
