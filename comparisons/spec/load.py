"""Load a model by catalog name, file path or module, and check it keeps the model-file contract."""

from __future__ import annotations

import difflib
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
from .data import check_data
from .model_spec import ModelSpec, assemble, call_build, spec_from_parts

__all__ = ["load_spec"]

INFO_KEYS = ("title", "story", "why_skewed", "references")


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
    missing = [attr for attr in ("INFO", "load_data", "build") if not hasattr(module, attr)]
    if missing:
        raise ModemeanError(
            f"model {name!r} does not follow the contract: missing {', '.join(missing)} "
            "(see README, 'How to add a model')"
        )
    info = module.INFO
    missing_info = [k for k in INFO_KEYS if k not in info] if isinstance(info, dict) else list(INFO_KEYS)
    if missing_info:
        raise ModemeanError(f"model {name!r}: INFO lacks {', '.join(missing_info)} (see README, 'How to add a model')")
    latent = tuple(getattr(module, "LATENT", ()))
    present = [h for h in EM_HOOKS if callable(getattr(module, h, None))]
    em = {h: getattr(module, h) for h in present} if latent else {}
    try:
        raw = module.load_data()
    except Exception as exc:
        raise ModemeanError(f"model {name!r}: load_data() raised {type(exc).__name__}: {exc}") from exc
    data = check_data(raw, name, getattr(module, "DATA", None))
    build, built = module.build, call_build(module.build, data, name)
    if is_bambi_model(built):  # build returned a Bambi model: its formula's parts, with the file's INFO
        parts = formula_parts(built, name=name)
        build, data, latent, em, built = parts["build"], check_data(parts["data"], name), parts["latent"], {}, None
        info = {**parts["info"], **info}
    return assemble(
        build,
        data,
        name,
        dict(info),
        latent,
        em,
        dict(getattr(module, "SAMPLER", {})),
        file,
        getattr(module, "highlights", None),
        getattr(module, "payload", None),
        getattr(module, "TRUTH", None),
        built,
    )
