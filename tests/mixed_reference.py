"""Independent references for mixed models, numpy/scipy only: the marginal log-likelihoods lme4 maximises.

Shared by the EM tests (tests/unit/test_gaussian_em.py) and the formula tests (tests/cli/test_formula.py),
which check modemean's ``mle`` against lme4's stored fits by these functions, never by modemean's own.
"""

import numpy as np
from scipy import special


def lmm_loglik(y, X, Z, groups, beta, sigma, G):
    """log N(y | X beta, Z G Z' + sigma^2 I), one independent block per group (groups of equal size,
    as in Dyestuff and sleepstudy: all blocks at once)."""
    order = np.argsort(groups, kind="stable")
    n_groups = len(np.unique(groups))
    size = len(y) // n_groups
    r = (y - X @ beta)[order].reshape(n_groups, size)
    Zg = Z[order].reshape(n_groups, size, -1)
    V = Zg @ G @ np.transpose(Zg, (0, 2, 1)) + sigma**2 * np.eye(size)
    _, logdet = np.linalg.slogdet(V)
    quad = np.einsum("gi,gi->g", r, np.linalg.solve(V, r[..., None])[..., 0])
    return float(-0.5 * (quad + logdet + size * np.log(2 * np.pi)).sum())


def binomial_laplace_loglik(y, n, X, groups, beta, sd):
    """glmer's nAGQ = 1 objective: the Laplace approximation of log p(y | beta, sd) for a logistic model
    with one random intercept b_g ~ N(0, sd^2) per group (binomial coefficients included).

    Per group: b* = argmax h(b) by Newton, h(b) = log p(y_g | b) + log N(b | 0, sd^2), and
    log p(y_g) ~ h(b*) + log(2 pi)/2 - log(-h''(b*))/2.
    """
    eta = X @ beta
    log_choose = special.gammaln(n + 1) - special.gammaln(y + 1) - special.gammaln(n - y + 1)
    total = 0.0
    for group in np.unique(groups):
        at = groups == group
        b = 0.0
        for _ in range(100):
            p = special.expit(eta[at] + b)
            step = (np.sum(y[at] - n[at] * p) - b / sd**2) / (np.sum(n[at] * p * (1 - p)) + 1 / sd**2)
            b += step
            if abs(step) < 1e-14:
                break
        e = eta[at] + b
        p = special.expit(e)
        h = np.sum(log_choose[at] + y[at] * e - n[at] * np.logaddexp(0, e)) - 0.5 * b**2 / sd**2
        h -= np.log(sd) + 0.5 * np.log(2 * np.pi)
        total += h + 0.5 * np.log(2 * np.pi) - 0.5 * np.log(np.sum(n[at] * p * (1 - p)) + 1 / sd**2)
    return float(total)


def flatness_bounds(loglik, best, deficit, steps):
    """How far each parameter may lie from the maximum ``best`` of ``loglik`` at a point whose log-likelihood
    is ``deficit`` below it: ``sqrt(2 deficit (H^-1)_ii)``, H the negative Hessian (central differences
    with ``steps``): the largest change of one coordinate on the ellipse ``d' H d / 2 = deficit``."""
    best, steps = np.asarray(best, dtype=float), np.asarray(steps, dtype=float)
    k = len(best)
    H = np.zeros((k, k))
    for i in range(k):
        for j in range(k):
            ei, ej = np.eye(k)[i] * steps[i], np.eye(k)[j] * steps[j]
            corners = loglik(best + ei + ej) - loglik(best + ei - ej) - loglik(best - ei + ej) + loglik(best - ei - ej)
            H[i, j] = -corners / (4 * steps[i] * steps[j])
    return np.sqrt(2 * deficit * np.diag(np.linalg.inv(H)))
