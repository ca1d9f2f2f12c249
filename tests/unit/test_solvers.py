"""The solver registry: declarations are consistent, and a new solver is one class plus one registry line.

``Shifted`` below is the whole of a new solver (what would be ``comparisons/solvers/shifted.py``);
``monkeypatch.setitem(SOLVERS, "shifted", Shifted())`` is the registry line. Nothing else is edited,
and it reaches the table, results.json's schema, results.nc, the cache, the report page, the index
and the command line (``--solvers``, its own ``--n-shifted`` flag and that flag's error).
"""

import inspect
import json
import signal

import arviz as az
import numpy as np
import pytest
import rates_model
import xarray as xr

from modemean import compare
from modemean.cli import main
from modemean.comparisons.errors import ModemeanError
from modemean.comparisons.results.fit import Fit
from modemean.comparisons.results.table import GAPS, columns
from modemean.comparisons.solvers import SOLVERS, Column, Option, Solver, check_options, owned_columns, run_options
from modemean.comparisons.system import CHAIN_PROCESSES, available_cores, chain_processes


class Shifted(Solver):
    """Draws from N(initial point + 1, 0.1) on each parameter's own scale: a stand-in with draws and an option."""

    name = "shifted"
    label = "Shifted"
    columns = {
        "shifted_mean": Column("mean of the shifted draws", marker="shifted mean"),
        "shifted_sd": Column("sd of the shifted draws"),
    }
    options = {"n_shifted": Option(int, 50, "draws of the shifted solver", low=1)}
    has_draws = True

    def fit(self, spec, *, seed, n_shifted):
        rng = np.random.default_rng(seed)
        point = spec.model.initial_point()
        draws = {
            rv.name: float(spec.model.rvs_to_transforms[rv].backward(point[spec.model.rvs_to_values[rv].name]).eval())
            + 1.0
            + 0.1 * rng.standard_normal((1, n_shifted))
            for rv in spec.model.free_RVs
        }
        tree = az.from_dict({"posterior": draws})
        estimates = {
            "shifted_mean": {n: float(v.mean()) for n, v in draws.items()},
            "shifted_sd": {n: float(v.std()) for n, v in draws.items()},
        }
        return Fit(
            "shifted",
            "ok",
            estimates=estimates,
            draws=tree,
            converged=None,
            n_iter=None,
            diagnostics={"n_shifted": n_shifted},
        )


# ------------------------------------------------------------------------------ declarations, no solving


def test_registry_declarations_are_consistent():
    assert {"map", "em", "nuts"} <= set(SOLVERS)
    labels = [s.label for s in SOLVERS.values()]
    assert len(set(labels)) == len(labels) and all(labels)
    owners = owned_columns()  # raises if two solvers claim a column
    assert set(owners) & set(GAPS) == set()
    assert sorted(columns()) == sorted([*owners, *GAPS])
    assert [s.group for s in SOLVERS.values()].count("/") <= 1  # one reference posterior at the root
    values = check_options(None, {})[1]
    assert set(values) == set(run_options())
    for name, solver in SOLVERS.items():
        assert solver.name == name
        keywords = {p for p, v in inspect.signature(solver.fit).parameters.items() if v.kind is v.KEYWORD_ONLY}
        assert keywords == {"seed", *solver.options}, name  # each declared option is a keyword of fit, and back
        for column, declared in solver.columns.items():
            assert isinstance(declared, Column) and declared.help, (name, column)


def test_unknown_options_are_refused_by_name():
    with pytest.raises(ModemeanError, match=r"unknown option\(s\) drawz: choose from seed, .*draws"):
        compare("eight_schools", drawz=10)
    with pytest.raises(ModemeanError, match="tune must be an integer >= 0, got -1"):
        check_options("nuts", {"tune": -1})


# ------------------------------------------------------------------------------ one file + one line


