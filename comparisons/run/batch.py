"""Several models in one run: each solved by :func:`~comparisons.run.compare.compare` in a fresh worker process.

A catalog model whose results are stored under the same cache key is read back in the parent
instead (:func:`~comparisons.run.compare.stored_comparison`: nothing compiled, no process started); a
model file is only ever imported in a worker (its import may do anything, even kill its process).

A worker process solves one model and exits, so the memory a model compiled (PyTensor's and
numba's functions live as long as their process) is returned before the next model starts: the
whole catalog in one ``modemean run all`` stays below a gigabyte, where one process solving every
model in turn grew to 1.8 GB. ``jobs`` workers run at once (compiling is single-threaded, so two
keep two cores busy while a model compiles).

Workers are forked from a ``forkserver`` that has imported the engine once (no second import of
PyMC per model), are not daemonic (``pm.sample`` starts its chains as child processes), and each
is on its own: a model that fails to load, raises, or whose process dies (killed, out of memory)
is reported and the others go on. A worker sends its progress events and its outcome to the
parent through a queue; the parent prints the tables and shows the progress (:mod:`.progress`).

Interruption: Ctrl-C reaches the parent only (workers ignore SIGINT); the parent sends SIGTERM to
the running workers, which end like an interrupted ``compare`` (finished solvers saved, the rest
marked interrupted), waits for them, starts no further model and raises ``KeyboardInterrupt``.
"""

from __future__ import annotations

import multiprocessing
import os
import queue as queues
import signal
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ModemeanError, interrupt
from ..system import CHAIN_PROCESSES, available_cores, quiet_libraries
from . import progress

__all__ = ["Outcome", "solve_many"]

GRACE = 120.0  # seconds an interrupted worker gets to save what it finished before it is killed


@dataclass(frozen=True)
class Outcome:
    """What a worker reports about one model.

    Attributes
    ----------
    target : str
        The model as given (catalog name or path).
    status : {"ok", "failed", "interrupted"}
    name : str or None
        The results folder name (``ok`` only).
    text : str
        ``ok``: the comparison as printed (status per solver, the table); ``failed``: one line saying why.
    cached : bool
        The stored results were reused.
    wide : str
        ``ok``: the comparison with every column and row (``modemean run --wide``).
    seconds : float
        Wall time of the worker's ``compare`` (0 for results reused in the parent).
    """

    target: str
    status: str
    name: str | None = None
    text: str = ""
    cached: bool = False
    wide: str = ""
    seconds: float = 0.0


