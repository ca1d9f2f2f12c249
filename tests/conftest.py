"""Shared fixtures: each catalog comparison is solved once per test session."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time

os.environ.setdefault("MPLBACKEND", "Agg")
# NUTS's chains one after another in the process that samples (comparisons.system.chain_processes),
# in the test processes, the command-line runs they start and the catalog's workers: the suite keeps both
# cores busy, so chains forked into processes of their own only add the forking and the passing of every
# draw between processes (2 CPU-s per fit at the defaults); the draws are the same (test_solvers.py)
os.environ.setdefault("MODEMEAN_CHAIN_PROCESSES", "1")

import pytest

from modemean import compare, models

SEED = 20261126
SLOW_FIXTURES = {"solved", "browser"}  # a test using one of these solves catalog models or drives Chromium
TEST_NICENESS = 10  # the test processes' priority below the catalog's while it solves
WORKERS = 2  # catalog models solved at once: compiling is single-threaded, so two keep both cores busy
# in a whole-suite run, the longest catalog models first (seconds cold: image_alignment 84, sleepstudy 80,
# image_alignment_learned 63, old_faithful 35), so that the last model to finish is a short one
LONGEST = ("image_alignment", "sleepstudy", "image_alignment_learned", "old_faithful")


def pytest_collection_modifyitems(items):
    """Mark every test that needs a solved catalog model or the browser as ``slow`` (``make fast`` skips
    them), and run them last: the catalog solves in the background while the other tests run, so the
    two cores stay busy (the browser tests, which need every model, come at the very end). Modules stay
    together (their module fixtures are built once); within a module, the tests needing ``solved`` go last.
    """
    rank: dict = {}
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        if SLOW_FIXTURES & names:
            item.add_marker(pytest.mark.slow)
        module = rank.setdefault(item.path, 0)
        rank[item.path] = max(module, 2 if "browser" in names else 1 if "solved" in names else 0)
    order = {id(item): i for i, item in enumerate(items)}
    items.sort(key=lambda it: (rank[it.path], "solved" in getattr(it, "fixturenames", ()), order[id(it)]))


@pytest.fixture(scope="session", autouse=True)
def _catalog_in_background(request):
    """Start solving the catalog when the session begins, if any collected test needs it.

    The test processes then lower their own priority (the catalog's processes keep theirs): the tests
    that need the catalog wait for it, so it is the run's critical path, and the other tests fill in
    the cores it leaves idle instead of slowing it down.
    """
    if any("solved" in getattr(item, "fixturenames", ()) for item in request.session.items):
        request.getfixturevalue("solved")
        os.nice(TEST_NICENESS)


@pytest.fixture(scope="session")
def solved(request, tmp_path_factory, worker_id):
    """``solved(name)`` returns the full comparison (map, em, nuts at default settings), cached.

    The whole catalog is solved in the background, in a process of its own, as ``modemean run all``
    solves it (:func:`comparisons.run.batch.solve_many`: each model in its own worker process, ``WORKERS``
    at a time) into a session folder; a call waits for its model and reads it back through
    ``compare(..., out=...)``'s result cache, so the comparison is exactly what a user's run stored.
    A model whose run failed is solved in the test process instead (its error then surfaces in the test).

    Under pytest-xdist (``make test`` runs ``-n 2``) the folder is shared by the workers: the first
    to claim it solves the catalog, the others wait for its per-model marks (or solve a model
    themselves if the solving process died), so the catalog is solved once per run, not once per worker.
    """
    root = tmp_path_factory.getbasetemp()
    if worker_id != "master":  # the parent of each worker's base folder is common to the run
        root = root.parent
    out, marks, claim = root / "catalog", root / "catalog-done", root / "catalog.claim"
    solver = None
    if _claim(claim):
        marks.mkdir()
        targets = list(models.CATALOG)  # in a whole-suite run (the browser tests need every model): longest first
        if any("browser" in getattr(item, "fixturenames", ()) for item in request.session.items):
            targets = [*LONGEST, *(name for name in targets if name not in LONGEST)]
        # A process of its own, not a thread: PyTensor's configuration is process-global and
        # change_flags (entered by every compile) is not thread-safe, so a thread reading stored
        # results (building models) while a test compiles left config.mode changed for the rest of
        # the test process (other linkers, other numbers: a fresh clone's cold `make test` failed).
        solver = subprocess.Popen(
            [sys.executable, "-c", SOLVE, json.dumps(targets), str(out), str(marks), str(SEED), str(WORKERS)]
        )
        claim.write_text(str(solver.pid))  # the process the waiting tests watch (_ready)
    cache = {}

    def waiting(name) -> bool:
        if name not in models.CATALOG or _ready(marks, name, claim):
            return False
        return solver is None or solver.poll() is None  # (a child of this process ends as a zombie: poll it)

    def get(name):
        if name not in cache:
            while waiting(name):
                time.sleep(0.5)
            cache[name] = compare(name, seed=SEED, out=out)
        return cache[name]

    yield get
    if solver is not None:
        if worker_id == "master":
            solver.send_signal(signal.SIGINT)  # a partial test run: stop what is still solving, as Ctrl-C does
        solver.wait()  # under xdist the other worker may still wait for models


# `modemean run all` as the solved fixture runs it: argv = targets (JSON), out, marks folder, seed, jobs
SOLVE = """
import json, pathlib, sys
from modemean.comparisons.run.batch import solve_many
targets, out, marks = json.loads(sys.argv[1]), sys.argv[2], pathlib.Path(sys.argv[3])
seed, jobs = map(int, sys.argv[4:])
try:
    solve_many(targets, jobs=jobs, sink=None, show=lambda o: (marks / o.target).touch(), seed=seed, out=out)
except KeyboardInterrupt:
    pass
finally:  # whatever happened, the tests waiting go on (and solve their model themselves)
    (marks / "ALL").touch()
"""


def _claim(path) -> bool:
    """Create ``path`` holding this process's id; False if another process created it first."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w") as f:
        f.write(str(os.getpid()))
    return True


def _ready(marks, name, claim) -> bool:
    """Whether ``name``'s comparison is in the shared folder, or never will be (the solving process is gone)."""
    if (marks / name).exists() or (marks / "ALL").exists():
        return True
    pid = claim.read_text()
    if not pid:  # the claimant is writing it
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    return False


# ----------------------------------------------------------------- one headless Chromium for all browser tests

CHROMIUM = os.environ.get("CHROMIUM_BIN") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost",
]


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium through Playwright (one per session: Playwright's sync API allows one).

    Skipped, saying why, when Chromium or Playwright is absent; never ``playwright install``.
    """
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed: pip install -e '.[test]'"
    )
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.skip(
            f"browser tests skipped: Chromium not found at {CHROMIUM!r} "
            "(apt-get install -y chromium chromium-driver, or set CHROMIUM_BIN)"
        )
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS, timeout=60_000)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    """A fresh page that records console errors and uncaught exceptions in ``page.console_errors``."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.console_errors = []
    pg.on("console", lambda m: m.type == "error" and pg.console_errors.append(m.text))
    pg.on("pageerror", lambda e: pg.console_errors.append(str(e)))
    yield pg
    context.close()
