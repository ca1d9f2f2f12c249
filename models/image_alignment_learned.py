"""Cryo-EM in miniature with a learned prior: a probabilistic-PCA energy fitted on clean particles."""

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from modemean.models._images import (  # noqa: F401
    em_starts,
    highlights,
    learned_prior,
    m_step,
    payload,
    pose_prior,
    rotation_stencil,
    simulate,
)

INFO = {
    "title": "Image alignment with a learned prior: MAP with an energy fitted on clean particles",
    "story": (
        "The same 100 noisy, rotated 16 x 16 images as image_alignment (8 unknown in-plane rotations, noise sd "
        "0.85 per pixel, known; observation 0 fixes the frame), under a prior that was learned instead of "
        "designed: probabilistic PCA (Tipping and Bishop 1999) fitted on 400 clean particles of the same "
        "family (other draws of the blob positions, sizes and brightness, seed 1819; the true particle is "
        "not among them; regenerated deterministically from the seed in models/_images.py, no data file). "
        "Its energy E(theta) = 1/2 (theta - m)' (W W' + s2 I)^-1 (theta - m) keeps the 12 leading principal "
        "directions of the training images (90% of their variance) and gives every other direction only the "
        "small residual variance s2: theta ~ MvNormal(m, W W' + s2 I), written in the model as that low-rank "
        "energy (N(m, s2) per pixel plus a potential that gives the 12 directions back their variance). This is "
        "the seed's 'MAP with a learned energy-based prior' in miniature: MAP-EM returns the single best image "
        "under it, NUTS the posterior mean and spread. At this noise level the learned prior does what the "
        "smoothness prior cannot: it knows what particles look like, so MAP-EM's error (0.11 of the truth's "
        "norm) is within 0.05 of the oracle that knows every pose and a third of the smoothness prior's "
        "(compare the two pages)."
    ),
    "why_skewed": (
        "As in image_alignment, the posterior of the image given the poses is Gaussian; a gap between the mode "
        "(MAP-EM) and the posterior mean can only come from the observations whose pose stays uncertain (the "
        "mean averages over their plausible poses, the mode commits to one). Here it is tiny (0.004 of the "
        "truth's norm): the poses are as uncertain as under the smoothness prior, but the learned prior holds "
        "the image so firmly that averaging over them barely moves it; find_MAP, EM and NUTS agree."
    ),
    "references": [
        "Tipping, M. E., Bishop, C. M. (1999). Probabilistic principal component analysis. J. R. Stat. Soc. B "
        "61(3), 611-622.",
        "Scheres, S. H. W. (2012). RELION: implementation of a Bayesian approach to cryo-EM structure "
        "determination. J. Struct. Biol. 180(3), 519-530.",
        "Kimanius, D., Zickert, G., Nakane, T., Adler, J., Lunz, S., Schonlieb, C.-B., Oktem, O., Scheres, "
        "S. H. W. (2021). Exploiting prior knowledge about biological macromolecules in cryo-EM structure "
        "determination. IUCrJ 8(1), 60-75.",
    ],
}
LATENT = ("z",)


def load_data():
    """The same seeded simulation as image_alignment (models/_images.py)."""
    return simulate()


def build(data):
    """theta ~ PPCA density (low-rank energy); z_i ~ Categorical(pose_prior); y_i ~ N(A_{z_i} theta, noise_sd)."""
    y = data["y"]
    n, P = y.shape
    K, size = int(data["n_poses"]), int(round(np.sqrt(P)))
    index, weight = rotation_stencil(size, K)  # A_k theta = sum_j weight[k, :, j] * theta[index[k, :, j]]
    learned = learned_prior(size)
    with pm.Model() as model:
        # theta ~ MvNormal(m, V diag(variances - s2) V' + s2 I), written as its low-rank energy: N(m, s2) per
        # pixel, and the principal directions given back their variance (rank x P work, no P x P solve)
        theta = pm.Normal("theta", learned["mean"], np.sqrt(learned["s2"]), shape=P)
        along = pt.dot(learned["components"], theta - learned["mean"])
        pm.Potential("pca_energy", 0.5 * (learned["gain"] * pt.sqr(along)).sum())
        z = pm.Categorical("z", p=pose_prior(n, K), shape=n)
        rotated = (theta[index] * weight).sum(axis=-1)  # (K, P): the image in every pose
        pm.Normal("y", mu=rotated[z], sigma=float(data["noise_sd"]), observed=y)
    return model


# NUTS starts where EM starts (observation 0, low-pass filtered), without PyMC's U(-1, 1) jitter (as large as
# the image itself): the frame that observation 0 fixes; rotated alignments are local modes it never leaves
SAMPLER = {"initvals": em_starts(load_data(), 1, np.random.default_rng(0))[0], "init": "adapt_diag"}
