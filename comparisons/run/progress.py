"""What a run says while it works: the model and solver running, compiling, NUTS draws, models done.

The engine emits events (:func:`emit`); whoever runs it chooses where they go (:func:`reporting`):
nowhere (the default, so ``compare`` in a notebook stays silent; ``modemean run --quiet``), a
:class:`Lines` display (one line per step, for a log file or a pipe) or a :class:`Bars` display
(``rich`` progress bars on a terminal). A worker process of ``modemean run`` with several models
sends its events to the parent, which shows them (:mod:`comparisons.run.batch`).

Events (``kind``, then keyword data; every event carries ``model``):

- ``model``: a model's solvers start (``solvers``: their names);
- ``solver``: one solver starts (``solver``, ``label``);
- ``compiling`` / ``compiled``: numba compiles the functions a solver needs (``seconds`` when done);
  only a real compile is reported, a function loaded from PyTensor's compile cache is not;
- ``draws``: NUTS iterations done in one chain (``chain``, ``done``, ``total``: tuning included);
- ``solver_done``: a solver finished (``solver``, ``status``, ``seconds``);
- ``done``: a model finished (``seconds``, ``cached``); ``failed``: a model of a batch failed (said at the end).

``modemean teach`` and ``report`` name each file or page as the ``model`` of their events:

- ``step``: its work starts (``what``: ``"computing"``, ``"rendering"``);
- ``done`` with ``said``: what to say of it instead of ``done in ... s`` (``"kept (up to date)"``), always said.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from ..results.schema import STATUS_WORDS

__all__ = ["emit", "reporting", "draw_callback", "Lines", "Bars", "display"]

Sink = Callable[[str, dict[str, Any]], None]
_sink: Sink | None = None
_model: str = ""  # the model being solved in this process, added to the events that do not name one


def emit(kind: str, **data: Any) -> None:
    """Send one event to the current sink (nothing happens without one)."""
    if _sink is not None:
        data.setdefault("model", _model)
        _sink(kind, data)


def active() -> bool:
    """Whether anybody listens (the NUTS solver passes a per-draw callback to ``pm.sample`` only then)."""
    return _sink is not None


@contextmanager
def reporting(sink: Sink | None) -> Iterator[None]:
    """Send the events emitted inside the block to ``sink`` (``None``: nowhere)."""
    global _sink
    previous, _sink = _sink, sink
    if sink is not None:
        _watch_compiles()
    try:
        yield
    finally:
        _sink = previous


@contextmanager
def solving(model: str) -> Iterator[None]:
    """Name the model the events inside the block are about."""
    global _model
    previous, _model = _model, model
    try:
        yield
    finally:
        _model = previous


def draw_callback(total: int) -> Callable[..., None]:
    """A ``pm.sample(callback=...)`` that emits ``draws`` events, about 100 per chain (``total``: tune + draws)."""
    step = max(total // 100, 1)

    def callback(trace, draw) -> None:
        done = draw.draw_idx + 1
        if done % step == 0 or done == total:
            emit("draws", chain=draw.chain, done=done, total=total)

    return callback


_watching = False


def _watch_compiles() -> None:
    """Report numba's compiles (the long silent set-up of a cold compile cache) as events.

    numba's event API announces ``numba:compile`` around every real compile; a function loaded from the
    compile cache triggers none. Nested compiles (one function calling another) count once.
    """
    global _watching
    if _watching:
        return
    from numba.core import event

    class Compiles(event.Listener):
        depth, start = 0, 0.0

        def on_start(self, ev):
            if self.depth == 0:
                self.start = time.perf_counter()
                emit("compiling")
            self.depth += 1

        def on_end(self, ev):
            self.depth -= 1
            if self.depth == 0:
                emit("compiled", seconds=time.perf_counter() - self.start)

    event.register("numba:compile", Compiles())
    _watching = True


# ----------------------------------------------------------------------------------------------- displays


class Lines:
    """One plain line per step on ``stream`` (standard error): what a log file or a pipe should hold.

    Compiles are summed per solver and said once, when the first one starts (``compiling its functions
    with numba``) and in the solver's closing line; NUTS says when sampling starts, not every draw.
    With several models (``total``) only each solver's closing line is said: the command prints one line
    per model as it finishes.
    """

    def __init__(self, stream: TextIO | None = None, total: int | None = None):
        self.stream = stream or sys.stderr
        self.total = total
        self.compiling: dict[str, float] = {}  # model -> seconds compiled in the current solver
        self.sampling: set[str] = set()

    def _say(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def _prefix(self, model: str) -> str:
        return f"{model}:"

    def __call__(self, kind: str, data: dict[str, Any]) -> None:
        model = data["model"]
        if self.total is not None and kind not in ("compiled", "solver_done"):
            return
        if kind == "model":
            self._say(f"{self._prefix(model)} solving with {', '.join(data['solvers'])}")
        elif kind == "step":
            self._say(f"{self._prefix(model)} {data['what']} ...")
        elif kind == "solver":
            self.compiling.pop(model, None)
            self.sampling.discard(model)
            self._say(f"{self._prefix(model)} {data['solver']} ({data['label']}) ...")
        elif kind == "compiling" and model not in self.compiling:
            self.compiling[model] = 0.0
            self._say(f"{self._prefix(model)}   compiling its functions with numba (tens of seconds the first time)")
        elif kind == "compiled":
            self.compiling[model] = self.compiling.get(model, 0.0) + data["seconds"]
        elif kind == "draws" and model not in self.sampling:
            self.sampling.add(model)
            self._say(f"{self._prefix(model)}   sampling: {data['total']} iterations per chain (tuning included)")
        elif kind == "solver_done":
            compiled = self.compiling.pop(model, None)
            extra = f", {compiled:.0f} s of it compiling" if compiled else ""
            said = f"{data['solver']} {_word(data['status'])} in {data['seconds']:.1f} s{extra}"
            self._say(f"{self._prefix(model)} {said}")
        elif kind == "done":  # one model (several: the command prints a line per model as it finishes)
            how = "results reused (nothing changed)" if data["cached"] else f"done in {data['seconds']:.1f} s"
            how = data.get("said") or how
            self._say(f"{self._prefix(model)} {how}")


class Bars:
    """``rich`` progress on a terminal (standard error): models done with an ETA (several models), one
    line per running model saying its solver and whether it is compiling, and one bar per NUTS chain.

    Use as a context manager; the comparison tables printed meanwhile appear above the bars.
    """

    def __init__(self, total: int | None = None, unit: str = "models"):
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            redirect_stdout=sys.stdout.isatty(),  # tables printed above the bars; a redirected stdout stays a file
            transient=False,
        )
        self.models = self.progress.add_task(unit, total=total) if total and total > 1 else None
        self.steps: set[str] = set()  # the files or pages of teach and report (their end is said in a line)
        self.current: dict[str, Any] = {}  # model -> its status task
        self.solver: dict[str, str] = {}
        self.chains: dict[tuple[str, int], Any] = {}

    def __enter__(self) -> Bars:
        self.progress.start()
        return self

    def __exit__(self, *exc) -> None:
        self.progress.stop()

    def _status(self, model: str, text: str) -> None:
        if model not in self.current:
            self.current[model] = self.progress.add_task("", total=None)
        self.progress.update(self.current[model], description=f"{model}: {text}")

    def _drop_chains(self, model: str) -> None:
        for key in [k for k in self.chains if k[0] == model]:
            self.progress.remove_task(self.chains.pop(key))

    def __call__(self, kind: str, data: dict[str, Any]) -> None:
        model = data["model"]
        if kind == "model":
            self._status(model, "starting")
        elif kind == "step":
            self.steps.add(model)
            self._status(model, data["what"])
        elif kind == "solver":
            self._drop_chains(model)
            self.solver[model] = f"{data['solver']} ({data['label']})"
            self._status(model, self.solver[model])
        elif kind == "compiling":
            self._status(model, f"{self.solver.get(model, '')}: compiling with numba")
        elif kind == "compiled":
            self._status(model, self.solver.get(model, ""))
        elif kind == "draws":
            key = (model, data["chain"])
            if key not in self.chains:
                self._status(model, f"{self.solver.get(model, '')}: sampling")
                self.chains[key] = self.progress.add_task(f"  chain {data['chain']}", total=data["total"])
            self.progress.update(self.chains[key], completed=data["done"])
        elif kind == "solver_done":
            self._drop_chains(model)
            if self.models is not None:  # several models: the command prints one line per model
                return
            self.progress.console.print(
                f"{model}: {data['solver']} {_word(data['status'])} in {data['seconds']:.1f} s", highlight=False
            )
        elif kind in ("done", "failed"):
            self._drop_chains(model)
            if kind == "done" and (model in self.steps or data.get("said")):
                said = data.get("said") or f"done in {data['seconds']:.1f} s"
                self.progress.console.print(f"{model}: {said}", highlight=False)
            task = self.current.pop(model, None)
            if task is not None:
                self.progress.remove_task(task)
            if self.models is not None:
                self.progress.advance(self.models)


def display(quiet: bool, total: int | None = None, unit: str = "models"):
    """The display a command should use: nothing with ``quiet``, bars when standard error is a terminal,
    else plain lines. Returns ``(sink, context)``: ``sink`` is ``None`` when quiet. ``unit`` names what
    ``total`` counts on the bar (``"pages"``)."""
    from contextlib import nullcontext

    if quiet:
        return None, nullcontext()
    if sys.stderr.isatty():
        bars = Bars(total, unit)
        return bars, bars
    return Lines(total=total), nullcontext()


def _word(status: str) -> str:
    """A solver's status as a person reads it (``not applicable``)."""
    return STATUS_WORDS.get(status, status)
