"""A conjugate model for the study tests: a Normal mean with known sd under a Normal prior.

mu ~ N(0, TAU0), y_i | mu ~ N(mu, SIGMA), i = 1..N. The posterior is Normal with precision
1/TAU0^2 + N/SIGMA^2, so under prior truth the posterior mean (= median = MAP) has bias 0 and RMSE
sqrt(posterior variance), and the exact 94% interval (mean +- 1.88 posterior sd) covers 94% of truths.
"""

import numpy as np
import pymc as pm

TAU0 = 2.0
SIGMA = 1.0
N = 5

INFO = {
    "title": "Normal mean, known sd, Normal prior (conjugate)",
    "story": "The textbook conjugate model: every estimator's frequentist risk has a closed form.",
    "why_skewed": "It is not: mode, mean and median coincide.",
    "references": ["Gelman, A. et al. (2013). Bayesian Data Analysis, 3rd ed., Section 2.5. CRC Press."],
}
LATENT = ()
TRUTH = {"mu": 1.0}


def load_data():
    """Five observations (any values: a study replaces them with simulated ones)."""
    return {"y": np.array([0.3, -0.4, 1.2, 0.8, 0.1])}


def build(data):
    with pm.Model() as model:
        mu = pm.Normal("mu", 0.0, TAU0)
        pm.Normal("y", mu, SIGMA, observed=data["y"])
    return model
