"""Image maths shared by the image-alignment models: particles, rotation operators, the learned prior.

Not a catalog model (the leading underscore keeps it out of the catalog). Everything here is plain
numpy, deterministic given its seeds: the particle family, the K in-plane rotations as fixed linear
operators (bilinear interpolation), the seeded simulation of noisy observations, the learned
(probabilistic PCA) prior fitted on a separate training set, and the closed-form M-step of a
linear-Gaussian image model whose prior is Gaussian.
"""

from __future__ import annotations

import functools

import numpy as np
from scipy import linalg, ndimage, sparse
from threadpoolctl import ThreadpoolController

__all__ = [
    "SIZE",
    "N_POSES",
    "N_OBS",
    "NOISE_SD",
    "particle",
    "particle_family",
    "rotation_stencil",
    "rotation_operators",
    "operators",
    "simulate",
    "pose_prior",
    "learned_prior",
    "gaussian_prior_of",
    "closed_form_m_step",
    "oracle",
    "relative_error",
    "em_starts",
    "m_step",
    "highlights",
    "payload",
]

SIZE = 16  # the image is SIZE x SIZE pixels, P = SIZE**2 parameters
N_POSES = 8  # in-plane rotations by 2 pi k / N_POSES
N_OBS = 100  # noisy observations
NOISE_SD = 0.85  # per-pixel noise sd, known (see the models' stories)
DATA_SEED = 18  # observations (truth, poses, noise)
TRUTH_SEED = 1818  # the true particle, a member of the family
TRAIN_SEED = 1819  # the learned prior's training set (disjoint from the truth)
N_TRAIN = 400
PCA_RANK = 12

# the family: Gaussian blobs (centre x, centre y in pixels from the image centre, amplitude, width);
# no rotation maps this arrangement onto itself
BLOBS = np.array(
    [
        [0.0, -3.5, 1.0, 2.6],
        [3.8, 2.2, 0.9, 1.5],
        [-4.2, 3.2, 1.3, 1.1],
        [-1.0, 5.6, 0.7, 1.0],
    ]
)


def particle(rng: np.random.Generator, size: int = SIZE) -> np.ndarray:
    """One particle of the family: the base blobs, jittered; shape ``(size, size)``, zero near the corners.

    Blob centres move by N(0, 0.6) pixels, amplitudes scale by U(0.8, 1.2), widths by U(0.85, 1.15);
    everything lies inside the inscribed disk, so rotations do not clip it.
    """
    c = (size - 1) / 2
    yy, xx = np.mgrid[0:size, 0:size] - c
    image = np.zeros((size, size))
    scale = size / 24
    for x0, y0, amp, width in BLOBS:
        x0, y0 = (np.array([x0, y0]) + rng.normal(0, 0.6, 2)) * scale
        a = amp * rng.uniform(0.8, 1.2)
        w = width * rng.uniform(0.85, 1.15) * scale
        image += a * np.exp(-((xx - x0) ** 2 + (yy - y0) ** 2) / (2 * w**2))
    return image


def particle_family(n: int, seed: int, size: int = SIZE) -> np.ndarray:
    """``n`` particles of the family, shape ``(n, size * size)``, from ``seed``."""
    rng = np.random.default_rng(seed)
    return np.stack([particle(rng, size).ravel() for _ in range(n)])


def rotation_stencil(size: int = SIZE, n_poses: int = N_POSES) -> tuple[np.ndarray, np.ndarray]:
    """The K rotations as bilinear-interpolation stencils: indices and weights, each ``(K, P, 4)``.

    Pose ``k`` rotates the image by ``2 pi k / K`` about its centre: output pixel ``p`` is
    ``sum_j weight[k, p, j] * image[index[k, p, j]]``, the bilinear interpolation of the input at the
    point that rotates onto ``p``. A source point outside the image contributes 0 (weight 0).
    Pose 0 is the identity.
    """
    c = (size - 1) / 2
    yy, xx = np.mgrid[0:size, 0:size]
    x, y = (xx - c).ravel(), (yy - c).ravel()
    P = size * size
    index = np.zeros((n_poses, P, 4), dtype=np.int64)
    weight = np.zeros((n_poses, P, 4))
    for k in range(n_poses):
        phi = 2 * np.pi * k / n_poses
        # the source of output (x, y) under a rotation by phi is the point rotated by -phi
        sx = np.cos(phi) * x + np.sin(phi) * y + c
        sy = -np.sin(phi) * x + np.cos(phi) * y + c
        sx, sy = np.round(sx, 12), np.round(sy, 12)  # exact for multiples of 90 degrees
        x0, y0 = np.floor(sx).astype(int), np.floor(sy).astype(int)
        fx, fy = sx - x0, sy - y0
        corners = [
            (x0, y0, (1 - fx) * (1 - fy)),
            (x0 + 1, y0, fx * (1 - fy)),
            (x0, y0 + 1, (1 - fx) * fy),
            (x0 + 1, y0 + 1, fx * fy),
        ]
        for j, (cx, cy, w) in enumerate(corners):
            inside = (cx >= 0) & (cx < size) & (cy >= 0) & (cy < size)
            index[k, :, j] = np.where(inside, cy * size + cx, 0)
            weight[k, :, j] = np.where(inside, w, 0.0)
    return index, weight


