"""Where results go: the folder name, a folder holding another model's results, a writable output, paths shown."""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from modemean import models

from ..errors import ModemeanError

__all__ = [
    "plan_output",
    "check_target",
    "check_name",
    "planned_source",
    "planned_name",
    "check_folder",
    "shown_path",
    "shown_source",
    "source_id",
    "check_writable",
]


def plan_output(
    targets: list[str], out: Path, name: str | None = None, check_target: Callable[[str], object] | None = None
) -> dict[str, str]:
    """The results folder name of each target, checked before any solver runs; ``{target: folder name}``.

    Parameters
    ----------
    targets : list of str
        Catalog names or model file paths.
    out : Path
        The output folder (checked writable).
    name : str, optional
        The folder name for a single target (``--name``).
    check_target : callable, optional
        Called with each target that is neither a catalog name nor a file (it raises for an unknown one).

    Raises
    ------
    ModemeanError
        ``out`` not writable; ``name`` with several targets or not a folder name; two sources that would
        write one folder; a folder holding results of another model source (:func:`check_folder`).
    """
    check_writable(out)
    if name is not None:
        if len(targets) != 1:
            raise ModemeanError(
                f"--name names the results folder of one model, got {len(targets)} models: run them one at a time"
            )
        check_name(name)
    planned: dict[str, str] = {}  # folder name -> source
    folders = {}
    for target in targets:
        if check_target is not None and target not in models.CATALOG and not Path(target).is_file():
            check_target(target)
        folder, source = name or planned_name(target), planned_source(target)
        if planned.setdefault(folder, source) != source:
            raise ModemeanError(
                f"{shown_path(planned[folder])} and {shown_path(source)} would both write "
                f"{out / folder}: run them one at a time with --name NAME"
            )
        check_folder(out, folder, source)
        folders[target] = folder
    return folders


def check_target(target: str) -> None:
    """Raise unless ``target`` is a catalog name or an existing file: an unknown name with its close matches,
    a ``.py`` path that does not exist. Reads no model (no PyMC)."""
    if target in models.CATALOG or Path(target).is_file():
        return
    if target.endswith(".py"):
        raise ModemeanError(f"model file {target!r} does not exist: give a path to a .py file or a catalog name")
    close = difflib.get_close_matches(target, models.CATALOG, n=3, cutoff=0.5)
    hint = f"did you mean {', '.join(close)}?" if close else "run 'modemean list' to see them"
    raise ModemeanError(f"unknown model {target!r}: {hint} (or pass a path to a model .py file)")


def check_name(name: str) -> None:
    """A results folder name: one path component of letters, digits, ``.``, ``_``, ``-``."""
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9._-]*", name):
        raise ModemeanError(f"name must be a folder name (letters, digits, '.', '_', '-'), got {name!r}")


def planned_source(target: str | Path | ModuleType) -> str:
    """The source file a target will be loaded from (a catalog model's file, or the path), without loading it."""
    if isinstance(target, ModuleType):
        return getattr(target, "__file__", None) or target.__name__
    if str(target).endswith(".py") or Path(str(target)).is_file():
        return str(Path(target).resolve())
    if str(target) in models.CATALOG:
        return str((Path(models.__file__).parent / f"{target}.py").resolve())
    return str(target)


def planned_name(target: str | Path | ModuleType) -> str:
    """The results folder a target writes to by default: the catalog name or the file's stem."""
    if isinstance(target, ModuleType):
        file = getattr(target, "__file__", None) or ""
        return Path(file).stem if file.endswith(".py") else target.__name__
    return Path(str(target)).stem if str(target).endswith(".py") or Path(str(target)).is_file() else str(target)


def check_folder(out: Path, name: str, source: str) -> None:
    """Raise when ``out/<name>/`` holds results of another model source (a file with the same stem elsewhere,
    or a file named like a catalog model): they would be overwritten silently."""
    try:
        results = json.loads((out / name / "results.json").read_text())
        stored, stored_id = results.get("source"), results.get("source_id")
    except (OSError, ValueError, AttributeError):
        return
    if not stored or (stored_id == source_id(source) if stored_id else _same_source(stored, source)):
        return
    raise ModemeanError(
        f"{shown_path(out / name)} holds results of {shown_path(stored)}; pass --name NAME (or name= in "
        "compare) to keep both"
    )


def _same_source(stored: str, source: str) -> bool:
    if stored == source:
        return True  # the same file, or two models given as functions ("<python>": named by their caller)
    if "<python>" in (stored, source):
        return False
    old, new = Path(stored), Path(source)
    if old.is_file() and new.is_file():
        return old.resolve() == new.resolve()
    # a catalog model whose checkout moved: the old file is gone, the new one is the catalog's file of that name
    catalog = Path(models.__file__).parent.resolve()
    return not old.exists() and new.resolve().parent == catalog and old.name == new.name


def shown_source(source: str) -> str:
    """A model source as results show it: the file relative to the working folder, else its name; never an
    absolute path (pages are shared). ``<python>`` and other non-files unchanged."""
    if not source.endswith(".py"):
        return source
    shown = shown_path(source)
    return shown if not Path(shown).is_absolute() else Path(source).name


def source_id(source: str) -> str:
    """What identifies a model source across runs without showing its path (``results.json``'s ``source_id``):
    ``catalog:<name>`` for a catalog file (wherever the checkout is), a hash of the resolved path of another
    file, the source itself otherwise (``<python>``)."""
    if not source.endswith(".py"):
        return source
    path = Path(source).resolve()
    if path.parent == Path(models.__file__).parent.resolve():
        return f"catalog:{path.stem}"
    return hashlib.sha256(str(path).encode()).hexdigest()[:16]


def shown_path(path: str | Path) -> str:
    """A path relative to the working folder when it lies inside it (as the user typed it), else absolute."""
    try:
        return os.path.relpath(path) if Path(path).resolve().is_relative_to(Path.cwd().resolve()) else str(path)
    except ValueError:
        return str(path)


def check_writable(out: Path) -> None:
    """Fail before any solver runs if ``out`` cannot be created or written."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModemeanError(f"cannot create output folder {str(out)!r}: {exc.strerror}; pass --out DIR") from exc
    if not os.access(out, os.W_OK | os.X_OK):
        raise ModemeanError(f"output folder {str(out)!r} is not writable: pass --out DIR with a writable folder")