def solve_many(
    targets: list[str],
    *,
    jobs: int,
    sink: progress.Sink | None,
    show: Callable[[Outcome], None],
    **kwargs: Any,
) -> list[Outcome]:
    """Solve each target in its own worker process, ``jobs`` at a time; return every outcome in target order.

    Parameters
    ----------
    targets : list of str
        Catalog names or model file paths.
    jobs : int
        Worker processes at once (>= 1).
    sink : callable or None
        Receives the workers' progress events (``None``: the workers emit none).
    show : callable
        Called with each :class:`Outcome` as soon as its model is done (the command prints it).
    **kwargs
        Passed to :func:`~comparisons.run.compare.compare` for every target (``solvers``, options, ``out``, ...).

    Raises
    ------
    KeyboardInterrupt
        After the running workers have saved what they finished (see the module docstring).

    Notes
    -----
    Call it from the only thread of this process that uses PyTensor: a stored catalog result is read
    here, which builds the model, and PyTensor's configuration is process-global (``change_flags``,
    which every compile enters, is not thread-safe). Two threads compiling at once can leave the
    process with another thread's ``config.mode``, and every later compile with other numbers.
    """
    ctx = multiprocessing.get_context("forkserver")
    # the engine (PyMC, PyTensor, ArviZ: seconds) imported once, in the server every worker forks from
    ctx.set_forkserver_preload([__name__, "modemean.comparisons.run.compare"])
    events: multiprocessing.Queue = ctx.Queue()
    pending = list(enumerate(targets))
    running: dict[int, multiprocessing.process.BaseProcess] = {}  # forkserver processes
    outcomes: dict[int, Outcome] = {}

    def receive(timeout: float) -> None:
        try:
            message = events.get(timeout=timeout) if timeout else events.get_nowait()
        except queues.Empty:
            return
        kind, index, data = message
        if kind == "outcome":
            outcomes[index] = data
            if data.status == "failed" and sink is not None:
                sink("failed", {"model": data.target})
            show(data)
        elif sink is not None:
            sink(kind, data)

    def reap() -> None:
        for index, proc in list(running.items()):
            if proc.is_alive():
                continue
            proc.join()
            while not events.empty():  # what it sent before it exited
                receive(0)
            del running[index]
            if index not in outcomes:
                code = proc.exitcode
                why = f"killed by signal {-code}" if code is not None and code < 0 else f"exit status {code}"
                outcomes[index] = Outcome(
                    targets[index],
                    "failed",
                    text=f"its worker process ended without a result ({why}; out of memory?)",
                )
                if sink is not None:
                    sink("failed", {"model": targets[index]})
                show(outcomes[index])

    def stop() -> None:
        for proc in running.values():
            if proc.is_alive() and proc.pid is not None:  # started, so it has a pid
                os.kill(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + GRACE
        while running and time.monotonic() < deadline:
            receive(0.2)
            reap()
        for proc in running.values():
            proc.kill()
            proc.join()

    try:
        while pending or running:
            while pending and len(running) < jobs:
                index, target = pending.pop(0)
                stored = _stored(target, kwargs, sink)
                if stored is not None:
                    outcomes[index] = stored
                    show(stored)
                    continue
                # the cores shared out among the models solved at once (NUTS's chain processes: a model's
                # chains forked beside another model's only add forking and passing draws between processes)
                share = max(1, available_cores() // min(jobs, len(running) + 1 + len(pending)))
                proc = ctx.Process(
                    target=_work,
                    args=(index, target, kwargs, events, sink is not None, share),
                    name=f"modemean {target}",
                )
                proc.start()
                running[index] = proc
            receive(0.2)
            reap()
    except KeyboardInterrupt:
        stop()
        raise
    return [outcomes[i] for i in sorted(outcomes)]


def _stored(target: str, kwargs: dict, sink: progress.Sink | None) -> Outcome | None:
    """The outcome of a catalog model whose results are stored under the same key, read in this process (no
    worker: reading them compiles nothing); ``None`` when it must be solved, or is a model file (whose
    import may do anything, so it happens in a worker only)."""
    from modemean import models

    if kwargs.get("out") is None or kwargs.get("force") or target not in models.CATALOG:
        return None
    from .compare import stored_comparison

    try:
        with progress.reporting(sink):
            comparison = stored_comparison(target, **{k: v for k, v in kwargs.items() if k != "force"})
    except Exception:  # noqa: BLE001 -- a model that fails to load is solved (and reported) by its worker
        return None
    if comparison is None:
        return None
    return Outcome(target, "ok", comparison.spec.name, str(comparison), True, comparison.text(wide=True))


def _work(index: int, target: str, kwargs: dict, events, report: bool, cores: int) -> None:
    """One worker: solve ``target`` with NUTS's chains in at most ``cores`` processes (unless
    ``$MODEMEAN_CHAIN_PROCESSES`` says otherwise), send events and the outcome to the parent, exit."""
    from .compare import compare

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides (a terminal's Ctrl-C reaches every process)
    signal.signal(signal.SIGTERM, interrupt)
    quiet_libraries()
    os.environ.setdefault(CHAIN_PROCESSES, str(cores))
    sink = (lambda kind, data: events.put((kind, index, data))) if report else None
    start = time.perf_counter()
    try:
        with progress.reporting(sink):
            comparison = compare(target, **kwargs)
        seconds = time.perf_counter() - start
        outcome = Outcome(
            target, "ok", comparison.spec.name, str(comparison), comparison.cached, comparison.text(wide=True), seconds
        )
    except KeyboardInterrupt:
        outcome = Outcome(target, "interrupted")
    except ModemeanError as exc:
        outcome = Outcome(target, "failed", text=str(exc))
    except Exception as exc:  # noqa: BLE001 -- any model's failure is reported, the others still run
        where = traceback.extract_tb(exc.__traceback__)[-1]
        first = (str(exc).strip().splitlines() or [""])[0]
        outcome = Outcome(
            target, "failed", text=f"{type(exc).__name__}: {first} (at {Path(where.filename).name}:{where.lineno})"
        )
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # done: a late SIGTERM must not interrupt the exit
    events.put(("outcome", index, outcome))
    events.close()
    events.join_thread()
