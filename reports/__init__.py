"""modemean's reports: HTML pages, tables and figures rendered from saved results.

Rendering reads ``OUT/<model>/results.json`` and ``results.nc`` (written by ``modemean run``)
and never runs a solver.

>>> from modemean.reports import render                      # doctest: +SKIP
>>> render("reports/site")                          # doctest: +SKIP
PosixPath('reports/site/index.html')
"""

from .load import ModelResults, load_all, load_model
from .pages import render, render_index, render_model

__all__ = ["render", "render_model", "render_index", "ModelResults", "load_all", "load_model"]
