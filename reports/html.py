"""The page shell: CSS and scripts from ``assets/``, the page, slugs, figures and JSON data blocks."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from html import escape
from importlib.resources import files
from pathlib import Path

from .plots.style import save

ASSETS = files("modemean.reports") / "assets"


def asset(name: str) -> str:
    """The text of ``reports/assets/<name>`` (CSS, JavaScript or an HTML fragment shipped with the package)."""
    return (ASSETS / name).read_text(encoding="utf-8")


CSS = asset("site.css")
N_SHOWN = 4  # figures shown up front on a model page; the rest sit one click away in <details>
# Sorting (click a column head; again for the other direction) and filtering (input.filter[data-table=id]) of
# every table.sortable on a page, inline so it works from file:// with no network resource.
TABLE_JS = asset("table.js")


def embed(element_id: str, data) -> str:
    """A JSON data block the page's script reads (``</`` escaped so it cannot close the script)."""
    text = json.dumps(data, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")
    return f'<script type="application/json" id="{element_id}">{text}</script>'


def page(title: str, body: str) -> str:
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>{body}"
        + (f"<script>{TABLE_JS}</script>" if "sortable" in body else "")
        + "</body></html>\n"
    )


def slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_") or "p"


def figure(fig, folder: Path, filename: str, alt: str, caption: str) -> str:
    save(fig, folder / filename)
    return (
        f'<figure><img src="{escape(filename)}" alt="{escape(alt)}"><figcaption>{escape(caption)}</figcaption></figure>'
    )


def legend(items: Iterable[tuple[str, str]]) -> str:
    """A figure's legend drawn by a page script: ``(colour, label)`` pairs as swatches (the label is HTML)."""
    return "".join(f'<span><i class="swatch" style="background:{c}"></i>{t}</span>' for c, t in items)
