"""The catalog: one file per model in this folder.

Every model file follows the same contract (docs/model-file.md); only ``build`` is required, and every
catalog file gives the rest:

``INFO``
    dict with ``title``, ``story``, ``why_skewed`` (one paragraph each) and ``references`` (list).
``load_data() -> dict[str, ndarray]``
    the data, read from ``models/data/`` or simulated with a fixed seed.
``build(data) -> pymc.Model``
    the model; no sampling and no globals.
``LATENT``
    tuple of the latent variables EM integrates out (empty: EM does not apply).
``em_starts``, ``e_step``, ``m_step``
    the EM steps, required when ``LATENT`` is not empty.
``SAMPLER`` (optional)
    keyword arguments for ``pymc.sample`` this model needs, e.g. ``{"target_accept": 0.95}``.
"""

import ast
from importlib import import_module
from pathlib import Path
from types import ModuleType

__all__ = ["CATALOG", "MODEL_HELPERS", "get", "info"]

# What a model file may use, by name -> its home module in models/ (``modemean`` re-exports them; the
# cache key hashes a model helper a file imports)
MODEL_HELPERS = {"normal_mixture_m_step": "_mixtures"}

CATALOG: tuple[str, ...] = tuple(
    sorted(p.stem for p in Path(__file__).parent.glob("*.py") if not p.stem.startswith("_"))
)


def get(name: str) -> ModuleType:
    """Import the catalog model ``name`` (one of :data:`CATALOG`)."""
    if name not in CATALOG:
        raise KeyError(name)
    return import_module(f"{__name__}.{name}")


def info(name: str) -> dict:
    """The ``INFO`` dict of catalog model ``name``, read from its source without importing it.

    ``modemean list`` shows the catalog this way in a fraction of a second: importing a model file
    imports PyMC, and building it compiles. ``INFO`` must be a literal (strings, lists, dicts).
    """
    if name not in CATALOG:
        raise KeyError(name)
    tree = ast.parse((Path(__file__).parent / f"{name}.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "INFO" for t in node.targets):
            return ast.literal_eval(node.value)
    return dict(get(name).INFO)  # not a literal: import after all
