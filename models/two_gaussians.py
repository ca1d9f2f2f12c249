"""Two overlapping Gaussians: the seed's EM demo, labels explicit, E-step from the graph, closed-form M-step."""

import numpy as np
import pymc as pm

from modemean.models._mixtures import normal_mixture_m_step

INFO = {
    "title": "Two Gaussians: the EM demo",
    "story": (
        "Three hundred measurements come from two overlapping bell curves, but nobody recorded which "
        "curve produced which point. Each point's label is the latent variable: EM alternates between "
        "guessing the labels softly (the E-step's responsibilities) and re-estimating each curve's weight, "
        "mean and spread from the points it is responsible for (the M-step), starting where the seed's "
        "demo starts (means -0.5 and 0.8, weights 0.5/0.5). The model is written with the labels explicit "
        "(z_i ~ Categorical(w), x_i ~ N(mu[z_i], sigma[z_i])); the E-step is read off that PyMC graph, and "
        "find_MAP and NUTS work on the same model with the labels summed out automatically. The component "
        "means are ordered so the labels cannot switch."
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
    """The mixture as it is told: a label ``z_i`` per point, then the point given its label.

    EM's E-step is read off this graph; find_MAP and NUTS get it with ``z`` summed out
    (automatically, :func:`comparisons.em.discrete.marginalize`). Means ordered, so labels cannot switch.
    """
    x = data["x"]
    with pm.Model() as model:
        w = pm.Dirichlet("w", a=np.full(2, ALPHA))
        mu = pm.Normal("mu", MU_LOC, MU_SCALE, transform=pm.distributions.transforms.ordered)
        sigma = pm.HalfNormal("sigma", SIGMA_SCALE, shape=2)
        z = pm.Categorical("z", p=w, shape=len(x))
        pm.Normal("x", mu=mu[z], sigma=sigma[z], observed=x)
    return model


def em_starts(data, n_init, rng):
    """The seed's start (means -0.5, 0.8; weights 0.5, 0.5; sds 1), then random starts."""
    x = data["x"]
    starts = [{"w": np.array([0.5, 0.5]), "mu": np.array([-0.5, 0.8]), "sigma": np.ones(2)}]
    for _ in range(n_init - 1):
        starts.append(
            {
                "w": rng.dirichlet(np.ones(2)),
                "mu": np.sort(rng.choice(x, 2, replace=x.size < 2)),
                "sigma": np.full(2, np.std(x)) * rng.uniform(0.3, 1.0, 2),
            }
        )
    return starts


def m_step(data, expectations, prior):
    """Closed-form M-step from the weighted moments (the fast path; tested against the numerical one).

    Without the prior: weighted means, weighted variances and the mean responsibilities (ML).
    With it: the joint maximiser under w ~ Dirichlet(ALPHA), mu_k ~ N(MU_LOC_k, MU_SCALE),
    sigma_k ~ HalfNormal(SIGMA_SCALE), see :func:`models._mixtures.normal_mixture_m_step`. The
    spreads are summed about the means from the responsibilities where the E-step gives them.

    Parameters
    ----------
    expectations : dict
        ``moments`` (2, 3): sum_i r_ik [1, x_i, x_i^2]; ``resp`` (N, 2) or ``None``; ``params``: the
        current parameters.
    prior : LogPrior or None
        ``None`` for maximum likelihood.
    """
    moments, sigma, resp = expectations["moments"], expectations["params"]["sigma"], expectations["resp"]
    if prior is None:
        return normal_mixture_m_step(moments, sigma, resp=resp, x=data["x"])
    return normal_mixture_m_step(
        moments,
        sigma,
        resp=resp,
        x=data["x"],
        alpha=ALPHA,
        mu_loc=MU_LOC,
        mu_scale=MU_SCALE,
        sigma_scale=SIGMA_SCALE,
    )
