"""The one exception type a user sees: a problem they can act on, in one line."""

__all__ = ["ModemeanError"]


class ModemeanError(ValueError):
    """Bad input or an unusable model, with a message naming the problem and what to do.

    The CLI prints the message on one line and exits with status 2, without a traceback.
    """
