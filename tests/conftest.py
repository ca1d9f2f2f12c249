"""Shared fixtures: each catalog comparison is solved once per test session."""

import os
import shutil
import subprocess
import sys
import threading

os.environ.setdefault("MPLBACKEND", "Agg")

import pytest

from modemean import compare, models

SEED = 20261126
SLOW_FIXTURES = {"solved", "browser"}  # a test using one of these solves catalog models or drives Chromium


def pytest_collection_modifyitems(items):
    """Mark every test that needs a solved catalog model or the browser as ``slow`` (``make fast`` skips them)."""
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


WORKERS = 2  # catalog models solved at once: compiling is single-threaded, so two keep both cores busy


@pytest.fixture(scope="session")
def solved(tmp_path_factory):
    """``solved(name)`` returns the full comparison (map, em, nuts at default settings), cached.

    The first call starts solving the whole catalog in the background, ``WORKERS`` models at a
    time, each with the ``modemean run`` command (the user's path) into a session folder; a call
    waits for its model and reads it back through ``compare(..., out=...)``'s result cache, so
    the comparison is exactly what a user's run stored. A model whose run failed is solved in
    the test process instead (its error then surfaces in the test).
    """
    out = tmp_path_factory.mktemp("catalog")
    done = {name: threading.Event() for name in models.CATALOG}
    queue = list(models.CATALOG)
    lock, cache, threads, running = threading.Lock(), {}, [], set()

    def worker():
        while True:
            with lock:
                if not queue:
                    return
                name = queue.pop(0)
            try:
                with lock:
                    proc = subprocess.Popen(
                        [sys.executable, "-m", "modemean.cli", "run", name, "--seed", str(SEED), "--out", str(out)],
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                    running.add(proc)
                proc.wait()
                with lock:
                    running.discard(proc)
            finally:  # whatever happened, the test waiting for this model goes on (and solves it itself)
                done[name].set()

    def get(name):
        if not threads:
            threads.extend(threading.Thread(target=worker, daemon=True) for _ in range(WORKERS))
            for t in threads:
                t.start()
        if name not in cache:
            while name in done and not done[name].wait(5):
                if not any(t.is_alive() for t in threads):  # no worker left to solve it: solve it here
                    break
            cache[name] = compare(name, seed=SEED, out=out)
        return cache[name]

    yield get
    with lock:  # a partial test run: stop what is still solving
        queue.clear()
        for proc in running:
            proc.terminate()


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
