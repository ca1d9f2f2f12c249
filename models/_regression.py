"""Shared data for sparse_regression and ridge_regression (the same simulation): not a catalog model."""

import numpy as np

__all__ = ["N_OBS", "N_COEF", "TRUE_PARAMS", "SIGMA", "SEED", "simulate"]

N_OBS, N_COEF = 50, 10
TRUE_PARAMS = {"beta": np.array([2.0, -1.5, 0.0, 0.0, 1.0, 0.0, 0.0, 0.5, 0.0, 0.0])}
SIGMA = 1.0  # known noise sd
SEED = 11


def simulate():
    """A seeded simulation from :data:`TRUE_PARAMS`.

    Returns
    -------
    dict
        ``X``: predictors, shape (50, 10), each column centred and scaled to sd 1;
        ``y``: responses, shape (50,).
    """
    rng = np.random.default_rng(SEED)
    X = rng.normal(size=(N_OBS, N_COEF))
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    return {"X": X, "y": X @ TRUE_PARAMS["beta"] + rng.normal(0.0, SIGMA, N_OBS)}
