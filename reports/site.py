"""The render driver: which pages are stale, model pages in worker processes, then studies and the index."""

from __future__ import annotations

import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from modemean.comparisons.run import progress

from .index_page import render_index
from .load import find_models, load_all, load_model
from .model_page import render_model
from .stale import stale
from .study.load import PAGE, SUMMARY, find_studies, load_study
from .study.page import render_study
from .teaching.common import USES


def render(
    out: Path,
    names: list[str] | None = None,
    extra_pages: list[tuple[str, str]] = (),
    force: bool = False,
    jobs: int = 1,
    running: list[str] = (),
) -> Path:
    """Render the pages of ``names`` (default: every model with results or a study in ``out``) and the index.

    Each model with ``results.json`` gets its page ``<model>/index.html``; each with a simulation study
    (``<model>/study.json``, from ``modemean study``) gets ``<model>/study.html`` (:mod:`.study.page`); a model
    may have either or both. A page newer than its inputs and the rendering code is up to date and is
    kept (figures are most of the time of a report); ``force`` renders it anyway.

    Parameters
    ----------
    out : path
        The folder ``modemean run --out`` (or ``modemean study --out``) wrote to; pages are written next
        to the results.
    names : list of str, optional
        Models to (re)render; the index always lists every model and study in ``out``.
    extra_pages : list of (title, relative href), optional
        Further pages (e.g. teaching pages) to link from the index.
    force : bool, default False
        Render every page even when it is up to date.
    jobs : int, default 1
        Model pages rendered at once, each worker a process of its own (matplotlib draws on one core; a
        page of forty densities takes ten seconds). Above 1, call it from a script only under
        ``if __name__ == "__main__":`` (the workers import the main module, as with ``multiprocessing``).
    running : list of str, optional
        Models of a run still being solved: the index names them and reloads itself until they are done.

    Returns
    -------
    Path
        ``out/index.html``.

    Raises
    ------
    comparisons.ModemeanError
        When ``out`` holds no results and no study, or a named model has neither.
    """
    out = Path(out)
    found, studies = find_models(out), find_studies(out)
    missing = [n for n in names or [] if n not in found and n not in studies]
    if missing or not (found or studies):
        load_all(out, missing or None)  # raises, naming the command that writes the results
    all_results = {n: load_model(out, n) for n in found}
    inputs = ("results.json", "results.nc", SUMMARY)
    chosen = [n for n in (names or found) if n in found]
    page_inputs = {n: [*(out / n / f for f in inputs), *_teaching(out, n)] for n in chosen}
    todo = [n for n in chosen if stale(out / n / "index.html", page_inputs[n], force)]
    if len(chosen) > len(todo):
        kept = f"{len(chosen) - len(todo)} kept (up to date; --force renders them again)"
        progress.emit("done", model="model pages", seconds=0.0, cached=True, said=kept)
    _render_models(out, sorted(todo, key=lambda n: -len(all_results[n].parameters)), jobs)  # the largest first
    all_studies = {n: load_study(out, n) for n in studies}
    for name in [n for n in (names or studies) if n in studies]:
        if stale(out / name / PAGE, [out / name / SUMMARY, out / name / "index.html"], force):
            render_study(all_studies[name])
    return render_index(list(all_results.values()), out, extra_pages, list(all_studies.values()), running)


def _teaching(out: Path, name: str) -> list[Path]:
    """The teaching pages a model's page links to: one written after the model page makes it stale."""
    return [out / "teaching" / f"{page}.html" for page, models in USES.items() if name in models]


def _render_models(out: Path, names: list[str], jobs: int) -> None:
    """:func:`render_model` for each of ``names``, in ``jobs`` worker processes when there is more than one."""
    if jobs <= 1 or len(names) <= 1:
        for name in names:
            progress.emit("step", model=f"{name}/index.html", what="rendering")
            progress.emit("done", model=f"{name}/index.html", seconds=_render_one(out, name), cached=False)
        return
    context = multiprocessing.get_context("forkserver")  # not fork: a clean process, whatever threads run here
    with ProcessPoolExecutor(min(jobs, len(names)), mp_context=context) as pool:
        pages = {pool.submit(_render_one, out, name): name for name in names}
        for page in as_completed(pages):  # a worker's error (e.g. an unreadable results.nc) is raised here
            progress.emit("done", model=f"{pages[page]}/index.html", seconds=page.result(), cached=False)


def _render_one(out: Path, name: str) -> float:
    """Render one model's page; the seconds it took."""
    start = time.perf_counter()
    render_model(load_model(out, name))
    return time.perf_counter() - start
