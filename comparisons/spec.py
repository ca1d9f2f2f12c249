"""Load a model (catalog name or a researcher's own file), check its contract and its data."""

from __future__ import annotations

import difflib
import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

import numpy as np
import pymc as pm

import models

from .checks import check_data
from .errors import ModemeanError

__all__ = ["ModelSpec", "load_spec", "spec_from_parts"]

INFO_KEYS = ("title", "story", "why_skewed", "references")
EM_HOOKS = ("em_starts", "e_step", "m_step")


@dataclass(frozen=True)
class ModelSpec:
    """A model ready to solve: its metadata, its data and the built PyMC model.

    Attributes
    ----------
    name : str
        Catalog name, or the file's stem for a model file outside the catalog.
    info : dict
        ``title``, ``story``, ``why_skewed``, ``references``.
    data : dict of str to ndarray
        What ``build`` was given.
    model : pymc.Model
        The built model.
    latent : tuple of str
        Variables EM integrates out (may name variables that are not in ``model``, such as
        mixture labels that the PyMC model has already summed out).
    em : dict of str to callable
        ``em_starts``, ``e_step``, ``m_step``; empty when EM does not apply.
    sampler : dict
        Extra keyword arguments for ``pymc.sample``.
    source : str
        Where the model came from (module file path), for the results' metadata.
    """

    name: str
    info: dict[str, Any]
    data: dict[str, np.ndarray]
    model: pm.Model
    latent: tuple[str, ...]
    em: dict[str, Callable]
    sampler: dict[str, Any]
    source: str

    @property
    def em_reason(self) -> str:
        """Why EM does not apply, or ``""`` when it does."""
        if not self.latent:
            return "the model declares no latent variables (LATENT is empty), so there is nothing for EM to integrate out"
        if not self.em:
            return f"the model declares latent variables {list(self.latent)} but no EM steps ({', '.join(EM_HOOKS)})"
        return ""

    @property
    def params(self) -> list[str]:
        """Names of the free random variables that are parameters (not latent)."""
        return [rv.name for rv in self.model.free_RVs if rv.name not in self.latent]


def load_spec(target: str | Path | ModuleType) -> ModelSpec:
    """Load a catalog model by name, a model file by path, or an imported module.

    Raises
    ------
    ModemeanError
        Unknown name (with close matches), a file that does not exist or raises on import, a
        module that breaks the contract (naming the missing part), or bad data.
    """
    if isinstance(target, ModuleType):
        module = target
    elif str(target).endswith(".py") or Path(str(target)).is_file():
        module = _import_file(Path(target))
    else:
        module = _import_catalog(str(target))
    return _spec_from_module(module)


def spec_from_parts(
    build: Callable[[dict], pm.Model],
    data: dict[str, Any],
    *,
    name: str = "custom",
    info: dict[str, Any] | None = None,
    latent: tuple[str, ...] = (),
    em: dict[str, Callable] | None = None,
    sampler: dict[str, Any] | None = None,
) -> ModelSpec:
    """Make a spec from a build function and its data, for models that live in a notebook."""
    info = {"title": name, "story": "", "why_skewed": "", "references": [], **(info or {})}
    data = check_data(data, name)
    return ModelSpec(name, info, data, _build(build, data, name), tuple(latent), dict(em or {}),
                     dict(sampler or {}), "<python>")


def _import_catalog(name: str) -> ModuleType:
    if name not in models.CATALOG:
        close = difflib.get_close_matches(name, models.CATALOG, n=3, cutoff=0.5)
        hint = f"did you mean {', '.join(close)}?" if close else "run 'modemean list' to see them"
        raise ModemeanError(f"unknown model {name!r}: {hint} (or pass a path to a model .py file)")
    try:
        return models.get(name)
    except Exception as exc:  # a broken catalog file must still give a one-line message
        raise ModemeanError(f"model {name!r} raised on import: {type(exc).__name__}: {exc}") from exc


def _import_file(path: Path) -> ModuleType:
    if not path.is_file():
        raise ModemeanError(f"model file {str(path)!r} does not exist: give a path to a .py file or a catalog name")
    mod_name = f"modemean_user_{path.stem}_{abs(hash(path.resolve()))}"
    loader_spec = importlib.util.spec_from_file_location(mod_name, path)
    module = importlib.util.module_from_spec(loader_spec)
    sys.modules[mod_name] = module
    try:
        loader_spec.loader.exec_module(module)
    except Exception as exc:
        sys.modules.pop(mod_name, None)
        raise ModemeanError(f"model file {str(path)!r} raised on import: {type(exc).__name__}: {exc}") from exc
    return module


def _spec_from_module(module: ModuleType) -> ModelSpec:
    file = getattr(module, "__file__", None) or module.__name__
    name = Path(file).stem if file.endswith(".py") else module.__name__
    missing = [attr for attr in ("INFO", "load_data", "build") if not hasattr(module, attr)]
    if missing:
        raise ModemeanError(f"model {name!r} does not follow the contract: missing {', '.join(missing)} "
                            "(see README, 'How to add a model')")
    info = module.INFO
    missing_info = [k for k in INFO_KEYS if k not in info] if isinstance(info, dict) else list(INFO_KEYS)
    if missing_info:
        raise ModemeanError(f"model {name!r}: INFO lacks {', '.join(missing_info)} (see README, 'How to add a model')")
    latent = tuple(getattr(module, "LATENT", ()))
    present = [h for h in EM_HOOKS if callable(getattr(module, h, None))]
    if latent and present and len(present) < len(EM_HOOKS):
        absent = [h for h in EM_HOOKS if h not in present]
        raise ModemeanError(f"model {name!r}: EM steps incomplete, missing {', '.join(absent)}")
    em = {h: getattr(module, h) for h in present} if latent else {}
    try:
        raw = module.load_data()
    except Exception as exc:
        raise ModemeanError(f"model {name!r}: load_data() raised {type(exc).__name__}: {exc}") from exc
    data = check_data(raw, name, getattr(module, "DATA", None))
    return ModelSpec(name, dict(info), data, _build(module.build, data, name), latent, em,
                     dict(getattr(module, "SAMPLER", {})), file)


def _build(build: Callable, data: dict, name: str) -> pm.Model:
    try:
        model = build(data)
    except Exception as exc:
        raise ModemeanError(f"model {name!r}: build(data) raised {type(exc).__name__}: {exc}") from exc
    if not isinstance(model, pm.Model):
        raise ModemeanError(f"model {name!r}: build(data) must return a pymc.Model, got {type(model).__name__}")
    return model
