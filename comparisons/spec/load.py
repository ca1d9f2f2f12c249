"""Load a model by catalog name, file path or module, and check it keeps the model-file contract."""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from modemean import models

from ..em.engine import EM_HOOKS
from ..errors import ModemeanError
from ..formula import formula_parts, is_bambi_model
from ..run.output import check_target
from .data import check_data
from .model_spec import ModelSpec, assemble, call_build, spec_from_parts

__all__ = ["contract_problems", "load_spec"]

INFO_KEYS = ("title", "story", "why_skewed", "references")
INFO_DEFAULTS: dict[str, Any] = {"story": "", "why_skewed": "", "references": []}  # title: the model's name


def load_spec(target: str | Path | ModuleType | Any) -> ModelSpec:
    """Load a catalog model by name, a model file by path, an imported module, or a ``bambi.Model``.

    A Bambi model (or a model file whose ``build`` returns one) becomes lme4's model: correlated
    group-specific terms, lme4's names, every effect latent (:mod:`comparisons.formula`).

    Raises
    ------
    ModemeanError
        Unknown name (with close matches), a file that does not exist or raises on import, a
        module that breaks the contract (naming the missing part), or bad data.
    """
    if is_bambi_model(target):
        return spec_from_parts(**formula_parts(target))
    if isinstance(target, ModuleType):
        module = target
    elif str(target).endswith(".py") or Path(str(target)).is_file():
        module = _import_file(Path(target))
    else:
        module = _import_catalog(str(target))
    return _spec_from_module(module)


def _import_catalog(name: str) -> ModuleType:
    check_target(name)  # an unknown name: its close matches
    try:
        return models.get(name)
    except Exception as exc:  # a broken catalog file must still give a one-line message
        raise ModemeanError(f"model {name!r} raised on import: {type(exc).__name__}: {exc}") from exc


def _import_file(path: Path) -> ModuleType:
    check_target(str(path))  # no such file
    path = path.resolve()
    mod_name = f"modemean_user_{path.stem}_{hashlib.sha256(str(path).encode()).hexdigest()[:12]}"
    loader_spec = importlib.util.spec_from_file_location(mod_name, path)
    if loader_spec is None or loader_spec.loader is None:  # a suffix no import loader knows (model.txt)
        raise ModemeanError(f"model file {str(path)!r} cannot be imported as Python: give a path to a .py file")
    module = importlib.util.module_from_spec(loader_spec)
    sys.modules[mod_name] = module
    # the researcher's project is importable while the file is (from models.common import helper), as when
    # run with python: its root is the first parent folder that is not a package (has no __init__.py)
    root = next((str(p) for p in path.parents if not (p / "__init__.py").is_file()), str(path.parent))
    added = root not in sys.path
    if added:
        sys.path.insert(0, root)
    try:
        loader_spec.loader.exec_module(module)
    except Exception as exc:
        sys.modules.pop(mod_name, None)
        raise ModemeanError(f"model file {str(path)!r} raised on import: {type(exc).__name__}: {exc}") from exc
    finally:
        if added and root in sys.path:
            sys.path.remove(root)
    return module


def _spec_from_module(module: ModuleType) -> ModelSpec:
    file = getattr(module, "__file__", None) or module.__name__
    name = Path(file).stem if file.endswith(".py") else module.__name__
    problems = contract_problems(module)
    if problems:  # every one at once, not one per try
        raise ModemeanError(
            f"model {name!r} does not follow the contract: {'; '.join(problems)} (see docs/model-file.md)"
        )
    given = dict(getattr(module, "INFO", {}))
    latent = tuple(getattr(module, "LATENT", ()))
    present = [h for h in EM_HOOKS if callable(getattr(module, h, None))]
    em = {h: getattr(module, h) for h in present} if latent else {}
    try:
        raw = module.load_data() if hasattr(module, "load_data") else {}  # none: build writes its data itself
    except Exception as exc:
        raise ModemeanError(f"model {name!r}: load_data() raised {type(exc).__name__}: {exc}") from exc
    data = check_data(raw, name, getattr(module, "DATA", None))
    build, built = module.build, call_build(module.build, data, name)
    if is_bambi_model(built):  # build returned a Bambi model: its formula's parts, with the file's INFO
        parts = formula_parts(built, name=name)
        build, data, latent, em, built = parts["build"], check_data(parts["data"], name), parts["latent"], {}, None
        given = {**parts["info"], **given}
    info = {**INFO_DEFAULTS, "title": name, **given, "missing": [k for k in INFO_KEYS if k not in given]}
    return assemble(
        build,
        data,
        name,
        info,
        latent,
        em,
        dict(getattr(module, "SAMPLER", {})),
        file,
        getattr(module, "highlights", None),
        getattr(module, "payload", None),
        getattr(module, "TRUTH", None),
        built,
    )


def contract_problems(module: ModuleType) -> list[str]:
    """Every way a model file breaks the contract (docs/model-file.md), each a short phrase; empty when it keeps it.

    Only ``build`` is required; ``INFO`` (each field optional), ``load_data``, ``LATENT``, ``DATA``,
    ``SAMPLER`` and ``TRUTH`` are checked for their type when given.
    """
    problems = []
    if not hasattr(module, "build"):
        problems.append("missing build (a function build(data) -> pymc.Model)")
    for attr in ("build", "load_data", "highlights", "payload", *EM_HOOKS):
        if hasattr(module, attr) and not callable(getattr(module, attr)):
            problems.append(f"{attr} must be a function, got {type(getattr(module, attr)).__name__}")
    for attr, kind in (("INFO", dict), ("DATA", dict), ("SAMPLER", dict), ("TRUTH", dict), ("LATENT", (tuple, list))):
        value = getattr(module, attr, None)
        if value is not None and not isinstance(value, kind):
            what = "a dict" if kind is dict else "a tuple of variable names"
            problems.append(f"{attr} must be {what}, got {type(value).__name__}")
    info = getattr(module, "INFO", None)
    if isinstance(info, dict):
        wrong = [k for k in ("title", "story", "why_skewed") if k in info and not isinstance(info[k], str)]
        problems += [f"INFO[{k!r}] must be a string, got {type(info[k]).__name__}" for k in wrong]
        references = info.get("references", [])
        if not isinstance(references, (list, tuple)) or not all(isinstance(r, str) for r in references):
            problems.append("INFO['references'] must be a list of strings")
    latent = getattr(module, "LATENT", ())
    if isinstance(latent, (tuple, list)) and not all(isinstance(v, str) for v in latent):
        problems.append("LATENT must name variables (strings)")
    return problems
