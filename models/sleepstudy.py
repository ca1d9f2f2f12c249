"""Sleep deprivation (Belenky et al. 2003; lme4's sleepstudy): Reaction ~ Days + (Days | Subject)."""

from pathlib import Path

import numpy as np
import pymc as pm
import pytensor.tensor as pt

INFO = {
    "title": "Sleepstudy: reaction times under sleep deprivation, correlated random intercepts and slopes",
    "story": (
        "Eighteen truck drivers were restricted to three hours of sleep a night for nine nights; their "
        "average reaction time was measured every day. The linear mixed model Reaction ~ Days + "
        "(Days | Subject) gives each subject an intercept and a slope drawn from a bivariate normal around "
        "the population's beta = (intercept, slope), with sds tau = (tau_intercept, tau_slope), "
        "correlation rho, and residual sd sigma. The per-subject effects b (18 x 2) are conditionally "
        "Gaussian, so EM integrates them out exactly from the PyMC graph (18 independent 2 x 2 blocks, no "
        "dense 36 x 36 algebra): the mle column is the maximum likelihood fit lme4 reports (ML deviance "
        "1751.94). find_MAP maximises the joint density over the parameters and the 36 effects together; "
        "NUTS averages over everything."
    ),
    "why_skewed": (
        "Eighteen subjects carry little information about a correlation and two standard deviations. The "
        "marginal posterior of rho is wide (its mode near 0.08, its mass spread over most of (-1, 1), "
        "skewed towards positive values), and those of the random-effect sds are right-skewed: their "
        "means lie above their modes. The fixed effects are nearly symmetric."
    ),
    "references": [
        "Belenky, G. et al. (2003). Patterns of performance degradation and restoration during sleep "
        "restriction and subsequent recovery: a sleep dose-response study. J. Sleep Res. 12, 1-12.",
        "Bates, D., Maechler, M., Bolker, B., Walker, S. (2015). Fitting linear mixed-effects models using "
        "lme4. J. Stat. Softw. 67(1), 1-48. Section 3 (sleepstudy).",
        "Lewandowski, D., Kurowicka, D., Joe, H. (2009). Generating random correlation matrices based on "
        "vines and extended onion method. J. Multivar. Anal. 100, 1989-2001 (the LKJ prior).",
    ],
}
LATENT = ("b",)
DATA = {"reaction": ("float", ("obs",)), "days": ("float", ("obs",)), "subject": ("int", ("obs",))}

CSV = Path(__file__).parent / "data" / "sleepstudy.csv"


def load_data():
    """180 reaction times (ms), days of deprivation 0-9 and the subject (0-based index), from
    ``models/data/sleepstudy.csv``."""
    table = np.genfromtxt(CSV, delimiter=",", names=True)
    _, subject = np.unique(table["Subject"], return_inverse=True)
    return {
        "reaction": np.asarray(table["Reaction"], dtype=float),
        "days": np.asarray(table["Days"], dtype=float),
        "subject": np.asarray(subject, dtype=np.int64),
    }


def build(data):
    """Centred bivariate random effects b_s ~ MvNormal(0, Sigma(tau, rho)), shape (18, 2), with the Cholesky
    factor of Sigma spelled out. Weakly informative priors: beta ~ N((250, 10), (100, 20)),
    sigma ~ HalfNormal(50), tau ~ HalfNormal((50, 20)), rho ~ Uniform(-1, 1) times (1 - rho^2), the
    LKJ(2) marginal of a 2 x 2 correlation."""
    n_subject = int(data["subject"].max()) + 1
    subject, days = data["subject"], data["days"]
    with pm.Model() as model:
        beta = pm.Normal("beta", mu=np.array([250.0, 10.0]), sigma=np.array([100.0, 20.0]), shape=2)
        sigma = pm.HalfNormal("sigma", 50.0)
        tau = pm.HalfNormal("tau", sigma=np.array([50.0, 20.0]), shape=2)
        rho = pm.Uniform("rho", -1.0, 1.0)
        pm.Potential("rho_lkj2", pt.log1p(-(rho**2)))
        chol = pt.stack(
            [pt.stack([tau[0], pt.zeros_like(tau[0])]), pt.stack([rho * tau[1], pt.sqrt(1.0 - rho**2) * tau[1]])]
        )
        b = pm.MvNormal("b", mu=np.zeros(2), chol=chol, shape=(n_subject, 2))
        mean = beta[0] + b[subject, 0] + (beta[1] + b[subject, 1]) * days
        pm.Normal("reaction", mean, sigma, observed=data["reaction"])
    return model
