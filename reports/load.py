"""Read what ``modemean run`` wrote: ``OUT/<model>/results.json`` and ``results.nc``.

Nothing here runs a solver; a model without saved results is an error that says which command
writes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from modemean.comparisons.errors import ModemeanError
from modemean.comparisons.results.read import flat_draws, read_json, read_tree, traces
from modemean.comparisons.results.schema import NOT_RUN, SPREAD_RTOL, is_number

__all__ = ["ModelResults", "boundary_of", "load_model", "load_all", "find_models", "zero_spread"]


@dataclass(frozen=True)
class ModelResults:
    """One model's saved comparison.

    Attributes
    ----------
    name : str
        The folder name (= the catalog name).
    folder : Path
        ``OUT/<model>``.
    data : dict
        The content of ``results.json``.
    draws : dict of str to ndarray
        NUTS draws per flat parameter name, each of shape ``(chain * draw,)``; empty when NUTS
        did not run or failed.
    traces : dict of str to list of ndarray
        EM objective per iteration, one array per restart (padding removed), keyed by run
        (``"em"``, ``"mle"``); empty when EM did not run.
    solver_draws : dict of str to dict of str to ndarray
        The draws of every other solver that keeps them in its own group (the approximations:
        ``laplace``, ``advi``, ...), solver to flat parameter name to shape ``(n,)``.
    nuts : xarray.DataTree or None
        NUTS's ``posterior`` and ``sample_stats`` (``diverging``) as ArviZ reads them, for its standard
        plots; ``None`` when NUTS left no draws.
    """

    name: str
    folder: Path
    data: dict[str, Any]
    draws: dict[str, np.ndarray] = field(default_factory=dict)
    traces: dict[str, list[np.ndarray]] = field(default_factory=dict)
    solver_draws: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    nuts: Any = None

    @property
    def schema(self) -> dict[str, Any]:
        """``results.json``'s own description: ``columns`` (table order; owner solvers, help, marker
        label) and ``solvers`` (run order; label, columns, options, draws)."""
        return self.data["schema"]

    @property
    def columns(self) -> dict[str, dict[str, Any]]:
        """Column name to ``{"solvers", "help", "marker", "check"}``, in table order."""
        return self.schema["columns"]

    @property
    def labels(self) -> dict[str, str]:
        """Solver name to how pages name it (``"map"`` -> ``"find_MAP"``), in run order."""
        return {name: s["label"] for name, s in self.schema["solvers"].items()}

    @property
    def parameters(self) -> dict[str, dict[str, Any]]:
        """Flat parameter name to its row of the comparison table (``None`` for missing values)."""
        return self.data["parameters"]

    @property
    def ran(self) -> dict[str, str]:
        """:attr:`labels` of the solvers this run asked for (``solvers`` of ``results.json``), in run order."""
        return {m: label for m, label in self.labels.items() if self.solver(m)["status"] != NOT_RUN}

    def gap_kind(self, name: str) -> str | None:
        """Why the parameter's peak and centre of mass differ (``GAP_KINDS``), or ``None`` in results
        written before the engine recorded it."""
        return self.parameters[name].get("gap_kind")

    def solver(self, method: str) -> dict[str, Any]:
        """The ``solvers`` entry of ``method``; ``{"status": "not_run"}`` if it was not asked for."""
        return self.data["solvers"].get(method, {"status": NOT_RUN, "message": f"{method} was not run"})

    def no_mode(self, column: str = "map") -> bool:
        """A solver flagged ``column`` (find_MAP's ``map``) as no mode: its point is not a peak."""
        return any(
            f["kind"] == "no_mode" and f["column"] == column
            for solver in self.data["solvers"].values()
            for flags in (solver.get("flags") or {}).values()
            for f in flags
        )

    def gap(self, name: str) -> tuple[float, str] | None:
        """A parameter's peak-to-mean distance in sds and its column: ``gap_sd``, or ``gap_sd_em``
        where find_MAP found no mode (or did not run) but EM did."""
        row = self.parameters[name]
        if zero_spread(row):  # a constant or an entry of observed data: no distance to rank by
            return None
        for column in ("gap_sd", "gap_sd_em"):
            if is_number(row.get(column)):
                return row[column], column
        return None

    def headline(self) -> tuple[str, float, str] | None:
        """The parameter with the largest gap, the gap and its column (``None`` if no gap exists)."""
        gaps = [(name, *self.gap(name)) for name in self.parameters if self.gap(name)]
        return max(gaps, key=lambda item: abs(item[1])) if gaps else None

    def ranked(self) -> list[str]:
        """Parameter names from most to least skewed (``|gap|``, then ``|skewness|``)."""

        def key(name):
            gap, skew = self.gap(name), self.parameters[name].get("skewness")
            return (-abs(gap[0]) if gap else 0.0, -abs(skew) if is_number(skew) else 0.0)

        return sorted(self.parameters, key=key)

    def approximations(self) -> dict[str, dict[str, Any]]:
        """Each approximation of the posterior that ran (a solver whose columns include ``<x>_gap_sd``,
        its distance from NUTS): ``{"label", "status", "message", "khat", "distance", "worst", "prefix"}``.

        ``distance`` (the largest, over the parameters, of ``|<x>_gap_sd|`` and ``|ln <x>_sd_ratio|``),
        ``worst`` (the parameter where it is reached) and ``khat`` are the engine's, from results.json's
        ``closest_approximation.measured``; ``None`` without NUTS or when the approximation failed.
        """
        measured = (self.data.get("closest_approximation") or {}).get("measured", {})
        out = {}
        for name, solver in self.schema["solvers"].items():
            gap = next((c for c in solver["columns"] if c.endswith("_gap_sd")), None)
            status = self.solver(name)
            if gap is None or status["status"] == NOT_RUN:
                continue
            found = measured.get(name, {})
            out[name] = {
                "label": solver["label"],
                "status": status["status"],
                "message": status.get("message", ""),
                "khat": found.get("khat"),
                "distance": found.get("distance"),
                "worst": found.get("worst"),
                "prefix": gap.removesuffix("_gap_sd"),
            }
        return out

    def closest_approximation(self) -> tuple[str, dict[str, Any]] | None:
        """The approximation the engine names closest to NUTS (NUTS reliable, its k̂ ≤ 0.7), or ``None``
        (:meth:`no_closest_reason` says why)."""
        name = (self.data.get("closest_approximation") or {}).get("solver")
        return (name, self.approximations()[name]) if name else None

    def no_closest_reason(self) -> str:
        """Why no approximation is named closest to NUTS; empty when one is, or none ran."""
        return (self.data.get("closest_approximation") or {}).get("reason", "")


def boundary_of(row: dict[str, Any], column: str) -> float | None:
    """The bound ``column``'s estimate sits on, from the row's ``boundary`` flag; ``None`` if it is inside."""
    return next((f["value"] for f in row.get("flags", []) if f["kind"] == "boundary" and f["column"] == column), None)


def zero_spread(row: dict[str, Any]) -> bool:
    """True when a row's posterior sd is 0 or at rounding level of its mean (a constant, an observed entry)."""
    sd, mean = row.get("sd"), row.get("mean")
    return is_number(sd) and (sd == 0 or (is_number(mean) and sd <= SPREAD_RTOL * abs(mean)))


def draws_spread(draws: np.ndarray | None) -> bool:
    """True when there are at least two draws that differ beyond rounding (a density can be drawn)."""
    if draws is None or np.size(draws) < 2:
        return False
    draws = np.asarray(draws, dtype=float)
    finite = draws[np.isfinite(draws)]
    return finite.size > 1 and float(np.ptp(finite)) > SPREAD_RTOL * max(float(np.max(np.abs(finite))), 1e-300)


def find_models(out: Path) -> list[str]:
    """Names of the folders in ``out`` that hold a ``results.json``, sorted."""
    out = Path(out)
    return sorted(p.parent.name for p in out.glob("*/results.json")) if out.is_dir() else []


def load_model(out: Path, name: str) -> ModelResults:
    """Load ``out/<name>/results.json`` and ``results.nc``.

    Raises
    ------
    ModemeanError
        When a file is missing or unreadable, naming the command that writes it.
    """
    folder = Path(out) / name
    rerun = f"run 'modemean run {name} --out {out}' first"
    json_path, nc_path = folder / "results.json", folder / "results.nc"
    for path in (json_path, nc_path):
        if not path.is_file():
            raise ModemeanError(f"no results for {name!r}: {path} does not exist; {rerun}")
    try:
        data = read_json(folder)
    except (OSError, ValueError) as exc:
        raise ModemeanError(f"cannot read {json_path}: {exc}; {rerun} again") from exc
    if not isinstance(data, dict) or not {"parameters", "solvers"} <= data.keys():
        raise ModemeanError(f"{json_path} is not a modemean results file (no 'parameters'/'solvers'); {rerun} again")
    if "schema" not in data:
        raise ModemeanError(f"{json_path} was written by an older modemean (no 'schema'); {rerun} again with --force")
    groups = {
        s: d["draws_group"]
        for s, d in data["schema"]["solvers"].items()
        if d.get("has_draws") and d.get("draws_group") not in (None, "/")
    }
    read = {
        "posterior",
        "sample_stats",
        "em_trace",
        *groups.values(),
    }  # and their subgroups; not the table, stats or payload
    try:
        tree = read_tree(folder, lambda group: group.split("/")[0] in read)
        draws = flat_draws(tree["posterior"].to_dataset()) if "posterior" in tree.children else {}
        nuts = tree.filter(lambda node: node.name in ("posterior", "sample_stats")) if draws else None
        em_traces = traces(tree["em_trace"].to_dataset()) if "em_trace" in tree.children else {}
        solver_draws = {
            s: flat_draws(tree[g]["posterior"].to_dataset())
            for s, g in groups.items()
            if g in tree.children and "posterior" in tree[g].children
        }
    except (OSError, ValueError, KeyError) as exc:
        raise ModemeanError(f"cannot read {nc_path}: {exc}; {rerun} again") from exc
    return ModelResults(name, folder, data, draws, em_traces, solver_draws, nuts)


def load_all(out: Path, names: list[str] | None = None) -> list[ModelResults]:
    """Load the named models (default: every model with results in ``out``).

    Raises
    ------
    ModemeanError
        When ``out`` holds no results at all, or a named model has none.
    """
    found = find_models(out)
    if not found:
        raise ModemeanError(
            f"no results found in {out}: run 'modemean run all --out {out}' first "
            "(or pass --out to the folder 'modemean run' wrote to)"
        )
    return [load_model(out, name) for name in (names or found)]
