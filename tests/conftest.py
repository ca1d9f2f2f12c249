"""Shared fixtures: each catalog comparison is solved once per test session."""

import os
import shutil

os.environ.setdefault("MPLBACKEND", "Agg")

import pytest

from modemean import compare

SEED = 20261126


@pytest.fixture(scope="session")
def solved():
    """``solved(name)`` returns the full comparison (map, em, nuts at default settings), cached."""
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = compare(name, seed=SEED)
        return cache[name]

    return get


# ----------------------------------------------------------------- one headless Chromium for all browser tests

CHROMIUM = os.environ.get("CHROMIUM_BIN") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost"]


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium through Playwright (one per session: Playwright's sync API allows one).

    Skipped, saying why, when Chromium or Playwright is absent; never ``playwright install``.
    """
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed: pip install -e '.[test]'")
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.skip(f"browser tests skipped: Chromium not found at {CHROMIUM!r} "
                    "(apt-get install -y chromium chromium-driver, or set CHROMIUM_BIN)")
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
