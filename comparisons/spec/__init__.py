"""A model file, a catalog name or a build function and its data → a :class:`ModelSpec`.

The names are imported on first use (PEP 562): the engine's lower layers (``density/``, ``em/``) import
this package's leaf modules, and an eager re-export here would run the whole of it first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .load import load_spec
    from .model_spec import ModelSpec, observed_keys, spec_from_parts

__all__ = ["ModelSpec", "load_spec", "observed_keys", "spec_from_parts"]
_HOME = {"ModelSpec": "model_spec", "load_spec": "load", "observed_keys": "model_spec",
         "spec_from_parts": "model_spec"}  # fmt: skip


def __getattr__(name: str):
    """``ModelSpec``, ``load_spec``, ``observed_keys``, ``spec_from_parts``, imported on first use."""
    if name in _HOME:
        from importlib import import_module

        return getattr(import_module(f"{__name__}.{_HOME[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