def rotation_operators(size: int = SIZE, n_poses: int = N_POSES) -> list[sparse.csr_matrix]:
    """The K rotations as sparse ``(P, P)`` matrices ``A_k`` (``A_k @ image.ravel()`` rotates by ``2 pi k / K``)."""
    index, weight = rotation_stencil(size, n_poses)
    P = size * size
    rows = np.repeat(np.arange(P), 4)
    return [sparse.csr_matrix((weight[k].ravel(), (rows, index[k].ravel())), shape=(P, P)) for k in range(len(index))]


def simulate(
    size: int = SIZE, n_poses: int = N_POSES, n_obs: int = N_OBS, noise_sd: float = NOISE_SD, seed: int = DATA_SEED
) -> dict[str, np.ndarray]:
    """The seeded data: ``y`` (n_obs, P) noisy rotated copies of ``truth`` (P,), the true ``pose`` (n_obs,).

    Observation 0 is in pose 0 (the reference frame, see :func:`pose_prior`); the others' poses are
    uniform on the K rotations. ``noise_sd`` is stored with the data (a known constant).
    """
    truth = particle(np.random.default_rng(TRUTH_SEED), size).ravel()
    rng = np.random.default_rng(seed)
    pose = np.concatenate([[0], rng.integers(0, n_poses, n_obs - 1)])
    ops = rotation_operators(size, n_poses)
    clean = np.stack([ops[k] @ truth for k in pose])
    y = clean + rng.normal(0, noise_sd, clean.shape)
    return {"y": y, "pose": pose, "truth": truth, "noise_sd": np.array(noise_sd), "n_poses": np.array(n_poses)}


def pose_prior(n_obs: int, n_poses: int) -> np.ndarray:
    """P(z_i = k), shape ``(n_obs, K)``: uniform, except observation 0 fixed in pose 0 (the reference frame)."""
    p = np.full((n_obs, n_poses), 1.0 / n_poses)
    p[0] = np.eye(n_poses)[0]
    return p


@functools.lru_cache(maxsize=2)
def learned_prior(
    size: int = SIZE, n_train: int = N_TRAIN, rank: int = PCA_RANK, seed: int = TRAIN_SEED
) -> dict[str, np.ndarray]:
    """Probabilistic PCA (Tipping & Bishop 1999) fitted on ``n_train`` clean particles from ``seed``.

    The density is ``N(theta | mean, C)`` with ``C = V diag(variances - s2) V' + s2 I``: the top ``rank``
    principal directions ``V`` keep their variance, every other direction gets the mean residual
    variance ``s2``. Its energy in low-rank form, ``E = |d|^2 / (2 s2) - sum_j gain_j (v_j . d)^2 / 2``
    with ``d = theta - mean`` and ``gain_j = 1 / s2 - 1 / variances_j``, costs ``rank x P`` per
    evaluation instead of a ``P x P`` triangular solve. Regenerated deterministically from the seed
    (no file): the training set is disjoint from the truth (another seed of the same family).

    Returns
    -------
    dict
        ``mean`` (P,), ``components`` (rank, P) orthonormal rows, ``variances`` (rank,), ``s2`` (float),
        ``gain`` (rank,), ``explained`` (fraction of the training variance in the top ``rank``).
    """
    X = particle_family(n_train, seed, size)
    mean = X.mean(axis=0)
    _, sv, vt = np.linalg.svd(X - mean, full_matrices=False)
    eig = sv**2 / (n_train - 1)
    s2 = float(eig[rank:].sum() / (X.shape[1] - rank))
    variances = np.maximum(eig[:rank], s2)
    return {
        "mean": mean,
        "components": vt[:rank],
        "variances": variances,
        "s2": s2,
        "gain": 1.0 / s2 - 1.0 / variances,
        "explained": float(eig[:rank].sum() / eig.sum()),
    }


