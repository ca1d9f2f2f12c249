"""The engine's exception types.

:class:`ModemeanError` is the one a user sees: a problem they can act on, in one line.
:class:`DegenerateFitError` stays inside EM: an E-step raises it and :func:`comparisons.solvers.em.run_em`
ends that restart as degenerate, reporting its message.
"""

__all__ = ["ModemeanError", "DegenerateFitError"]


class ModemeanError(ValueError):
    """Bad input or an unusable model, with a message naming the problem and what to do.

    The CLI prints the message on one line and exits with status 2, without a traceback.
    """


class DegenerateFitError(ArithmeticError):
    """A component collapsed (likelihood unbounded); the message says which and what to do."""
