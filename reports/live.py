"""The site while a run goes on: one summary line per finished model, its page and the index rendered at once.

``modemean run`` with several models calls :meth:`LiveSite.solved` as each model finishes (from its
parent process, which only waits for the solvers' worker processes): the model's page and the index
are rendered by one background process, so rendering overlaps the solving of the next models and the
first page can be opened a minute after the run starts. The index names the models still running and
reloads itself until the last one is done. Nothing here imports PyMC.
"""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

from modemean.comparisons.results.read import read_json
from modemean.comparisons.results.schema import format_number

from .load import ModelResults
from .site import render
from .tables import STATUS_WORDS

__all__ = ["LiveSite", "summary_line"]


def summary_line(out: Path, name: str, seconds: float, cached: bool) -> str:
    """One line saying how a model went: ``eight_schools: 70 s, largest gap +1.12 sd (tau)``.

    The gap is the index's headline (:meth:`.load.ModelResults.headline`: ``gap_sd``, or ``gap_sd_em``
    where find_MAP found no mode), read from ``results.json``; solvers that did not end ``ok`` are named.
    """
    results = ModelResults(name, Path(out) / name, read_json(Path(out) / name))
    head = results.headline()
    how = "results reused" if cached else f"{seconds:.0f} s"
    gap = "no gap (needs a mode and NUTS)"
    if head is not None:
        where = f"{head[0]}, from EM's mode" if head[2] == "gap_sd_em" else head[0]
        gap = f"largest gap {format_number(head[1], 'gap_sd')} sd ({where})"
    odd = [
        f"{results.labels.get(m, m)} {STATUS_WORDS.get(s['status'], s['status'])}"
        for m, s in results.data["solvers"].items()
        if s.get("status") not in ("ok", "not_run")
    ]
    return f"{name}: {how}, {gap}" + (f"; {', '.join(odd)}" if odd else "")


class LiveSite:
    """Render each model's page and the index in one background process as the models of a run finish.

    Parameters
    ----------
    out : path
        The results folder of the run.
    waiting : list of str
        The results folder names of every model of the run (each leaves the list when :meth:`solved`).

    Notes
    -----
    Requests are served in order by one worker process (``forkserver``: it imports the reports, never
    PyMC); requests that arrive while it renders are merged into one render (their pages, one index).
    A rendering error is kept and raised by :meth:`close`, so a broken page never stops the solvers.
    """

    def __init__(self, out: Path, waiting: list[str]):
        self.out, self.waiting = Path(out), list(waiting)
        self.queue: list[str] = []
        self.lock = threading.Condition()
        self.closing = False
        self.error: BaseException | None = None
        context = multiprocessing.get_context("forkserver")
        self.pool = ProcessPoolExecutor(1, mp_context=context)
        self.thread = threading.Thread(target=self._serve, name="modemean live site", daemon=True)
        self.thread.start()

    def solved(self, name: str) -> None:
        """``name``'s results are written: render its page and the index (without blocking)."""
        with self.lock:
            if name in self.waiting:
                self.waiting.remove(name)
            self.queue.append(name)
            self.lock.notify()

    def dropped(self, name: str) -> None:
        """``name`` failed: no page, but it is no longer running."""
        with self.lock:
            if name in self.waiting:
                self.waiting.remove(name)

    def close(self) -> None:
        """Wait for the pages asked for; raise the first rendering error."""
        with self.lock:
            self.closing = True
            self.lock.notify()
        self.thread.join()
        self.pool.shutdown()
        if self.error is not None:
            raise self.error

    def _serve(self) -> None:
        while True:
            with self.lock:
                while not self.queue and not self.closing:
                    self.lock.wait()
                if not self.queue:
                    return
                names, self.queue = self.queue, []
                waiting = list(self.waiting)
            if self.error is None:
                job: Future = self.pool.submit(render, self.out, names, running=waiting)
                try:
                    job.result()
                except Exception as exc:  # noqa: BLE001 -- said by close(), after the run
                    self.error = exc
