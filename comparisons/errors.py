"""The engine's exception types.

:class:`ModemeanError` is the one a user sees: a problem they can act on, in one line.
:class:`DegenerateFitError` stays inside EM: an E-step raises it and :func:`comparisons.solvers.em.run_em`
ends that restart as degenerate, reporting its message.
:class:`ApproximationFailedError` stays inside the approximation family: an ``Approximation.draw`` raises it
where there is nothing to draw from, and ``Approximation.approximate`` returns a ``failed`` Fit with its message.
"""

__all__ = ["ModemeanError", "DegenerateFitError", "ApproximationFailedError", "interrupt", "interrupted"]


class ModemeanError(ValueError):
    """Bad input or an unusable model, with a message naming the problem and what to do.

    The CLI prints the message on one line and exits with status 2, without a traceback.
    """


class DegenerateFitError(ArithmeticError):
    """A component collapsed (likelihood unbounded); the message says which and what to do."""


class ApproximationFailedError(RuntimeError):
    """No approximation to draw from (no mode, a library missing, out of memory); the message says why.

    Parameters
    ----------
    message : str
    diagnostics : dict, optional
        What the approximation measured before it failed (the failed Fit's ``diagnostics``).
    """

    def __init__(self, message: str, diagnostics: dict | None = None):
        super().__init__(message)
        self.diagnostics = diagnostics or {}


_asked_to_stop = False


def interrupt(signum=None, frame=None):
    """Signal handler for SIGINT and SIGTERM: remember that the run was asked to stop, raise KeyboardInterrupt.

    Remembered because a library may swallow the KeyboardInterrupt: ``pm.sample`` interrupted before its
    first draw raises ``ValueError: Not enough samples to build a trace``, which would otherwise be saved
    as a failed solver, and cached, instead of an interrupted one (:func:`interrupted`).
    """
    global _asked_to_stop
    _asked_to_stop = True
    raise KeyboardInterrupt


def interrupted() -> bool:
    """Whether this process was asked to stop (:func:`interrupt` ran)."""
    return _asked_to_stop
