"""Eight schools (Rubin 1981; BDA3 §5.5), non-centred, with the school effects as EM's latent variables.

The standardised effects ``eta`` enter the log density quadratically, so EM's steps are derived from
this model's graph (exact Gaussian E-step, :mod:`comparisons.em.gaussian`): the file writes none.
"""

import pymc as pm

from modemean.models._eight_schools import DATA, load_data  # noqa: F401 -- the data, shared with the centred model

INFO = {
    "title": "Eight schools: coaching effects on SAT scores",
    "story": (
        "Eight US high schools ran coaching programmes for the SAT-V test; each reports an estimated "
        "effect y_j with a known standard error sigma_j. A hierarchical model lets the schools borrow "
        "strength: theta_j = mu + tau * eta_j, with the overall effect mu, the between-school spread tau "
        "and standardised school effects eta_j. find_MAP maximises over (mu, tau, eta) jointly; EM "
        "integrates the eta_j out and maximises the marginal posterior of (mu, tau); NUTS averages over "
        "everything."
    ),
    "why_skewed": (
        "The data barely constrain tau: every school's standard error exceeds the spread of the "
        "estimates, so the likelihood for tau is flat near zero and decays slowly. The posterior of tau "
        "piles up near 0 with a long right tail: its mode is at (or near) the boundary tau = 0, while its "
        "mean sits several units above it."
    ),
    "references": [
        "Rubin, D. B. (1981). Estimation in parallel randomized experiments. J. Educ. Stat. 6(4), 377-401.",
        "Gelman, A. et al. (2013). Bayesian Data Analysis, 3rd ed., Section 5.5. CRC Press.",
    ],
}
LATENT = ("eta",)
SAMPLER = {"target_accept": 0.95}


def build(data):
    """Non-centred hierarchical model: mu ~ N(0, 5), tau ~ HalfCauchy(5), eta_j ~ N(0, 1)."""
    with pm.Model() as model:
        mu = pm.Normal("mu", 0.0, 5.0)
        tau = pm.HalfCauchy("tau", 5.0)
        eta = pm.Normal("eta", 0.0, 1.0, shape=len(data["y"]))
        theta = pm.Deterministic("theta", mu + tau * eta)
        pm.Normal("y", theta, data["sigma"], observed=data["y"])
    return model
