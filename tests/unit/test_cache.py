"""The result cache: an unchanged run is reused; any change to options, seed, data or model file is not."""

import numpy as np
import pandas as pd
import pytest
import rates_model
from compiles import Compiles

from modemean import compare
from modemean.comparisons.run.compare import stored_comparison


@pytest.fixture()
def model(tmp_path):
    return rates_model.write(tmp_path, header="COUNTS = [0, 2, 1]", data="np.array(COUNTS)")


def run(path, out, **options):
    """map and a short NUTS run (its options are part of the key); ``solvers="map"`` where the test is
    about the other parts of the key (data, model file, --force, an interrupted run)."""
    return compare(str(path), out=out, **{"solvers": "map,nuts", "draws": 200, "tune": 200, "chains": 2, **options})


def test_unchanged_run_is_reused_and_identical(model, tmp_path):
    first = run(model, tmp_path)
    again = run(model, tmp_path)
    assert not first.cached and again.cached
    pd.testing.assert_frame_equal(first.table, again.table, check_dtype=False)
    assert again.results["parameters"] == first.results["parameters"]
    assert again.results["solvers"] == first.results["solvers"]
    assert again.fits["nuts"].draws["posterior"]["lam"].shape == (2, 200)
    assert "cached results" in str(again)


def test_stored_results_are_read_back_without_compiling(model, tmp_path, monkeypatch):
    """A cache hit builds the model but compiles nothing (no start check, no solver): a cached run of the
    whole catalog takes seconds. ``stored_comparison`` is that read alone: ``None`` until results made
    with the same options exist."""
    settings = {"solvers": "map,nuts", "draws": 200, "tune": 200, "chains": 2}
    assert stored_comparison(str(model), out=tmp_path, **settings) is None
    first = run(model, tmp_path)
    compiles = Compiles(monkeypatch)
    stored = stored_comparison(str(model), out=tmp_path, **settings)
    again = run(model, tmp_path)
    assert stored_comparison(str(model), out=tmp_path, **{**settings, "seed": 1}) is None
    assert len(compiles) == 0, compiles.where
    assert stored.cached and again.cached
    pd.testing.assert_frame_equal(stored.table, first.table, check_dtype=False)
    np.testing.assert_array_equal(
        stored.fits["nuts"].draws["posterior"]["lam"].values, first.fits["nuts"].draws["posterior"]["lam"].values
    )
    assert set(stored.fits["nuts"].draws.children) == set(first.fits["nuts"].draws.children)  # stats, data too


@pytest.mark.parametrize("change", [{"seed": 1}, {"draws": 201}, {"chains": 1}, {"solvers": "map"}])
def test_changed_option_recomputes(model, tmp_path, change):
    run(model, tmp_path)
    assert not run(model, tmp_path, **change).cached


def test_changed_data_recomputes(model, tmp_path):
    run(model, tmp_path, solvers="map")
    rates_model.write(model.parent, header="COUNTS = [0, 2, 2]", data="np.array(COUNTS)")
    changed = run(model, tmp_path, solvers="map")
    assert not changed.cached
    assert changed.table.loc["lam", "map"] == pytest.approx((2 + 4 - 1) / (1 + 3), rel=1e-5)


def test_changed_model_file_recomputes(model, tmp_path):
    run(model, tmp_path, solvers="map")
    model.write_text(model.read_text() + "\n# an edit\n")
    assert not run(model, tmp_path, solvers="map").cached


def test_force_recomputes(model, tmp_path):
    run(model, tmp_path, solvers="map")
    assert not run(model, tmp_path, solvers="map", force=True).cached


def test_interrupted_results_are_not_reused(model, tmp_path):
    import json

    run(model, tmp_path, solvers="map")
    path = tmp_path / "rates" / "results.json"
    results = json.loads(path.read_text())
    results["settings"]["interrupted"] = True
    path.write_text(json.dumps(results))
    assert not run(model, tmp_path, solvers="map").cached


