"""A run of several models: one worker process per model, progress lines, interruption (issue 19)."""

import json
import signal
import subprocess
import sys
import threading
import time

import pytest
import rates_model

from modemean import compare
from modemean.comparisons.run import progress

CLI = [sys.executable, "-m", "modemean.cli"]


def model_file(folder, name, body="pass", extra=""):
    return rates_model.write(folder, name, body=body, header=extra)


def cli(*args, timeout=600):
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, timeout=timeout)


@pytest.mark.slow  # four worker processes
def test_a_failing_model_is_one_line_and_the_others_are_solved(tmp_path):
    good = model_file(tmp_path, "good")
    broken = model_file(tmp_path, "broken", extra="raise RuntimeError('boom at import')")
    killed = model_file(tmp_path, "killed", body="import os, signal; os.kill(os.getpid(), signal.SIGKILL)")
    also_good = model_file(tmp_path, "also_good")
    out = tmp_path / "out"
    proc = cli("run", broken, good, killed, also_good, "--solvers", "map", "--jobs", "2", "--out", out)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("modemean: error: ")]
    assert len(errors) == 2, proc.stderr  # one line per failed model, nothing else says "error"
    assert str(broken) in errors[0] and "raised on import: RuntimeError: boom at import" in errors[0]
    assert str(killed) in errors[1] and "ended without a result (killed by signal 9" in errors[1]
    for name in ("good", "also_good"):  # solved, whatever the others did, and its page written
        results = json.loads((out / name / "results.json").read_text())
        assert results["solvers"]["map"]["status"] == "ok"
        assert (out / name / "index.html").is_file()
    # one line per model on stdout, with the count of models done; no table without --verbose
    summary = [line for line in proc.stdout.splitlines() if line.strip()]
    assert len(summary) == 4 and all(line.endswith("/4]") for line in summary), proc.stdout
    assert sum(line.startswith(("good: ", "also_good: ")) and "needs a mode and NUTS" in line for line in summary) == 2
    assert "map_unconstrained" not in proc.stdout
    # the index lists the two solved models and no longer says any is running
    index = (out / "index.html").read_text()
    assert 'data-model="good"' in index and 'data-model="also_good"' in index and "Still running" not in index
    assert not (out / "broken").exists() and not (out / "killed" / "results.json").exists()
    # off a terminal, progress is plain lines on stderr (no escape codes): each solver's closing line
    assert "\x1b[" not in proc.stderr
    assert any(line.startswith("good: map ok in") for line in proc.stderr.splitlines()), proc.stderr


def test_stored_catalog_models_are_read_back_without_a_worker(tmp_path, monkeypatch):
    """A catalog model whose results are stored is read in the parent: no worker process is started."""
    import multiprocessing.context

    from modemean.comparisons.run.batch import solve_many

    for name in ("bioassay", "eight_schools"):
        compare(name, solvers="map", out=tmp_path)

    def no_worker(self):
        raise AssertionError(f"a worker was started for {self.name}")

    monkeypatch.setattr(multiprocessing.context.ForkServerProcess, "start", no_worker)
    shown = []
    targets = ["bioassay", "eight_schools"]
    outcomes = solve_many(targets, jobs=2, sink=None, show=shown.append, solvers="map", out=tmp_path)
    assert [(o.status, o.name, o.cached) for o in outcomes] == [("ok", "bioassay", True), ("ok", "eight_schools", True)]
    assert shown == outcomes and "tau" in outcomes[1].text


