"""Parts of a model page around its sections: the table of contents, the model's source, the table as CSV,
and the run's settings (only those of the solvers that ran)."""

from __future__ import annotations

import csv
from html import escape
from pathlib import Path
from typing import Any

from .load import ModelResults
from .tables import KIND, lead_first, shown_columns

__all__ = ["CSV", "run_settings", "shown_path", "source_section", "toc", "write_csv"]

CSV = "table.csv"  # the comparison table, next to the page


def toc(headings: list[tuple[str, str]]) -> str:
    """A table of contents: ``(anchor id, title)`` pairs as a list of links."""
    items = "".join(f'<li><a href="#{escape(i)}">{escape(t)}</a></li>' for i, t in headings)
    return f'<nav class="toc" aria-label="contents"><b>On this page</b><ol>{items}</ol></nav>' if items else ""


def shown_path(source: str) -> str:
    """A model file's path as a page shows it: from its ``models/`` folder on (``models/x.py``), else its name;
    never the absolute path of the machine that ran it."""
    path = Path(source)
    if not path.is_absolute():
        return path.as_posix()
    parts = path.parts
    return "/".join(parts[len(parts) - 1 - parts[::-1].index("models") :]) if "models" in parts else path.name


def source_section(results: ModelResults) -> str | None:
    """The model's PyMC source, folded in ``<details>``; a line saying it is not here when the file is gone."""
    source = results.data.get("source")
    if not source:
        return None
    shown = escape(shown_path(source))
    try:
        text = Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return f"<p>The model's source, <code>{shown}</code>, is not on this machine.</p>"
    return (
        f"<details><summary><code>{shown}</code> ({len(text.splitlines())} lines)</summary>"
        f'<pre class="source"><code>{escape(text)}</code></pre></details>'
    )


def write_csv(results: ModelResults) -> Path:
    """Write the comparison table (every shown column, full precision; ``gap_kind`` when recorded) as CSV."""
    columns = lead_first(shown_columns(results))
    if any(results.gap_kind(n) for n in results.parameters):
        columns.insert(columns.index("gap_sd") + 1 if "gap_sd" in columns else len(columns), KIND)
    path = results.folder / CSV
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["parameter", *columns])
        for name, row in results.parameters.items():
            writer.writerow([name, *("" if row.get(c) is None else row[c] for c in columns)])
    return path


def run_settings(results: ModelResults) -> dict[str, Any]:
    """The run's settings without the options of solvers that did not run (``approx_draws`` without an
    approximation); ``solvers`` as the labels of those that ran."""
    solvers = results.schema["solvers"]
    ran = results.ran
    unused = {o for m, s in solvers.items() if m not in ran for o in s.get("options", [])}
    used = {o for m in ran for o in solvers[m].get("options", [])}
    settings = {k: v for k, v in (results.data.get("settings") or {}).items() if k not in unused - used}
    if "solvers" in settings:
        settings["solvers"] = ", ".join(ran.values())
    return settings
