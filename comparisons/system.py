"""Process-wide settings: PyTensor's flags, the cores, the processes NUTS's chains run in, library noise.

A leaf: it imports nothing of modemean, so a solver and the multi-model runner both use it.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
import warnings

from .errors import ModemeanError

__all__ = ["CHAIN_PROCESSES", "COMPILE_LOCK_WAIT", "available_cores", "chain_processes", "configure", "quiet_libraries"]

CHAIN_PROCESSES = "MODEMEAN_CHAIN_PROCESSES"  # environment variable: at most this many processes sample chains


COMPILE_LOCK_WAIT = 3600  # seconds a compile waits for the compile directory's lock (PyTensor's default: 120)


def configure() -> None:
    """PyTensor's flags, each unless ``PYTENSOR_FLAGS`` sets it: numba's fastmath off, and a long wait for
    the compile directory's lock. Called when the engine package is imported.

    Fastmath: with it on (PyTensor's default) a freshly compiled log density and the same function loaded
    from the compile cache differ in the last bits (numba re-optimises the cached copy with
    reassociation), so the same seed gave other NUTS draws on a cold and a warm cache. Without fastmath
    both copies are bitwise equal. Set through the environment when PyTensor is not imported yet
    (importing it costs a second).

    The lock: PyTensor holds it while it builds a C module, and a process that waits longer than
    ``compile__timeout`` gets filelock's Timeout from the compile, which the engine's C-then-numba policy
    took for a failed compile (issue 38, 8a: on two cores at load 8 another test worker's or catalog
    model's compiles held it that long). modemean's processes wait up to :data:`COMPILE_LOCK_WAIT`; a
    compile that still times out (PyTensor imported before modemean) is retried
    (:func:`~comparisons.density.compile.compile_fast`), not switched to numba.
    """
    flags = os.environ.get("PYTENSOR_FLAGS", "")
    if "numba__fastmath" not in flags:
        if "pytensor" in sys.modules:
            sys.modules["pytensor"].config.numba__fastmath = False
        else:
            flags = f"{flags},numba__fastmath=False".lstrip(",")
    if "compile__timeout" not in flags and "pytensor" not in sys.modules:
        flags = f"{flags},compile__timeout={COMPILE_LOCK_WAIT}".lstrip(",")
    if flags:
        os.environ["PYTENSOR_FLAGS"] = flags


def available_cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def chain_processes(chains: int) -> int:
    """The processes ``pm.sample`` runs ``chains`` chains in (its ``cores``); the draws are the same for any
    number (one seed per chain), only the time differs.

    One where a process may not have children (a Dask worker is daemonic). Otherwise one per chain, up to
    ``$MODEMEAN_CHAIN_PROCESSES`` when it is set, else up to the cores this process may use. A run of
    several models sets it in each worker to the cores divided among the models solved at once: where the
    cores are already busy, chains in processes of their own only add forking and passing every draw
    between processes (eight_schools at the defaults: 5.2 CPU-s in 2 processes, 3.2 in one).

    Raises
    ------
    ModemeanError
        ``$MODEMEAN_CHAIN_PROCESSES`` is not an integer >= 1.
    """
    if multiprocessing.current_process().daemon:
        return 1
    budget = os.environ.get(CHAIN_PROCESSES, "").strip()
    if not budget:
        return min(chains, available_cores())
    if not budget.isdigit() or int(budget) < 1:
        raise ModemeanError(
            f"{CHAIN_PROCESSES} must be an integer >= 1, got {budget!r}: set it to 1 or more, or unset it"
        )
    return min(chains, int(budget))


def quiet_libraries(*, runtime_warnings: bool = False) -> None:
    """PyMC's progress notes and sampler banners and PyMC/PyTensor's optimiser and numba notes off (what
    matters reaches the table's flags); with ``runtime_warnings`` NumPy's too (a study prints its progress
    only). The command line's setting, repeated in every worker process."""
    logging.getLogger("pymc").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", category=UserWarning, module=r"(pymc|pytensor)\.")
    if runtime_warnings:
        warnings.filterwarnings("ignore", category=RuntimeWarning)
