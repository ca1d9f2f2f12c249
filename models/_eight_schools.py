"""The eight schools' data, shared by eight_schools and eight_schools_centered: not a catalog model."""

import numpy as np

__all__ = ["DATA", "load_data"]

DATA = {"y": ("float", ("school",)), "sigma": ("float", ("school",))}


def load_data():
    """The eight schools' estimated effects ``y`` and standard errors ``sigma``, each shape (8,)."""
    return {
        "y": np.array([28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0]),
        "sigma": np.array([15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0]),
    }
