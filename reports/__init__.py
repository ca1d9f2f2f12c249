"""modemean's reports: HTML pages, tables and figures rendered from saved results.

Rendering reads ``OUT/<model>/results.json`` and ``results.nc`` (written by ``modemean run``)
and never runs a solver.

>>> from modemean.reports import render                      # doctest: +SKIP
>>> render("reports/site")                          # doctest: +SKIP
PosixPath('reports/site/index.html')
"""

from .index_page import render_index
from .load import ModelResults, load_all, load_model
from .model_page import render_model
from .site import render

__all__ = ["render", "render_model", "render_index", "ModelResults", "load_all", "load_model"]
