"""Shared data of rat_tumors and rat_tumors_logit (two models of BDA3's Table 5.1): not a catalog model."""

from pathlib import Path

import numpy as np

__all__ = ["CSV", "DATA", "load_data"]

CSV = Path(__file__).parent / "data" / "rat_tumors.csv"
DATA = {"y": ("int", ("experiment",)), "n": ("int", ("experiment",))}


def load_data():
    """Tumours ``y`` and rats ``n`` in each experiment, each shape (71,) (BDA3 Table 5.1)."""
    table = np.genfromtxt(CSV, delimiter=",", names=True, dtype=int)
    return {"y": np.asarray(table["tumors"]), "n": np.asarray(table["rats"])}
