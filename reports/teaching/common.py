"""What every teaching page shares: the page writer, the navigation, inline PNGs, the SVG plotting script."""

from __future__ import annotations

import base64
import io
from html import escape
from pathlib import Path

import matplotlib
from matplotlib.figure import Figure

import modemean.reports.html as html  # "from . import html" would import the package reports/__init__

from ..plots.style import RC

TEACH_CSS = html.asset("teach.css")
SVG_JS = html.asset("svg.js")  # a small SVG plotting helper the pages' scripts share


LOSS_MODEL, LOSS_PARAMETER = "eight_schools", "tau"


# ---------------------------------------------------------------------------------------------- helpers
def png(fig: Figure, alt: str) -> str:
    """An inline ``<img>`` (base64 PNG) of ``fig``."""
    buffer = io.BytesIO()
    with matplotlib.rc_context(RC):
        fig.savefig(buffer, format="png", dpi=100)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{escape(alt)}">'


def write(out: Path, filename: str, title: str, body: str) -> Path:
    page = Path(out) / "teaching" / filename
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(html.page(f"{title} — modemean", f"<style>{TEACH_CSS}</style>{body}"))
    return page


def nav(extra: str = "") -> str:
    return f'<nav><a href="../index.html">← all models</a>{extra}</nav>'
