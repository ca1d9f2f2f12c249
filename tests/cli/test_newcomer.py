"""A newcomer's first commands (issue 33): no abbreviated options, ``--version``, a suggestion for a mistyped
option, every argument error before the engine is imported, a first model file with only ``build``, and
every contract error of a model file in one message."""

import json
import subprocess
import sys
import textwrap
from importlib import metadata

import pytest

from modemean.cli import main

# each: the arguments, and what the one error line must say
BAD_ARGUMENTS = [
    (
        ["run", "eight_schools", "--chain", "2"],
        "unknown option --chain: did you mean --chains? (see 'modemean run --help')",
    ),
    (["run", "eight_schools", "--chian", "2"], "did you mean --chains?"),
    (["run", "eight_schools", "--sampl", "nutpie"], "did you mean --sampler?"),
    (["run", "eigth_schools"], "unknown model 'eigth_schools': did you mean eight_schools"),
    (["run", "nope.py"], "model file 'nope.py' does not exist"),
    (["run", "eight_schools", "--chains", "0"], "chains must be an integer >= 1, got 0"),
    (["run", "eight_schools", "--sampler", "stan"], "unknown sampler 'stan'"),
    (["run", "eight_schools", "--solvers", "map,nut"], "unknown solver(s) nut"),
    (["run", "eight_schools", "--jobs", "0"], "jobs must be an integer >= 1"),
    (["study", "eight_schol", "--replicates", "2"], "unknown model 'eight_schol'"),
    (
        ["study", "eight_schools", "--replicates", "2", "--draw", "5"],
        "did you mean --draws? (see 'modemean study --help')",
    ),
    (["teach", "--seedd", "3"], "unknown option --seedd: did you mean --seed? (see 'modemean teach --help')"),
    (["teach", "--n-init", "0"], "n_init must be an integer >= 1, got 0"),
    (["report", "--forse"], "did you mean --force? (see 'modemean report --help')"),
    (["list", "extra"], "unexpected argument extra (see 'modemean list --help')"),
]


def test_argument_errors_come_before_the_engine_is_imported(tmp_path):
    """One process runs every bad command line: each gives its one error line with status 2, and afterwards
    neither PyMC nor PyTensor has been imported (counted in ``sys.modules``, not timed)."""
    code = textwrap.dedent(
        f"""
        import contextlib, io, json, sys
        from modemean.cli import main
        out = []
        for argv, _ in {BAD_ARGUMENTS!r}:
            err = io.StringIO()
            with contextlib.redirect_stderr(err):
                try:
                    status = main(argv)
                except SystemExit as exc:
                    status = exc.code
            out.append([status, err.getvalue()])
        heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("pymc", "pytensor", "arviz", "numba"))
        print(json.dumps({{"errors": out, "heavy": heavy}}))
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["heavy"] == []
    for (argv, expected), (status, err) in zip(BAD_ARGUMENTS, result["errors"], strict=True):
        lines = err.splitlines()
        assert status == 2 and len(lines) == 1 and lines[0].startswith("modemean: error: "), (argv, status, err)
        assert expected in lines[0], (argv, lines[0])


def test_abbreviations_are_refused_in_process(capsys):
    """``--chain 2`` was silently ``--chains 2``; now a one-line error, whatever the command."""
    for argv in (["run", "eight_schools", "--forc"], ["report", "--job", "1"], ["teach", "--forc"]):
        with pytest.raises(SystemExit) as stop:
            main(argv)
        assert stop.value.code == 2
        assert "unknown option" in capsys.readouterr().err


def test_version_is_the_installed_package_version():
    proc = subprocess.run(
        [sys.executable, "-c", "from modemean.cli import main; main(['--version'])"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"modemean {metadata.version('modemean')}"


def _write(path, text):
    path.write_text(textwrap.dedent(text))
    return path


BUILD_ONLY = textwrap.dedent(
    """
    import numpy as np
    import pymc as pm

    def build(data):
        with pm.Model() as model:
            lam = pm.Gamma("lam", 2.0, 1.0)
            pm.Poisson("y", lam, observed=np.array([1, 0, 2]))
        return model
"""
)


def test_a_model_file_with_only_build_runs_and_its_page_says_what_is_missing(tmp_path, monkeypatch, capsys):
    """No INFO and no load_data: the run works, the title is the file's name, results.json shows the file
    relative to the working folder (no machine path) and the page names the INFO fields to add."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("signal.signal", lambda *args: None)  # main() installs its handlers
    _write(tmp_path / "first.py", BUILD_ONLY)
    assert main(["run", "first.py", "--solvers", "map", "--out", "site", "--quiet"]) == 0
    assert "first: first" in capsys.readouterr().out  # the title line: the name stands in for INFO's title
    results = json.loads((tmp_path / "site" / "first" / "results.json").read_text())
    assert results["title"] == "first" and results["story"] == "" and results["references"] == []
    assert results["info_missing"] == ["title", "story", "why_skewed", "references"]
    assert results["source"] == "first.py" and str(tmp_path) not in json.dumps(results)
    assert results["parameters"]["lam"]["map"] == pytest.approx(4 / 4, rel=1e-6)  # Gamma(2 + 3, 1 + 3) mode
    assert main(["report", "--out", "site", "--quiet"]) == 0
    page = (tmp_path / "site" / "first" / "index.html").read_text()
    assert "INFO does not give title, story, why_skewed, references" in page
    assert str(tmp_path) not in page


def test_a_model_file_with_info_and_load_data_shows_no_missing_note(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _write(
        tmp_path / "second.py",
        BUILD_ONLY.replace("np.array([1, 0, 2])", 'data["y"]')
        + '\nINFO = {"title": "Counts", "story": "s", "why_skewed": "w", "references": ["r"]}\n'
        + 'def load_data():\n    return {"y": np.array([1, 0, 2])}\n',
    )
    from modemean import compare

    results = compare("second.py", solvers="map", out="site").results
    assert results["title"] == "Counts" and results["info_missing"] == []


def test_every_contract_error_in_one_message(tmp_path, capsys):
    path = _write(
        tmp_path / "broken.py",
        """
        INFO = ["not", "a", "dict"]
        LATENT = "z"
        SAMPLER = 0.95
        load_data = {"y": [1, 2]}
        """,
    )
    assert main(["run", str(path), "--solvers", "map", "--out", str(tmp_path / "site")]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1, lines
    assert lines[0] == (
        "modemean: error: model 'broken' does not follow the contract: missing build (a function build(data) -> "
        "pymc.Model); load_data must be a function, got dict; INFO must be a dict, got list; SAMPLER must be a "
        "dict, got float; LATENT must be a tuple of variable names, got str (see docs/model-file.md)"
    )


def test_info_fields_of_the_wrong_type_are_named(tmp_path, capsys):
    path = _write(tmp_path / "typed.py", BUILD_ONLY + '\nINFO = {"title": 3, "references": "a paper"}\n')
    assert main(["run", str(path), "--solvers", "map", "--out", str(tmp_path / "site")]) == 2
    err = capsys.readouterr().err
    assert "INFO['title'] must be a string, got int; INFO['references'] must be a list of strings" in err