def test_several_models_print_one_line_each_and_their_pages(tmp_path):
    """Without --verbose: one line per model, its page and the index written by the run; with it, the tables."""
    for name in ("bioassay", "eight_schools"):
        compare(name, solvers="map", out=tmp_path)
    proc = cli("run", "bioassay", "eight_schools", "--solvers", "map", "--out", tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 2, proc.stdout
    assert lines[0].startswith("bioassay: results reused, ") and lines[0].endswith(" [1/2]")
    assert lines[1].startswith("eight_schools: results reused, ") and lines[1].endswith(" [2/2]")
    assert proc.stderr == ""  # results reused: no solver ran, nothing to report on stderr
    for name in ("bioassay", "eight_schools"):
        assert (tmp_path / name / "index.html").is_file()
    index = (tmp_path / "index.html").read_text()
    assert 'data-model="bioassay"' in index and "Still running" not in index
    verbose = cli("run", "bioassay", "eight_schools", "--solvers", "map", "--out", tmp_path, "--verbose")
    tables = [line for line in verbose.stdout.splitlines() if line.startswith("parameter ")]  # each table's header
    assert verbose.returncode == 0 and len(tables) == 2, verbose.stdout


@pytest.mark.parametrize("command", [["run", "bioassay", "eight_schools"], ["report"]])
def test_jobs_must_be_positive(tmp_path, command):
    proc = cli(*command, "--jobs", "0", "--out", tmp_path)
    assert proc.returncode == 2 and proc.stderr.strip() == ("modemean: error: jobs must be an integer >= 1, got 0"), (
        proc.stderr
    )


def test_quiet_says_nothing_but_the_table(tmp_path):
    proc = cli("run", model_file(tmp_path, "rates"), "--solvers", "map", "--quiet", "--out", tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "" and "lam" in proc.stdout


@pytest.mark.slow
def test_a_worker_process_gives_bitwise_the_numbers_of_an_in_process_run(tmp_path):
    settings = ["--solvers", "map,em,nuts", "--draws", "300", "--tune", "300", "--chains", "2", "--seed", "5"]
    proc = cli("run", "bioassay", model_file(tmp_path, "rates"), *settings, "--out", tmp_path / "workers")
    assert proc.returncode == 0, proc.stderr
    assert "bioassay: nuts ok in" in proc.stderr  # NUTS's progress reached the parent
    compare("bioassay", solvers="map,em,nuts", draws=300, tune=300, chains=2, seed=5, out=tmp_path / "here")
    worker, here = (json.loads((tmp_path / f / "bioassay" / "results.json").read_text()) for f in ("workers", "here"))
    assert worker["cache_key"] == here["cache_key"]
    assert worker["parameters"] == here["parameters"]  # every estimate, float for float


SLOW_EM = {  # hand-written EM whose E-step never ends: the run is interrupted inside it
    "header": "import time",
    "latent": '("w",)',
    "footer": """
        def em_starts(data, n_init, rng):
            return [{"lam": 1.0}]

        def e_step(data, params):
            time.sleep(3600)

        def m_step(data, expectations, prior):
            return {"lam": 1.0}
    """,
}


@pytest.mark.slow  # worker processes and a signal
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_batch_keeps_the_finished_models(tmp_path, sig):
    out, quick, slow = tmp_path / "out", model_file(tmp_path, "quick"), rates_model.write(tmp_path, "slow", **SLOW_EM)
    proc = subprocess.Popen(
        [*CLI, "run", str(quick), str(slow), "--solvers", "map,em", "--jobs", "2", "--out", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines, in_em = [], threading.Event()

    def read():
        for line in proc.stderr:
            lines.append(line)
            if line.startswith("slow: map ok in"):  # a batch says each solver's closing line: EM starts next
                in_em.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    deadline = time.monotonic() + 600
    while not (in_em.is_set() and (out / "quick" / "results.json").exists()) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert in_em.is_set(), "".join(lines)
    proc.send_signal(sig)
    proc.wait(timeout=300)
    reader.join(timeout=30)
    stderr = "".join(lines)
    assert proc.returncode == 130, stderr
    assert "modemean: interrupted" in stderr and "Traceback" not in stderr
    quick_results = json.loads((out / "quick" / "results.json").read_text())
    assert quick_results["solvers"]["map"]["status"] == "ok" and "interrupted" not in quick_results["settings"]
    cut = json.loads((out / "slow" / "results.json").read_text())  # what the running model finished is saved
    assert cut["settings"]["interrupted"] is True
    assert cut["solvers"]["map"]["status"] == "ok" and cut["solvers"]["em"]["status"] == "interrupted"
    assert "interrupted" in cut["solvers"]["em"]["message"]
    assert cut["parameters"]["lam"]["map"] == pytest.approx(1.0)  # Gamma(2, 1) x Poisson [0, 2, 1]: (2+3-1)/(1+3)
    assert not list(out.rglob(".*.tmp"))


def test_plain_lines_follow_the_events():
    class Stream:
        text = ""

        def write(self, s):
            self.text += s

        def flush(self):
            pass

    for total in (None, 2):
        stream = Stream()
        _emit_a_model(progress.Lines(stream, total=total))
        shown = stream.text.splitlines()
        if total is None:  # one model: each step
            assert shown == [
                "m: solving with map, nuts",
                "m: nuts (NUTS) ...",
                "m:   compiling its functions with numba (tens of seconds the first time)",
                "m:   sampling: 20 iterations per chain (tuning included)",
                "m: nuts ok in 20.0 s, 15 s of it compiling",
                "m: done in 21.0 s",
            ]
        else:  # several: each solver's closing line only (the command prints one line per model)
            assert shown == ["m: nuts ok in 20.0 s, 15 s of it compiling"]


def _emit_a_model(lines):
    with progress.reporting(lines), progress.solving("m"):
        progress.emit("model", solvers=["map", "nuts"])
        progress.emit("solver", solver="nuts", label="NUTS")
        progress.emit("compiling")
        progress.emit("compiled", seconds=12.0)
        progress.emit("compiling")
        progress.emit("compiled", seconds=3.0)
        for done in (10, 20):
            progress.emit("draws", chain=0, done=done, total=20)
        progress.emit("solver_done", solver="nuts", status="ok", seconds=20.0)
        progress.emit("done", seconds=21.0, cached=False)
    progress.emit("model", solvers=["map"])  # outside the block: nobody listens


def test_bars_draw_one_bar_per_chain_and_count_models():
    bars = progress.Bars(total=3)
    bars("model", {"model": "m"})
    bars("solver", {"model": "m", "solver": "nuts", "label": "NUTS"})
    for chain in (0, 1):
        bars("draws", {"model": "m", "chain": chain, "done": 5 + chain, "total": 20})
    tasks = {t.description.strip(): t for t in bars.progress.tasks}
    assert tasks["chain 0"].completed == 5 and tasks["chain 1"].completed == 6 and tasks["chain 1"].total == 20
    assert tasks["m: nuts (NUTS): sampling"].total is None
    bars("done", {"model": "m", "seconds": 1.0, "cached": False})
    assert [t.description for t in bars.progress.tasks] == ["models"] and bars.progress.tasks[0].completed == 1


def test_an_interruption_a_solver_swallowed_still_ends_the_run_as_interrupted(tmp_path, monkeypatch):
    from modemean.comparisons import errors
    from modemean.comparisons.solvers import SOLVERS

    class Swallowing(type(SOLVERS["em"])):
        def fit(self, spec, **options):
            try:
                errors.interrupt()  # what SIGTERM (or Ctrl-C) runs in modemean
            except KeyboardInterrupt:  # pm.sample interrupted before its first draw does this
                raise ValueError("Not enough samples to build a trace") from None

    monkeypatch.setattr(errors, "_asked_to_stop", False)
    monkeypatch.setitem(SOLVERS, "em", Swallowing())
    with pytest.raises(KeyboardInterrupt):
        compare(str(model_file(tmp_path, "rates")), solvers="map,em", out=tmp_path / "out")
    saved = json.loads((tmp_path / "out" / "rates" / "results.json").read_text())
    assert saved["settings"]["interrupted"] is True  # so never reused from the cache
    assert saved["solvers"]["map"]["status"] == "ok" and saved["solvers"]["em"]["status"] == "interrupted"
    assert "interrupted" in saved["solvers"]["em"]["message"]
