"""The rendered site in a real browser: Debian's headless Chromium driven by Playwright.

Every catalog model's session comparison (the one the catalog tests use, at default settings) is
saved into a temporary folder and rendered; the index and every model page are opened from ``file://``. Each page must
load without console errors, show every image, have working links, and its comparison table
must list every parameter of that model's ``results.json``.

Skipped, saying why, when Chromium is absent (``apt-get install -y chromium``; ``.ci/run``
installs it). Never run ``playwright install``: the browser comes from Debian.
"""

import json
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlparse

import pytest

from modemean import models
from modemean.reports import render

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def site(browser, solved, tmp_path_factory):
    """Every catalog model's session comparison (shared with the catalog tests) saved and rendered;
    ``(out, {model: error message})``."""
    out = tmp_path_factory.mktemp("site")
    errors = {}
    for name in models.CATALOG:
        try:
            solved(name).save(out)
        except Exception as exc:  # noqa: BLE001 -- reported by that model's test, the others still render
            errors[name] = f"{type(exc).__name__}: {exc}"
    if len(errors) < len(models.CATALOG):
        render(out, jobs=2)
    return out, errors


def _open(page, path: Path) -> None:
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    for details in page.query_selector_all("details"):  # images one click away must load too
        details.evaluate("d => d.open = true")
    page.wait_for_function("Array.from(document.images).every(i => i.complete)")
    assert page.console_errors == [], f"{path}: {page.console_errors}"
    broken = page.evaluate("Array.from(document.images).filter(i => i.naturalWidth === 0).map(i => i.src)")
    assert broken == [], f"{path}: broken images {broken}"


def _follow_links(page, path: Path) -> None:
    """Every link: an anchor must exist, an HTML page must open cleanly, any other file must exist."""
    hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
    assert hrefs, f"{path}: no links"
    for href in dict.fromkeys(hrefs):
        url, anchor = urldefrag(href)
        assert urlparse(url).scheme == "file", f"{path}: link leaves the site: {href}"
        target = Path(unquote(urlparse(url).path))
        assert target.is_file(), f"{path}: broken link {href}"
        if target == path:
            if anchor:
                assert page.query_selector(f"[id='{anchor}']"), f"{path}: no element with id {anchor!r}"
        elif target.suffix == ".html":
            _open(page, target)
            _open(page, path)
        elif target.suffix == ".json":
            page.goto(url)
            json.loads(page.inner_text("body"))
            _open(page, path)


def test_index(page, site):
    out, _ = site
    index = out / "index.html"
    _open(page, index)
    listed = page.eval_on_selector_all("tr[data-model]", "rows => rows.map(r => r.dataset.model)")
    assert sorted(listed) == sorted(p.parent.name for p in out.glob("*/results.json"))
    _follow_links(page, index)


@pytest.mark.parametrize("name", models.CATALOG)
def test_model_page(page, site, name):
    out, errors = site
    if name in errors:
        pytest.fail(f"compare({name!r}) raised, so there is no page to check: {errors[name]}")
    path = out / name / "index.html"
    _open(page, path)
    rows = page.eval_on_selector_all(
        "table.comparison tr[data-parameter]", "rows => rows.map(r => r.dataset.parameter)"
    )
    assert rows == list(json.loads((out / name / "results.json").read_text())["parameters"])
    _follow_links(page, path)
