"""Eight schools (Rubin 1981; BDA3 §5.5) written centred: theta_j ~ N(mu, tau), the school effects as EM's latents."""

import pymc as pm

from modemean.models._eight_schools import DATA, load_data  # noqa: F401 -- the same data as eight_schools

INFO = {
    "title": "Eight schools, centred: the joint mode does not exist, the marginal mode does",
    "story": (
        "The eight schools model of the non-centred eight_schools, written the way it is usually first "
        "written: theta_j ~ N(mu, tau) for the school effects and y_j ~ N(theta_j, sigma_j). It is the "
        "same model (the same marginal posterior of mu and tau), but not the same joint density. "
        "find_MAP, which maximises over (mu, tau, theta) jointly, has no mode to find: with every theta_j "
        "equal to mu the density grows without bound as tau -> 0 (the factor 1/tau^8 of the school "
        "effects' densities wins), so modemean reports that find_MAP found no mode. EM integrates the "
        "theta_j out (they are conditionally Gaussian: the E-step is derived from the PyMC graph, exactly) "
        "and maximises the marginal posterior of (mu, tau), which exists: it equals the non-centred "
        "model's EM estimate, as a test checks. NUTS struggles with the centred form: the funnel between "
        "tau and theta makes it diverge near tau = 0 even at target_accept 0.95 (tens of divergent "
        "transitions, R-hat above 1.01, few effective draws of tau), and modemean reports all of it. "
        "That is the lesson of the non-centred parameterisation."
    ),
    "why_skewed": (
        "As in eight_schools, the data barely constrain tau: the marginal posterior of tau piles up near 0 "
        "with a long right tail, so its mode is at (or near) 0 while its mean sits several units above. "
        "The joint density over (mu, tau, theta) is worse than skewed: it has no maximum at all."
    ),
    "references": [
        "Rubin, D. B. (1981). Estimation in parallel randomized experiments. J. Educ. Stat. 6(4), 377-401.",
        "Gelman, A. et al. (2013). Bayesian Data Analysis, 3rd ed., Section 5.5. CRC Press.",
        "Betancourt, M., Girolami, M. (2015). Hamiltonian Monte Carlo for hierarchical models. In Current "
        "Trends in Bayesian Methodology with Applications, CRC Press (the funnel and non-centring).",
    ],
}
LATENT = ("theta",)
SAMPLER = {"target_accept": 0.95}


def build(data):
    """Centred hierarchical model: mu ~ N(0, 5), tau ~ HalfCauchy(5), theta_j ~ N(mu, tau)."""
    with pm.Model() as model:
        mu = pm.Normal("mu", 0.0, 5.0)
        tau = pm.HalfCauchy("tau", 5.0)
        theta = pm.Normal("theta", mu, tau, shape=len(data["y"]))
        pm.Normal("y", theta, data["sigma"], observed=data["y"])
    return model