def test_a_new_solver_is_one_class_and_one_registry_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(SOLVERS, "shifted", Shifted())  # the one line
    monkeypatch.setattr(signal, "signal", lambda *args: None)  # main() installs a SIGTERM handler
    path, out = rates_model.write(tmp_path), tmp_path / "out"

    assert main(["run", str(path), "--solvers", "map,shifted", "--n-shifted", "0", "--out", str(out)]) == 2
    assert "n_shifted must be an integer >= 1, got 0" in capsys.readouterr().err
    assert main(["run", str(path), "--solvers", "map,shifted", "--n-shifted", "40", "--out", str(out)]) == 0

    results = json.loads((out / "rates" / "results.json").read_text())
    schema = results["schema"]
    assert schema["columns"]["shifted_mean"] == {
        "solvers": ["shifted"],
        "help": "mean of the shifted draws",
        "marker": "shifted mean",
        "check": False,
    }
    assert schema["solvers"]["shifted"] == {
        "label": "Shifted",
        "columns": ["shifted_mean", "shifted_sd"],
        "options": ["n_shifted"],
        "has_draws": True,
        "draws_group": "draws_shifted",
        "default": True,
    }
    assert results["settings"]["n_shifted"] == 40 and results["settings"]["solvers"] == ["map", "shifted"]
    row = results["parameters"]["lam"]
    assert row["shifted_mean"] == pytest.approx(3.0, abs=0.1)  # Gamma(2, 1)'s initial point is its mean, 2; + 1
    assert row["map"] == pytest.approx(1.0, rel=1e-6)  # (a + sum y - 1) / (b + n) = 4 / 4: the others unchanged

    with xr.open_datatree(out / "rates" / "results.nc", engine="h5netcdf") as tree:
        assert "draws_shifted" in tree.children and "posterior" not in tree.children  # NUTS did not run
        stored = tree["draws_shifted/posterior/lam"].values
    assert stored.shape == (1, 40) and float(stored.mean()) == pytest.approx(row["shifted_mean"])

    again = compare(str(path), solvers="map,shifted", n_shifted=40, out=out)  # the cache restores it
    assert again.cached
    assert again.fits["shifted"].estimates["shifted_mean"]["lam"] == row["shifted_mean"]
    np.testing.assert_array_equal(again.fits["shifted"].draws["posterior"]["lam"].values, stored)
    assert list(again.table.columns) == [*schema["columns"], "flags", "notes", "gap_kind"]

    assert main(["report", "--out", str(out)]) == 0
    page = (out / "rates" / "index.html").read_text()
    assert '<th title="mean of the shifted draws" class="more">shifted_mean</th>' in page
    assert '<tr id="solver-shifted" class="status-ok"><th scope="row">Shifted</th>' in page
    assert "<h3>Shifted</h3>" in page and "n_shifted" in page  # its diagnostics, in the generic layout
    index = (out / "index.html").read_text()
    assert "<th>Shifted</th>" in index and "<th>NUTS</th>" in index  # NUTS not run here, still a column


# -- NUTS's chain processes


def test_chain_processes_follow_the_cores_or_the_environment(monkeypatch):
    monkeypatch.delenv(CHAIN_PROCESSES, raising=False)
    assert chain_processes(64) == available_cores() and chain_processes(1) == 1
    monkeypatch.setenv(CHAIN_PROCESSES, "3")
    assert chain_processes(4) == 3 and chain_processes(2) == 2
    for wrong in ("0", "two", "-1"):
        monkeypatch.setenv(CHAIN_PROCESSES, wrong)
        with pytest.raises(ModemeanError, match=f"{CHAIN_PROCESSES} must be an integer >= 1, got '{wrong}'"):
            chain_processes(4)


@pytest.mark.slow
def test_chains_in_one_process_or_two_give_the_same_draws(monkeypatch):
    draws = {}
    for processes in ("1", "2"):
        monkeypatch.setenv(CHAIN_PROCESSES, processes)
        c = compare("bioassay", solvers="nuts", draws=100, tune=100, chains=2, seed=5)
        draws[processes] = c.fits["nuts"].draws.posterior.to_dataset()
    xr.testing.assert_equal(draws["1"], draws["2"])  # the values (the attributes hold timings)


@pytest.mark.slow
def test_an_interruption_ends_every_chain_run_one_after_another(monkeypatch):
    """pm.sample's sequential loop swallows a KeyboardInterrupt and starts the next chain: after an
    interruption of the first of three chains, the others must end at their first draw."""
    from modemean.comparisons import errors
    from modemean.comparisons.run import progress
    from modemean.comparisons.solvers.nuts import fit_nuts
    from modemean.comparisons.spec import load_spec

    monkeypatch.setenv(CHAIN_PROCESSES, "1")
    monkeypatch.setattr(errors, "_asked_to_stop", False)  # interrupt() sets it: restored after the test
    seen = []

    def sink(kind, data):
        if kind == "draws":
            seen.append((data["chain"], data["done"]))
            if data["done"] >= 500:  # Ctrl-C in the first chain, as the command line's handler does it
                errors.interrupt()

    with progress.reporting(sink), pytest.raises(KeyboardInterrupt, match="sampling interrupted"):
        fit_nuts(load_spec("bioassay"), seed=1, draws=5000, tune=100, chains=3)
    assert {chain for chain, _ in seen} == {0}, seen
