"""Each solver's diagnostics on the model page, keyed by solver name (any other solver: a generic table)."""

from __future__ import annotations

from html import escape

from modemean.comparisons.results.schema import format_number

from .load import ModelResults
from .tables import html_table


def diagnostics_html(results: ModelResults) -> str:
    """One headed section per solver in the results' schema that left diagnostics: its own renderer
    (:data:`DIAGNOSTICS`) where it has one, else its diagnostics as a key/value table."""
    parts = []
    for method, label in results.labels.items():
        solver = results.solver(method)
        if solver.get("diagnostics"):
            parts.append(DIAGNOSTICS.get(method, _generic_diagnostics)(label, solver))
    return "".join(parts)


def _nuts_diagnostics(label: str, solver: dict) -> str:
    if solver["status"] != "ok":
        return ""
    d = solver["diagnostics"]
    settings = ", ".join(f"{k}={v}" for k, v in (d.get("settings") or {}).items()) or "defaults"
    return f"<h3>{escape(label)}</h3>" + html_table(
        ("sampler", "chains", "tune", "draws", "divergences", "max R-hat", "min bulk ESS", "settings"),
        [
            (
                d.get("sampler", "—"),
                d.get("chains", "—"),
                d.get("tune", "—"),
                d.get("draws", "—"),
                d.get("divergences", "—"),
                format_number(d.get("max_r_hat"), "r_hat"),
                format_number(d.get("min_ess_bulk"), "ess_bulk"),
                settings,
            )
        ],
    )


def _map_diagnostics(label: str, solver: dict) -> str:
    d = solver["diagnostics"]
    if not d.get("starts"):
        return ""
    agree = (
        f"{d['n_starts_agreeing']} of {len(d['starts'])} starts agree with the best mode"
        if "n_starts_agreeing" in d
        else ""
    )
    unc = d.get("map_unconstrained")
    unc_text = (
        f"; the unconstrained (Jacobian) optimisation: success {unc['success']}, {unc['nit']} iterations, "
        f"{unc['message']}"
        if unc
        else ""
    )
    return (
        f"<h3>{escape(label)} audit</h3><p>{escape(d.get('optimizer', ''))}. {escape(agree)}{escape(unc_text)}.</p>"
        + html_table(
            ("start", "success", "iterations", "log density", "optimiser message"),
            [
                (s["start"], "yes" if s["success"] else "no", s["nit"], format_number(s["log_density"]), s["message"])
                for s in d["starts"]
            ],
        )
    )


def _em_diagnostics(label: str, solver: dict) -> str:
    parts = []
    for run, d in solver["diagnostics"].items():
        if not isinstance(d, dict) or "restarts" not in d:
            continue
        title = "MAP-EM (with prior)" if run == "em" else "ML-EM (no prior)" if run == "mle" else run
        summary = (
            f"best restart {d['best_restart']}; spread of the restarts' final objectives "
            f"{format_number(d.get('objective_spread'))}; {d['n_decreases']} decrease(s) of the objective"
            f" (largest {format_number(d.get('largest_decrease'))}); {d['n_failed']} restart(s) broke down"
        )
        parts.append(
            f"<h3>{escape(label)} convergence: {escape(title)}</h3><p>{escape(summary)}.</p>"
            + html_table(
                ("restart", "final objective", "iterations", "converged", "decreases", "error"),
                [
                    (
                        r["restart"],
                        format_number(r["objective"]),
                        r["n_iter"],
                        "yes" if r["converged"] else "no",
                        r["n_decreases"],
                        r["error"] or "—",
                    )
                    for r in d["restarts"]
                ],
            )
        )
    return "".join(parts)


def _generic_diagnostics(label: str, solver: dict) -> str:
    """Any solver's diagnostics: one row per key, nested values as compact text."""

    def show(value):
        return format_number(value) if isinstance(value, float) else str(value)

    return f"<h3>{escape(label)}</h3>" + html_table(
        ("diagnostic", "value"), [(k, show(v)) for k, v in solver["diagnostics"].items()], css="meta"
    )


# solvers whose diagnostics have a page layout of their own; any other solver gets the generic table
DIAGNOSTICS = {"nuts": _nuts_diagnostics, "map": _map_diagnostics, "em": _em_diagnostics}
