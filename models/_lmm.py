"""Shared code for dyestuff and dyestuff2 (the same model on two data sets): not a catalog model."""

import numpy as np
import pymc as pm

__all__ = ["load_csv", "build_lmm"]


def load_csv(path):
    """``y`` (yields) and ``batch`` (0-based batch index) from a Batch,Yield CSV file."""
    table = np.genfromtxt(path, delimiter=",", names=True, dtype=None, encoding="utf-8")
    _, batch = np.unique(table["Batch"], return_inverse=True)
    return {"y": np.asarray(table["Yield"], dtype=float), "batch": np.asarray(batch, dtype=np.int64)}


def build_lmm(data, mu_loc, mu_scale, scale):
    """y_i ~ N(mu + tau eta_batch[i], sigma), eta_j ~ N(0, 1); weakly informative priors on mu, sigma, tau."""
    n_batch = int(data["batch"].max()) + 1
    with pm.Model() as model:
        mu = pm.Normal("mu", mu_loc, mu_scale)
        sigma = pm.HalfNormal("sigma", scale)
        tau = pm.HalfNormal("tau", scale)
        eta = pm.Normal("eta", 0.0, 1.0, shape=n_batch)
        pm.Deterministic("b", tau * eta)
        pm.Normal("y", mu + tau * eta[data["batch"]], sigma, observed=data["y"])
    return model
