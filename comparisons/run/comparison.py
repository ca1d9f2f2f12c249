"""``Comparison``: the outcome of :func:`~comparisons.run.compare.compare`: its files, its text and HTML."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import xarray as xr

from ..results.fit import Fit
from ..results.schema import STATUS_WORDS
from ..results.table import columns, format_table
from ..results.write import dump_json, remove_stale_temporaries, results_dict, results_tree, write_atomic
from ..spec.model_spec import ModelSpec
from .output import shown_source, source_id
from .view import WIDTH, html_view, status_line, text_view

__all__ = ["Comparison"]


@dataclass(repr=False)
class Comparison:
    """The outcome of :func:`compare`.

    Attributes
    ----------
    spec : ModelSpec
    fits : dict of str to Fit
        One per solver that was asked for.
    table : pandas.DataFrame
        One row per scalar parameter; columns as in the results schema (README).
    settings : dict
        seed, draws, tune, chains, n_init, solvers.
    cache_key : str or None
        Hash of everything that shapes the results (:func:`comparisons.run.cache.cache_key`).
    cached : bool
        True when the results were read back from a previous run instead of solved.
    highlights : dict
        The model's own headline numbers (its ``highlights`` hook), or ``{"error": ...}``.
    payload : dict of str to ndarray
        Arrays for the model's report section (its ``payload`` hook), saved in ``results.nc``.
    """

    spec: ModelSpec
    fits: dict[str, Fit]
    table: pd.DataFrame
    settings: dict[str, Any] = field(default_factory=dict)
    cache_key: str | None = None
    cached: bool = False
    highlights: dict[str, Any] = field(default_factory=dict)
    payload: dict[str, Any] = field(default_factory=dict)

    @property
    def results(self) -> dict[str, Any]:
        """The content of ``results.json``."""
        return results_dict(
            self.spec.name,
            self.spec.info,
            self.settings,
            self.fits,
            self.table,
            shown_source(self.spec.source),
            self.cache_key,
            self.highlights,
            source_id(self.spec.source),
        )

    @property
    def tree(self) -> xr.DataTree:
        """The content of ``results.nc``: NUTS draws, ``point_estimates``, ``em_trace``, ``payload``."""
        return results_tree(self.fits, self.table, self.payload)

    def save(self, out: str | Path) -> Path:
        """Write ``out/<model>/results.json`` and ``results.nc`` atomically; return the folder."""
        folder = Path(out) / self.spec.name
        folder.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(folder)
        tree = self.tree
        write_atomic(folder / "results.nc", lambda tmp: tree.to_netcdf(tmp, engine="h5netcdf"))
        dump_json(self.results, folder / "results.json")
        return folder

    def text(self, wide: bool = False) -> str:
        """What ``modemean run`` prints: the statuses and the table, at most 100 characters a line (vector
        parameters collapsed, :func:`~.view.text_view`); ``wide``: every column and row of the run."""
        title = f"{self.spec.name}: {self.spec.info.get('title', '')}"
        lines = textwrap.wrap(title, WIDTH, subsequent_indent="  ")
        if self.cached:
            lines.append("  (cached results: nothing changed since they were made; --force recomputes)")
        width = max([5, *map(len, self.fits)])
        for method, fit in self.fits.items():
            word = STATUS_WORDS.get(fit.status, fit.status)
            status = word if not fit.message else f"{word} — {fit.message}"
            lines += textwrap.wrap(
                f"  {method:{width}s} {fit.seconds:6.1f} s  {status}", WIDTH, subsequent_indent=" " * (width + 14)
            )
        em = self.fits.get("em")
        kind = em.diagnostics.get("em_kind", "") if em is not None and em.ok else ""
        table = format_table(self.table, columns(self.fits), em_kind=kind) if wide else text_view(self.table, kind)
        return "\n".join(lines) + "\n\n" + table

    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:
        return f"<Comparison {self.spec.name}: {status_line(self.fits)}{' (cached)' if self.cached else ''}>"

    def _repr_html_(self) -> str:
        return html_view(self.spec.name, self.spec.info.get("title", ""), self.fits, self.table)
