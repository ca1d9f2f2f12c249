"""Whether a page must be rendered again: no page yet, or older than its inputs or the rendering code."""

from __future__ import annotations

from pathlib import Path

__all__ = ["CODE", "stale", "code_time"]

CODE = (".py", ".css", ".js", ".html")  # the rendering code: reports/**/*.py and the assets
HERE = Path(__file__).parent


def stale(page: Path, inputs: list[Path], force: bool = False) -> bool:
    """Whether ``page`` must be rendered: ``force``, no page yet, or a page older than one of the ``inputs``
    that exist or than the rendering code (``reports/**/*.py`` and ``reports/assets``)."""
    if force or not page.exists():
        return True
    return page.stat().st_mtime < max(code_time(), *(p.stat().st_mtime for p in inputs if p.is_file()))


def code_time() -> float:
    """The newest modification time of the rendering code: ``reports/**/*.py`` and ``reports/assets``.

    A generated site inside ``reports/`` (``make demo`` writes ``reports/site``) is not code: its pages,
    rewritten by every report, would make every other page look stale.
    """
    files = [p for p in HERE.rglob("*.py") if "site" not in p.relative_to(HERE).parts[:-1]]
    return max(p.stat().st_mtime for p in [*files, *(HERE / "assets").iterdir()] if p.suffix in CODE)
