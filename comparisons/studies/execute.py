"""Where a study's replicates run: in this process, on a Dask ``LocalCluster``, or on an existing cluster.

Each Dask worker builds the :class:`~comparisons.studies.replicate.Replicator` once (a
``WorkerPlugin``), with its own PyTensor compile directory (set before the worker imports
PyTensor, kept under ``~/.pytensor`` so a second study starts warm), and then receives only
replicate numbers: never a pickled model or compiled function.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import time
import warnings
from collections.abc import Iterator
from typing import Any

from distributed import Client, LocalCluster, WorkerPlugin, as_completed, get_worker

from ..errors import ModemeanError
from ..system import quiet_libraries
from .replicate import Replicator, one_line

__all__ = ["run_in_process", "run_on_dask", "connect", "Progress"]

PLUGIN = "modemean-study"
CONNECT_TIMEOUT = "10s"


def run_in_process(replicator: Replicator, todo: list[int], seed: int) -> Iterator[dict[str, Any]]:
    """Replicates one after another in this process; yields each record as it is done."""
    logger = logging.getLogger("pymc")
    level = logger.level
    with warnings.catch_warnings():
        quiet_libraries(runtime_warnings=True)
        try:
            for i in todo:
                yield replicator.run(i, seed)
        finally:
            logger.setLevel(level)


def connect(scheduler: str | None, workers: int | None) -> tuple[Client, LocalCluster | None]:
    """A client of the scheduler at ``scheduler``, or of a new ``LocalCluster`` of ``workers`` processes.

    Raises
    ------
    ModemeanError
        The scheduler cannot be reached (one line naming the address).
    """
    if scheduler is None:
        with warnings.catch_warnings():  # "port 8787 in use" for the scheduler's HTTP server, which is not needed
            warnings.simplefilter("ignore", UserWarning)
            cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.CRITICAL,  # a worker stopped by Ctrl-C logs lost heartbeats: not news
            )
        return Client(cluster), cluster
    try:
        return Client(scheduler, timeout=CONNECT_TIMEOUT), None
    except (OSError, TimeoutError, ValueError, TypeError) as exc:
        raise ModemeanError(
            f"cannot connect to the Dask scheduler at {scheduler!r} ({one_line(exc)}): give tcp://host:port of a "
            "running scheduler (README: a SLURM cluster with dask-jobqueue), or leave out --scheduler"
        ) from exc


class StudyWorker(WorkerPlugin):
    """Builds the study's :class:`Replicator` once on each worker (model loaded, forward function compiled)."""

    def __init__(self, target: str, truth: str, solvers: tuple[str, ...], options: dict[str, Any]):
        self.args = (target, truth, tuple(solvers), dict(options))
        self.replicator: Replicator | None = None
        self.error = ""

    def setup(self, worker) -> None:
        worker_compiledir(str(worker.name))
        try:
            self.replicator = Replicator(*self.args)
        except Exception as exc:  # noqa: BLE001 -- every replicate on this worker then reports it
            self.error = one_line(exc)
        quiet_libraries(runtime_warnings=True)  # after PyMC's import, which sets its logger's level


def worker_compiledir(name: str) -> str | None:
    """Give this worker process its own PyTensor ``base_compiledir``, ``~/.pytensor/modemean-worker-<name>``.

    PyTensor fixes the directory when it is imported, so this works only before then (a worker
    process imports it when it builds the model); an explicit ``base_compiledir`` in
    ``PYTENSOR_FLAGS`` is kept. Returns the directory set, or ``None``.
    """
    flags = os.environ.get("PYTENSOR_FLAGS", "")
    if "pytensor" in sys.modules or "base_compiledir" in flags:
        return None
    path = os.path.join(os.path.expanduser("~"), ".pytensor", "modemean-worker-" + re.sub(r"[^\w.-]", "_", name))
    os.environ["PYTENSOR_FLAGS"] = f"{flags},base_compiledir={path}" if flags else f"base_compiledir={path}"
    return path