@pytest.mark.slow
def test_sampler_is_named_and_part_of_the_cache_key(model, tmp_path):
    """nutpie is installed in the test environment, yet the default stays PyMC's NUTS.

    nutpie runs in a subprocess (the CLI): its threads must not share a process that later forks
    PyMC's samplers.
    """
    import json
    import subprocess
    import sys

    default = run(model, tmp_path)
    assert default.fits["nuts"].diagnostics["sampler"] == "pymc NUTS"
    assert "perf_counter_diff" in default.fits["nuts"].draws["sample_stats"]  # a PyMC-only statistic
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "modemean.cli",
            "run",
            str(model),
            "--solvers",
            "map,nuts",
            "--draws",
            "200",
            "--tune",
            "200",
            "--chains",
            "2",
            "--sampler",
            "nutpie",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert "cached" not in proc.stdout
    results = json.loads((tmp_path / "rates" / "results.json").read_text())
    assert results["solvers"]["nuts"]["diagnostics"]["sampler"] == "nutpie NUTS"
    assert results["parameters"]["lam"]["mean"] == pytest.approx(5 / 4, rel=0.08)  # posterior Gamma(5, 4)


def test_unknown_sampler_is_refused(model, tmp_path):
    from modemean.comparisons.errors import ModemeanError

    with pytest.raises(ModemeanError, match="unknown sampler 'blackjax': choose from pymc, nutpie"):
        run(model, tmp_path, sampler="blackjax")


def test_key_sees_the_model_helpers_a_model_imports(tmp_path, monkeypatch):
    """Shared model code lives in models/_*.py helpers (no model imports another): editing a helper must
    invalidate the cache of every model using it, however the helper is imported, and of no other model."""
    from types import SimpleNamespace

    from modemean import models
    from modemean.comparisons.run import cache, hashing

    assert not [name for name in models.CATALOG if name.startswith("_")]  # helpers are not models
    for name in models.CATALOG:  # no model imports a model
        assert all(p.stem.startswith("_") for p in hashing.catalog_imports(hashing.CATALOG / f"{name}.py")), name
    assert [p.name for p in hashing.catalog_imports(hashing.CATALOG / "dyestuff2.py")] == ["_lmm.py"]
    assert [p.name for p in hashing.catalog_imports(hashing.CATALOG / "old_faithful.py")] == ["_mixtures.py"]
    user = tmp_path / "user" / "mixture.py"  # the public name, from a user file
    user.parent.mkdir()
    user.write_text("from modemean import LogPrior, normal_mixture_m_step\n")
    assert [p.name for p in hashing.catalog_imports(user)] == ["_mixtures.py"]

    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "_shared.py").write_text("from ._deeper import depth\n")
    (catalog / "_deeper.py").write_text("depth = 1\n")
    (catalog / "_unused.py").write_text("x = 1\n")
    forms = {
        "from_module": "from modemean.models._shared import depth\n",
        "from_package": "from modemean.models import _shared\n",
        "import": "import modemean.models._shared\n",
        "relative": "from ._shared import depth\n",
    }
    for name, line in forms.items():
        (catalog / f"{name}.py").write_text(line)
    monkeypatch.setattr(hashing, "CATALOG", catalog)
    keys = {}
    for name in forms:
        assert hashing.catalog_imports(catalog / f"{name}.py") == [catalog / "_deeper.py", catalog / "_shared.py"], name
        keys[name] = cache.cache_key(SimpleNamespace(source=str(catalog / f"{name}.py"), data={}, info={}), {"seed": 1})
    (catalog / "_deeper.py").write_text("depth = 2\n")  # a helper's helper
    (catalog / "_unused.py").write_text("x = 2\n")
    for name in forms:
        assert (
            cache.cache_key(SimpleNamespace(source=str(catalog / f"{name}.py"), data={}, info={}), {"seed": 1})
            != keys[name]
        )
    (catalog / "plain.py").write_text("import numpy\n")
    plain = SimpleNamespace(source=str(catalog / "plain.py"), data={}, info={})
    before = cache.cache_key(plain, {"seed": 1})
    (catalog / "_shared.py").write_text("from ._deeper import depth  # edited\n")
    assert cache.cache_key(plain, {"seed": 1}) == before  # a model not using it: still cached
