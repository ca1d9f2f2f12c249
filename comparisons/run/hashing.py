"""The one way to hash what shapes a result: model sources, data (with masks), settings, engine code.

Shared by the result cache key, the study key and the teaching key, so that a hole closed here (a
masked array's mask, an array printed with ``...``) is closed for all three.
"""

from __future__ import annotations

import ast
import hashlib
import inspect
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from modemean.models import MODEL_HELPERS

from ..results.write import versions

__all__ = ["ENGINE", "CATALOG", "hash_source", "hash_data", "hash_settings", "hash_code", "catalog_imports"]

ENGINE = Path(__file__).parents[1]  # comparisons/: every engine source is hashed
CATALOG = ENGINE.parent / "models"  # the catalog's folder, models/ (modemean.models)


def hash_source(h, source: str | Path, build: Callable | None = None) -> bool:
    """Add a model's code to the hash ``h``: its file and the catalog files it imports, or ``build``'s source.

    Returns
    -------
    bool
        ``False`` when no source could be read (a model given as a function without source).
    """
    path = Path(source)
    if path.is_file():
        for file in [path, *catalog_imports(path)]:
            h.update(file.read_bytes())
        return True
    if build is not None:
        try:
            h.update(inspect.getsource(build).encode())
        except (OSError, TypeError):
            return False
        return True
    return False


def hash_data(h, data: Mapping[str, Any]) -> None:
    """Add named arrays to the hash ``h``: name, dtype, shape, bytes and, for a masked array, its mask.

    Which entries are missing shapes the results as much as the values: two data sets that differ only
    in which entry is masked hash differently.
    """
    for name in sorted(data):
        value = data[name]
        array = np.ascontiguousarray(np.ma.getdata(value))
        h.update(f"{name}|{array.dtype.str}|{array.shape}|".encode())
        h.update(array.tobytes())
        if np.ma.isMaskedArray(value):
            h.update(b"mask|" + np.ascontiguousarray(np.ma.getmaskarray(value)).tobytes())


def hash_settings(h, settings: Mapping[str, Any]) -> None:
    """Add settings to the hash ``h`` as sorted JSON; an array among them (at any depth) by :func:`hash_data`,
    anything else JSON cannot write by ``str``."""
    h.update(json.dumps(settings, sort_keys=True, default=_array_token).encode())


def _array_token(value: Any) -> str:
    if isinstance(value, np.ndarray):  # masked arrays included; str() would print "..." for a long one
        inner = hashlib.sha256()
        hash_data(inner, {"": value})
        return f"array:{inner.hexdigest()}"
    return str(value)


def hash_code(h, extra: list[Path] | None = None) -> None:
    """Add to the hash ``h`` the library versions, the engine's sources (``comparisons/``) and ``extra`` files."""
    h.update(json.dumps(versions(), sort_keys=True).encode())
    for path in [*sorted(ENGINE.rglob("*.py")), *sorted(extra or [])]:
        h.update(path.read_bytes())


def catalog_imports(source: Path) -> list[Path]:
    """Catalog files a model file imports from -- other models and the ``models/_*.py`` helpers -- and theirs
    in turn, sorted: a change to shared model code must invalidate every model using it.

    Seen: ``from modemean.models.x import ...``, ``from modemean.models import x``, ``import modemean.models.x``,
    relative imports between catalog files, and the model helpers ``modemean`` re-exports
    (``from modemean import normal_mixture_m_step``).
    """
    seen: set[Path] = set()
    todo = [source]
    while todo:
        path = todo.pop()
        for name in _imported_names(path, inside=path.parent == CATALOG):
            file = CATALOG / f"{name.split('.')[0]}.py"
            if file.is_file() and file not in seen and file != source:
                seen.add(file)
                todo.append(file)
    return sorted(seen)


def _imported_names(path: Path, inside: bool) -> list[str]:
    """The catalog modules ``path`` imports from (names relative to ``modemean.models``)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [
                a.name.removeprefix("modemean.models.") for a in node.names if a.name.startswith("modemean.models.")
            ]
        elif isinstance(node, ast.ImportFrom):
            module = (
                "modemean.models" + (f".{node.module}" if node.module else "")
                if node.level == 1 and inside
                else (node.module or "")
            )
            if module == "modemean":
                found += [MODEL_HELPERS[a.name] for a in node.names if a.name in MODEL_HELPERS]
            elif module == "modemean.models":
                found += [alias.name for alias in node.names]
            elif module.startswith("modemean.models."):
                found.append(module.removeprefix("modemean.models."))
    return found