def _replicate_task(plugin: str, i: int, seed: int) -> dict[str, Any]:
    """Run replicate ``i`` on this worker's Replicator (raise when the worker could not build it)."""
    worker = get_worker().plugins[plugin]
    assert isinstance(worker, StudyWorker)
    if worker.replicator is None:
        raise ModemeanError(f"the worker could not build the model: {worker.error}")
    return worker.replicator.run(i, seed)


def run_on_dask(
    client: Client,
    target: str,
    truth: str,
    solvers: tuple[str, ...],
    options: dict[str, Any],
    todo: list[int],
    key: str,
    lost: list[tuple[int, str]],
) -> Iterator[dict[str, Any]]:
    """Replicates ``todo`` as Dask tasks; yields each record as it arrives (in the order they finish).

    A task that errors is a failure of the cluster, not of the replicate (a replicate's own failures
    are in its record): a worker that died or was interrupted, a model it could not load. Such a
    replicate is appended to ``lost`` as ``(i, one-line error)`` and not yielded, so it is computed
    when the study is run again. Stopping the iteration early cancels the pending tasks.
    """
    plugin = f"{PLUGIN}-{key[:16]}"
    client.register_plugin(StudyWorker(target, truth, solvers, options), name=plugin)
    futures = {
        client.submit(_replicate_task, plugin, i, options["seed"], key=f"{plugin}-{i}", pure=False): i for i in todo
    }
    try:
        for future in as_completed(list(futures)):
            if future.status == "error":
                lost.append((futures[future], one_line(future.exception())))
            else:
                yield future.result()
            future.release()
    finally:
        client.cancel(list(futures))


class Progress:
    """Replicates done / failed / rate / ETA: a rich bar on a terminal, a plain line every 5% otherwise.

    Parameters
    ----------
    name : str
    total : int
        Replicates in the study.
    done, failed : int
        Already finished (read back when resuming).
    quiet : bool
        Print nothing.
    stream : file, default sys.stderr
    """

    def __init__(self, name: str, total: int, done: int, failed: int, *, quiet: bool = False, stream=None) -> None:
        self.name, self.total, self.done, self.failed = name, total, done, failed
        self.stream = stream if stream is not None else sys.stderr
        self.quiet = quiet
        self.start = time.perf_counter()
        self.resumed = done + failed
        self.next_line = 0
        self.bar = None
        if not quiet and self.stream.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, TextColumn, TimeElapsedColumn
            from rich.progress import Progress as Bar

            self.bar = Bar(
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.completed}/{task.total} replicates, {task.fields[failed]} failed"),
                TextColumn("{task.fields[rate]}"),
                TimeElapsedColumn(),
                TextColumn("ETA {task.fields[eta]}"),
                console=Console(file=self.stream),
            )
            self.bar.start()
            self.task = self.bar.add_task(
                f"study {name}", total=total, completed=self.resumed, failed=failed, rate="", eta="?"
            )
        elif not quiet:
            self._line()

    def update(self, record: dict[str, Any]) -> None:
        """Count one finished replicate."""
        self.failed += bool(record.get("error"))
        self.done += not record.get("error")
        if self.quiet:
            return
        finished = self.done + self.failed
        elapsed = time.perf_counter() - self.start
        rate = (finished - self.resumed) / elapsed * 60 if elapsed > 0 else 0.0
        eta = _duration((self.total - finished) / rate * 60) if rate > 0 else "?"
        if self.bar is not None:
            self.bar.update(self.task, completed=finished, failed=self.failed, rate=f"{rate:.1f}/min", eta=eta)
        elif finished >= self.next_line or finished == self.total:
            self._line(f", {rate:.1f}/min, ETA {eta}")

    def _line(self, tail: str = "") -> None:
        finished = self.done + self.failed
        print(f"study {self.name}: {finished}/{self.total} replicates, {self.failed} failed{tail}", file=self.stream)
        self.stream.flush()
        self.next_line = finished + max(1, self.total // 20)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"