def gaussian_prior_of(prior, name: str, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Precision ``Lambda`` (P, P) and ``Lambda @ mean`` of a Gaussian log prior, read off the model's own prior.

    ``grad log p(theta) = -Lambda theta + Lambda mean`` for a Gaussian prior, so the gradient at 0 gives
    ``Lambda mean`` and the gradients at the unit vectors give the columns of ``Lambda``: no second copy
    of the prior density. The result is cached on the ``prior`` object.

    Parameters
    ----------
    prior : comparisons.density.prior.LogPrior
        The log prior compiled from the PyMC model (parameter ``name`` of shape ``(size,)``).
    """
    cached = getattr(prior, "_gaussian", None)
    if cached is not None:
        return cached
    g0 = prior.value_and_grad({name: np.zeros(size)})[1][name]
    columns = [g0 - prior.value_and_grad({name: e})[1][name] for e in np.eye(size)]
    precision = np.array(columns).T
    prior._gaussian = ((precision + precision.T) / 2, g0)
    return prior._gaussian


@functools.cache
def _blas() -> ThreadpoolController:
    """One controller for the BLAS thread pools (finding the libraries costs milliseconds per call)."""
    return ThreadpoolController()


@functools.lru_cache(maxsize=4)
def operators(size: int = SIZE, n_poses: int = N_POSES) -> tuple[list[sparse.csr_matrix], np.ndarray]:
    """The rotations :func:`rotation_operators` and their Gram matrices ``A_k' A_k``, shape (K, P, P) (cached)."""
    ops = rotation_operators(size, n_poses)
    return ops, np.ascontiguousarray(np.stack([(A.T @ A).toarray() for A in ops]))


def closed_form_m_step(
    y: np.ndarray,
    resp: np.ndarray,
    noise_sd: float,
    precision: np.ndarray | None = None,
    shift: np.ndarray | None = None,
) -> np.ndarray:
    """The exact M-step of ``y_i ~ N(A_{z_i} theta, noise_sd^2 I)`` with a Gaussian prior (or none).

    Maximises ``sum_i sum_k r_ik log N(y_i | A_k theta, s^2 I) + log N(theta | mean, Lambda^-1)``:
    ``(sum_k n_k A_k' A_k + s^2 Lambda) theta = sum_k A_k' (sum_i r_ik y_i) + s^2 Lambda mean``,
    with ``n_k = sum_i r_ik`` (one Cholesky solve of size P).

    Parameters
    ----------
    y : ndarray of shape (N, P)
    resp : ndarray of shape (N, K)
        Responsibilities P(z_i = k | y_i).
    noise_sd : float
    precision, shift : ndarray of shapes (P, P) and (P,), optional
        ``Lambda`` and ``Lambda @ mean`` of the prior (MAP-EM); ``None`` for maximum likelihood.

    Returns
    -------
    ndarray of shape (P,)
    """
    P, K = y.shape[1], resp.shape[1]
    ops, grams = operators(int(round(np.sqrt(P))), K)
    with _blas().limit(limits=1, user_api="blas"):  # OpenBLAS threads on a busy machine: 100x slower
        counts = resp.sum(axis=0)
        weighted = resp.T @ y  # (K, P): sum_i r_ik y_i
        lhs = (counts @ grams.reshape(K, P * P)).reshape(P, P)
        rhs = sum(A.T @ w for A, w in zip(ops, weighted, strict=True))
        if precision is not None:
            lhs += noise_sd**2 * precision
            rhs = rhs + noise_sd**2 * shift
        return linalg.cho_solve(linalg.cho_factor(lhs), rhs)


def oracle(
    y: np.ndarray,
    pose: np.ndarray,
    n_poses: int,
    noise_sd: float,
    precision: np.ndarray | None = None,
    shift: np.ndarray | None = None,
) -> np.ndarray:
    """The estimate that knows the true poses: :func:`closed_form_m_step` with one-hot responsibilities."""
    return closed_form_m_step(y, np.eye(n_poses)[pose], noise_sd, precision, shift)


def relative_error(estimate: np.ndarray, reference: np.ndarray) -> float:
    """``||estimate - reference|| / ||reference||``."""
    return float(np.linalg.norm(np.asarray(estimate) - reference) / np.linalg.norm(reference))


# ---------------------------------------------------------------------------------- the models' hooks


def em_starts(data: dict, n_init: int, rng: np.random.Generator) -> list[dict]:
    """Observation 0 (the reference frame) low-pass filtered, as a cryo-EM initial model is.

    The first start blurs it with a Gaussian of sd ``size / 12`` pixels; the others with sd
    ``size / 12`` x U(0.75, 1.5) plus N(0, 0.05) noise per pixel. (Unfiltered, at low SNR ML-EM aligns
    every observation to the noise of observation 0 and stays there: "Einstein from noise".)
    """
    y0 = np.asarray(data["y"][0], dtype=float)
    size = int(round(np.sqrt(y0.size)))
    image = y0.reshape(size, size)
    starts = [{"theta": ndimage.gaussian_filter(image, size / 12).ravel()}]
    for _ in range(n_init - 1):
        blurred = ndimage.gaussian_filter(image, size / 12 * rng.uniform(0.75, 1.5)).ravel()
        starts.append({"theta": blurred + rng.normal(0, 0.05, y0.size)})
    return starts


def m_step(data: dict, expectations: dict, prior) -> dict:
    """The closed-form M-step (:func:`closed_form_m_step`); the prior's precision read off the model's own prior.

    Parameters
    ----------
    expectations : dict
        ``resp`` (N, K) from the engine's E-step.
    prior : comparisons.density.prior.LogPrior or None
        MAP-EM (its Gaussian precision is read off it by :func:`gaussian_prior_of`) or ML-EM.
    """
    y = np.asarray(data["y"], dtype=float)
    gaussian = gaussian_prior_of(prior, "theta", y.shape[1]) if prior is not None else (None, None)
    return {"theta": closed_form_m_step(y, expectations["resp"], float(data["noise_sd"]), *gaussian)}


def _estimates(comparison) -> dict[str, np.ndarray]:
    """The table's image columns (``map``, ``mle``, ``em``, ``mean``, ``sd``) that were computed, each (P,)."""
    table = comparison.table
    rows = [n for n in table.index if n.startswith("theta[")]
    return {
        c: table.loc[rows, c].to_numpy(dtype=float)
        for c in ("map", "mle", "em", "mean", "sd")
        if c in table.columns and table.loc[rows, c].notna().all()
    }


def _known_poses(comparison) -> dict[str, np.ndarray]:
    """The oracle estimates that know the true poses: without a prior (ML) and with the model's prior (MAP)."""
    from modemean.comparisons.density.prior import LogPrior

    data = comparison.spec.data
    y, pose, sd, K = np.asarray(data["y"]), np.asarray(data["pose"]), float(data["noise_sd"]), int(data["n_poses"])
    prior = LogPrior(comparison.spec.as_written, ["theta"])
    return {
        "oracle_mle": oracle(y, pose, K, sd),
        "oracle": oracle(y, pose, K, sd, *gaussian_prior_of(prior, "theta", y.shape[1])),
    }


def _pose_posteriors(comparison, estimates: dict, max_draws: int = 200) -> dict[str, np.ndarray]:
    """P(z_i = k | y) at the MAP-EM image (``resp_em``) and averaged over NUTS draws (``resp_nuts``), each (N, K).

    Both come from the engine's E-step (the model's own graph): the posterior pose probability is
    ``E[P(z_i = k | theta, y)]`` over the posterior of theta, estimated from ``max_draws`` evenly
    spaced draws.
    """
    spec, out = comparison.spec, {}
    e_step = spec.em_engine.e_step  # the graph's (no fast path applies to image rows)
    if "em" in estimates:
        out["resp_em"] = e_step({"theta": estimates["em"]})[0]["resp"]
    nuts = comparison.fits.get("nuts")
    if nuts is not None and nuts.status == "ok" and nuts.draws is not None:
        draws = nuts.draws.posterior["theta"].values.reshape(-1, estimates["mean"].size)
        chosen = draws[np.linspace(0, len(draws) - 1, min(max_draws, len(draws))).astype(int)]
        out["resp_nuts"] = np.mean([e_step({"theta": t})[0]["resp"] for t in chosen], axis=0)
    return out


def highlights(comparison) -> dict[str, float]:
    """Errors of every image estimate against the truth and against the oracle that knows the poses.

    The error is ``||estimate - reference|| / ||reference||`` over the P pixels (relative RMSE),
    in observation 0's frame (the pin fixes the global rotation, so no re-alignment). "Oracle" is
    the estimate with the true poses: ML (no prior) for ML-EM, MAP with this model's prior for
    MAP-EM and the posterior mean.
    """
    est, truth = _estimates(comparison), np.asarray(comparison.spec.data["truth"])
    oracles = _known_poses(comparison)
    out = {
        "oracle ML (known poses): error vs truth": relative_error(oracles["oracle_mle"], truth),
        "oracle MAP (known poses, this prior): error vs truth": relative_error(oracles["oracle"], truth),
    }
    labels = {
        "mle": ("ML-EM (mle)", "oracle_mle", "oracle ML"),
        "em": ("MAP-EM (em)", "oracle", "oracle MAP"),
        "mean": ("posterior mean (nuts)", "oracle", "oracle MAP"),
    }
    for column, (label, reference, name) in labels.items():
        if column in est:
            out[f"{label}: error vs truth"] = relative_error(est[column], truth)
            out[f"{label}: error vs {name}"] = relative_error(est[column], oracles[reference])
    if "map" in est:  # find_MAP's starts may end in a globally rotated alignment: say which, and how close
        size = int(round(np.sqrt(truth.size)))
        K = int(comparison.spec.data["n_poses"])
        rotated = [relative_error(A @ est["map"], truth) for A in operators(size, K)[0]]
        out["find_MAP (map): error vs truth"] = relative_error(est["map"], truth)
        out["find_MAP (map): error vs truth after the best global rotation"] = float(min(rotated))
        out["find_MAP (map): that rotation, degrees"] = float(360 * int(np.argmin(rotated)) / K)
    if "em" in est and "mean" in est:
        out["distance posterior mean - MAP-EM, relative to ||truth||"] = float(
            np.linalg.norm(est["mean"] - est["em"]) / np.linalg.norm(truth)
        )
    poses = _pose_posteriors(comparison, est)
    pose = np.asarray(comparison.spec.data["pose"])
    for key, label in (("resp_em", "at the MAP-EM image"), ("resp_nuts", "posterior (NUTS)")):
        if key in poses:
            r = poses[key]
            out[f"poses: argmax P(pose) = true pose, {label}"] = float(np.mean(r.argmax(axis=1) == pose))
            out[f"poses: mean P(true pose), {label}"] = float(np.mean(r[np.arange(len(pose)), pose]))
    return out


def payload(comparison, n_shown: int = 6) -> dict[str, np.ndarray]:
    """The arrays the report's image section draws (stored in ``results.nc``, group ``payload``).

    Returns
    -------
    dict of str to ndarray
        ``truth`` (P,); ``oracle``, ``oracle_mle`` (P,) the known-pose estimates; ``pose`` (N,) the true
        poses; ``resp_em``, ``resp_nuts`` (N, K) the pose posteriors (:func:`_pose_posteriors`);
        ``shown`` (n_shown,) the observations drawn: 0 (the reference), the first ones, and the two whose
        pose is least certain under the posterior; ``observations`` (n_shown, P) those images.
    """
    data = comparison.spec.data
    est = _estimates(comparison)
    out = {
        "truth": np.asarray(data["truth"], dtype=float),
        "pose": np.asarray(data["pose"]),
        **_known_poses(comparison),
        **_pose_posteriors(comparison, est),
    }
    resp = out.get("resp_nuts", out.get("resp_em"))
    uncertain = [] if resp is None else [int(i) for i in np.argsort(resp.max(axis=1))[:2]]
    shown = list(dict.fromkeys([*range(n_shown), *uncertain]))
    shown = [i for i in shown if i not in uncertain][: n_shown - len(uncertain)] + uncertain
    out["shown"] = np.array(shown)
    out["observations"] = np.asarray(data["y"], dtype=float)[shown]
    return out
