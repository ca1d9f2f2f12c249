"""Read a researcher's CSV file for a formula, with one-line errors."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..errors import ModemeanError

__all__ = ["read_table"]


def read_table(path: str | Path) -> pd.DataFrame:
    """The CSV file at ``path`` as a data frame (first line: the column names).

    Raises
    ------
    ModemeanError
        No such file, or a file that does not parse as a CSV table with named columns and at least one row.
    """
    path = Path(path)
    if not path.is_file():
        raise ModemeanError(f"data file {str(path)!r} does not exist: give a path to a CSV file")
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ModemeanError(f"data file {str(path)!r} does not parse as CSV: {first}") from exc
    if frame.empty:
        raise ModemeanError(f"data file {str(path)!r} has no rows: a header line, then one row per observation")
    return frame
