"""THE compile policy: how each graph of the model's density is turned into a function.

Three rules, one per cost profile:

* :func:`compile_small`: small functions called a few hundred times at most (the parameter space's maps,
  a log prior, a one-off evaluation) run PyTensor's Python implementations (:data:`SMALL_GRAPH_MODE`):
  nothing is compiled, with a cold cache or a warm one.
* :func:`compile_by_size`: the density, its gradient and its Hessian-vector products are compiled (PyTensor's
  default mode) over large data (:data:`LARGE_DATA` observed values or more, e.g. images), where the numpy
  passes, not the per-op overhead, cost the time; otherwise as the small ones.
* :func:`compile_fast`: the EM engines' graphs, called hundreds of times per restart, with the C linker, or
  with numba for a function whose C compile fails.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import pymc as pm
import pytensor
from pytensor.compile.compilelock import force_unlock
from pytensor.compile.mode import Mode

__all__ = [
    "SMALL_GRAPH_MODE",
    "LARGE_DATA",
    "MODE_C",
    "MODE_FALLBACK",
    "LOCK_WAITS",
    "compile_small",
    "compile_by_size",
    "compile_fast",
    "data_entries",
    "large_data",
]

# Python implementations of the ops and only the cheapest rewrites: nothing to compile. (PyTensor's
# FAST_COMPILE mode still builds every op's C code with g++: 56 modules, 90 s with a cold compile
# cache, for old_faithful's few small functions.)
SMALL_GRAPH_MODE = Mode(linker="py", optimizer="fast_compile")
LARGE_DATA = 10_000  # observed values from which the density and its derivatives are compiled (default mode)


def compile_small(inputs: list, outputs, **kwargs):
    """``pytensor.function`` in :data:`SMALL_GRAPH_MODE`, with no C compiler even for inner graphs.

    Inner graphs (an ``OpFromGraph`` in a marginalised mixture, say) are linked by PyTensor's own
    VM, which would build C code for each op; with ``cxx`` empty it uses the Python code instead.
    """
    with pytensor.config.change_flags(cxx=""):
        return pytensor.function(inputs, outputs, mode=SMALL_GRAPH_MODE, **kwargs)


def data_entries(model: pm.Model) -> int:
    """How many observed values the model has (constant or ``pm.Data``), over every observed variable."""
    total = 0
    for rv in model.observed_RVs:
        value = model.rvs_to_values[rv]
        data = value.get_value() if hasattr(value, "get_value") else getattr(value, "data", None)
        total += int(np.size(data)) if data is not None else 0
    return total


def large_data(model: pm.Model) -> bool:
    """Whether the model's density is compiled (:func:`compile_by_size`): :data:`LARGE_DATA` observed values
    or more."""
    return data_entries(model) >= LARGE_DATA


def compile_by_size(inputs: list, outputs, *, large: bool, small: Callable = compile_small) -> Callable:
    """A density function: compiled (PyTensor's default mode) over large data, else by ``small``.

    Over large data the numpy passes dominate and a compiled density is ~30x faster (an image model: a
    Hessian-vector product 94 ms in Python, 2.9 ms compiled), which pays for its compilation.
    """
    return pytensor.function(inputs, outputs) if large else small(inputs, outputs)


# The E- and M-steps call a few graphs hundreds of times per restart, so per-call cost matters: the C
# virtual machine runs them 25x faster than the Python linker (0.5 ms vs 13 ms for sleepstudy's Q),
# and its compiled ops are cached in PyTensor's compiledir per op, shared across models and runs
# (cold: about a minute once; warm: seconds). Without a C compiler numba compiles them (PyTensor's
# default backend, no compiler needed): the Python linker cannot run an elementwise op of more than
# 32 operands, which the Laplace-EM's graphs of a transformed latent have.
MODE_C = Mode(linker="cvm", optimizer="fast_run")
MODE_FALLBACK = "NUMBA"


LOCK_WAITS = 10  # times a C compile waits out PyTensor's compiledir lock timeout before numba takes over


def compile_fast(inputs, outputs, **kwargs):
    """``pytensor.function`` with the C linker, or with numba where that fails (no C compiler).

    The fallback is decided per function: a failed C compile once in a process must not switch
    every later engine of that process to other arithmetic. Waiting for the compile directory's lock
    is no failure: another process compiling into the same directory (a test worker, a catalog model)
    can hold it past ``compile__timeout`` (120 s) on a loaded machine; the compile then waits again,
    after clearing the claim PyTensor's lock leaves behind on a timeout (with it, every later compile of
    the process would skip the lock and could clash with the other process's modules).
    """
    if pytensor.config.cxx:
        for _ in range(LOCK_WAITS):
            try:
                with warnings.catch_warnings():
                    warnings.filterwarnings("ignore", message=".*could not link to a BLAS.*")
                    return pytensor.function(inputs, outputs, mode=MODE_C, **kwargs)
            except TimeoutError:  # filelock's Timeout: another process holds the compile directory; wait again
                force_unlock(pytensor.config.compiledir)  # this process's stale claim only; the holder keeps its lock
            except Exception:  # noqa: BLE001 -- a C compile that failed: this function with numba
                break
    return pytensor.function(inputs, outputs, mode=MODE_FALLBACK, **kwargs)
