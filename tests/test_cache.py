"""The result cache: an unchanged run is reused; any change to options, seed, data or model file is not."""

import textwrap

import pandas as pd
import pytest

from modemean import compare

MODEL = textwrap.dedent('''
    import numpy as np
    import pymc as pm

    INFO = {"title": "rates", "story": "", "why_skewed": "", "references": []}
    LATENT = ()

    def load_data():
        return {"y": np.array(COUNTS)}

    def build(data):
        with pm.Model() as model:
            lam = pm.Gamma("lam", alpha=2.0, beta=1.0)
            pm.Poisson("y", mu=lam, observed=data["y"])
        return model
''')


@pytest.fixture()
def model(tmp_path):
    path = tmp_path / "rates.py"
    path.write_text("COUNTS = [0, 2, 1]\n" + MODEL)
    return path


def run(path, out, **options):
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


@pytest.mark.parametrize("change", [{"seed": 1}, {"draws": 201}, {"chains": 1}, {"solvers": "map"}])
def test_changed_option_recomputes(model, tmp_path, change):
    run(model, tmp_path)
    assert not run(model, tmp_path, **change).cached


def test_changed_data_recomputes(model, tmp_path):
    run(model, tmp_path)
    model.write_text("COUNTS = [0, 2, 2]\n" + MODEL)
    changed = run(model, tmp_path)
    assert not changed.cached
    assert changed.table.loc["lam", "map"] == pytest.approx((2 + 4 - 1) / (1 + 3), rel=1e-5)


def test_changed_model_file_recomputes(model, tmp_path):
    run(model, tmp_path)
    model.write_text(model.read_text() + "\n# an edit\n")
    assert not run(model, tmp_path).cached


def test_force_recomputes(model, tmp_path):
    run(model, tmp_path)
    assert not run(model, tmp_path, force=True).cached


def test_interrupted_results_are_not_reused(model, tmp_path):
    import json

    run(model, tmp_path)
    path = tmp_path / "rates" / "results.json"
    results = json.loads(path.read_text())
    results["settings"]["interrupted"] = True
    path.write_text(json.dumps(results))
    assert not run(model, tmp_path).cached


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
    assert "perf_counter_diff" in default.fits["nuts"].draws["sample_stats"]     # a PyMC-only statistic
    proc = subprocess.run([sys.executable, "-m", "modemean.cli", "run", str(model), "--solvers", "map,nuts",
                           "--draws", "200", "--tune", "200", "--chains", "2", "--sampler", "nutpie",
                           "--out", str(tmp_path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "cached" not in proc.stdout
    results = json.loads((tmp_path / "rates" / "results.json").read_text())
    assert results["solvers"]["nuts"]["diagnostics"]["sampler"] == "nutpie NUTS"
    assert results["parameters"]["lam"]["mean"] == pytest.approx(5 / 4, rel=0.08)   # posterior Gamma(5, 4)


def test_unknown_sampler_is_refused(model, tmp_path):
    from modemean.comparisons.errors import ModemeanError

    with pytest.raises(ModemeanError, match="unknown sampler 'blackjax': choose from pymc, nutpie"):
        run(model, tmp_path, sampler="blackjax")


def test_key_sees_the_catalog_files_a_model_imports(tmp_path, monkeypatch):
    """dyestuff2 imports dyestuff's model: editing dyestuff must invalidate both."""
    from types import SimpleNamespace

    from modemean.comparisons import cache

    assert [p.name for p in cache.catalog_imports(cache.CATALOG / "dyestuff2.py")] == ["dyestuff.py"]
    (tmp_path / "shared.py").write_text("def helper():\n    return 1\n")
    (tmp_path / "uses.py").write_text("from modemean.models.shared import helper\n")
    monkeypatch.setattr(cache, "CATALOG", tmp_path)
    assert cache.catalog_imports(tmp_path / "uses.py") == [tmp_path / "shared.py"]
    spec = SimpleNamespace(source=str(tmp_path / "uses.py"), data={})
    before = cache.cache_key(spec, {"seed": 1})
    (tmp_path / "shared.py").write_text("def helper():\n    return 2\n")
    assert cache.cache_key(spec, {"seed": 1}) != before
