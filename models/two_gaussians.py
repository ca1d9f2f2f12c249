"""Two overlapping Gaussians: the seed's EM demo as a model, with closed-form EM steps."""

import numpy as np
import pymc as pm
from scipy import special

INFO = {
    "title": "Two Gaussians: the EM demo",
    "story": (
        "Three hundred measurements come from two overlapping bell curves, but nobody recorded which "
        "curve produced which point. Each point's label is the latent variable: EM alternates between "
        "guessing the labels softly (the E-step's responsibilities) and re-estimating each curve's weight, "
        "mean and spread from the points it is responsible for (the M-step), starting where the seed's "
        "demo starts (means -0.5 and 0.8, weights 0.5/0.5). find_MAP and NUTS work on the same mixture "
        "with the labels summed out; the component means are ordered so the labels cannot switch."
    ),
    "why_skewed": (
        "Mixture posteriors are mildly skewed: a component's spread is positive and its posterior leans "
        "right, and the weights trade off against the overlap of the components. With a few hundred "
        "points the peak and the centre of mass are close, a baseline for the skewed models of the catalog."
    ),
    "references": [
        "Dempster, A. P., Laird, N. M., Rubin, D. B. (1977). Maximum likelihood from incomplete data via "
        "the EM algorithm. JRSS B 39(1), 1-38.",
        "Meng, X.-L., Rubin, D. B. (1993). Maximum likelihood estimation via the ECM algorithm. "
        "Biometrika 80(2), 267-278.",
        "Bishop, C. M. (2006). Pattern Recognition and Machine Learning, Section 9.2. Springer.",
    ],
}
LATENT = ("z",)

TRUE_PARAMS = {"w": np.array([0.4, 0.6]), "mu": np.array([-2.5, 2.0]), "sigma": np.array([1.2, 1.4])}
N_POINTS = 300
SEED = 1

# Priors, shared by build() and the MAP M-step: w ~ Dirichlet(ALPHA), mu_k ~ N(MU_LOC_k, MU_SCALE)
# with mu ordered, sigma_k ~ HalfNormal(SIGMA_SCALE).
ALPHA = 2.0
MU_LOC = np.array([-1.0, 1.0])  # an ordered location, so the ordered transform has a valid start
MU_SCALE = 5.0
SIGMA_SCALE = 3.0


def load_data():
    """A seeded simulation from :data:`TRUE_PARAMS`: ``x`` of shape (300,)."""
    rng = np.random.default_rng(SEED)
    z = rng.choice(2, size=N_POINTS, p=TRUE_PARAMS["w"])
    return {"x": rng.normal(TRUE_PARAMS["mu"][z], TRUE_PARAMS["sigma"][z])}


def build(data):
    """The mixture with the labels summed out (``NormalMixture``), means ordered."""
    with pm.Model() as model:
        w = pm.Dirichlet("w", a=np.full(2, ALPHA))
        mu = pm.Normal("mu", MU_LOC, MU_SCALE, transform=pm.distributions.transforms.ordered)
        sigma = pm.HalfNormal("sigma", SIGMA_SCALE, shape=2)
        pm.NormalMixture("x", w=w, mu=mu, sigma=sigma, observed=data["x"])
    return model


def em_starts(data, n_init, rng):
    """The seed's start (means -0.5, 0.8; weights 0.5, 0.5; sds 1), then random starts."""
    x = data["x"]
    starts = [{"w": np.array([0.5, 0.5]), "mu": np.array([-0.5, 0.8]), "sigma": np.ones(2)}]
    for _ in range(n_init - 1):
        starts.append({"w": rng.dirichlet(np.ones(2)), "mu": np.sort(rng.choice(x, 2, replace=False)),
                       "sigma": np.full(2, np.std(x)) * rng.uniform(0.3, 1.0, 2)})
    return starts


def e_step(data, params):
    """Responsibilities and the observed-data log likelihood.

    Returns
    -------
    expectations : dict
        ``resp``: shape (300, 2), P(z_i = k | x_i, params); rows sum to 1. ``sigma``: shape (2,),
        the current sds, which the conditional M-step for mu needs.
    log_likelihood : float
        sum_i log sum_k w_k N(x_i | mu_k, sigma_k).
    """
    x = data["x"][:, None]
    w, mu, sigma = (np.asarray(params[k], dtype=float) for k in ("w", "mu", "sigma"))
    log_joint = np.log(w) - np.log(sigma) - 0.5 * np.log(2 * np.pi) - 0.5 * ((x - mu) / sigma) ** 2
    log_norm = special.logsumexp(log_joint, axis=1, keepdims=True)
    return {"resp": np.exp(log_joint - log_norm), "sigma": sigma}, float(log_norm.sum())


def m_step(data, expectations, prior):
    """Closed-form M-step; with the prior, conditional maximisation (ECM): mu given sigma, then sigma.

    Without the prior: weighted means, weighted variances and the mean responsibilities (ML).
    With it: w_k = (n_k + ALPHA - 1) / (N + 2 (ALPHA - 1)); mu_k the precision-weighted average of
    the data and MU_LOC_k at the current sigma_k; sigma_k^2 the positive root of
    sigma^4 / s^2 + n_k sigma^2 - S_k = 0 (HalfNormal(s) prior), S_k = sum_i r_ik (x_i - mu_k)^2.
    """
    x, r = data["x"], expectations["resp"]
    n = r.sum(axis=0)
    if prior is None:
        mu = r.T @ x / n
        scatter = (r * (x[:, None] - mu) ** 2).sum(axis=0)
        return {"w": n / n.sum(), "mu": mu, "sigma": np.sqrt(scatter / n)}
    sigma = expectations["sigma"]
    mu = (r.T @ x / sigma**2 + MU_LOC / MU_SCALE**2) / (n / sigma**2 + 1 / MU_SCALE**2)
    scatter = (r * (x[:, None] - mu) ** 2).sum(axis=0)
    s2 = SIGMA_SCALE**2
    sigma = np.sqrt(s2 * (-n + np.sqrt(n**2 + 4 * scatter / s2)) / 2)
    w = (n + ALPHA - 1) / (n.sum() + 2 * (ALPHA - 1))
    return {"w": w, "mu": mu, "sigma": sigma}
