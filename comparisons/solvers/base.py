"""What a solver declares about itself, and the one validator of run options.

Importable without PyMC: the declarations are plain data.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from ..errors import ModemeanError

if TYPE_CHECKING:
    import pandas as pd

    from ..results.fit import Fit
    from ..spec.model_spec import ModelSpec

__all__ = ["Column", "Option", "Solver", "SEED"]


@dataclass(frozen=True)
class Column:
    """A column of the comparison table that a solver fills.

    Attributes
    ----------
    help : str
        One line saying what the number is (the report's column tooltip, the README's schema).
    marker : str or None
        Legend label when the column is drawn as a vertical line on the density figures; ``None``
        for a column that is not a location (an sd, an HDI end, a diagnostic).
    check : bool
        A per-parameter diagnostic (R-hat, ESS): placed after the estimates and the gaps.
    printed : bool
        Shown in the table the command line prints (``results.json`` and the reports have every column).
    inputs : tuple of str
        For a column computed from other columns (perhaps other solvers'): the columns it reads.
    formula : callable, optional
        ``formula(table) -> Series``, evaluated on the merged table once every solver's estimates
        are in (NaN where an input is missing); the solver's ``fit`` does not fill such a column.
    """

    help: str
    marker: str | None = None
    check: bool = False
    printed: bool = True
    inputs: tuple[str, ...] = ()
    formula: Callable[[pd.DataFrame], pd.Series] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Option:
    """A run option, declared sklearn-style and checked by :meth:`check`.

    Attributes
    ----------
    type : {int, str}
    default : int or str
    help : str
        The command-line help, without the default (added).
    low : int, optional
        Smallest allowed value of an integer option.
    choices : tuple of str, optional
        Allowed values of a string option.
    words : str, optional
        How the rule reads in an error (``"a non-negative integer"``); default ``"an integer >= low"``.
    """

    type: type
    default: Any
    help: str
    low: int | None = None
    choices: tuple[str, ...] | None = None
    words: str | None = None

    def check(self, name: str, value: Any) -> None:
        """Raise :class:`ModemeanError` naming ``name``, the rule and the value, if ``value`` breaks the rule."""
        if self.type is int:
            if isinstance(value, bool) or not isinstance(value, int) or (self.low is not None and value < self.low):
                raise ModemeanError(f"{name} must be {self.words or f'an integer >= {self.low}'}, got {value!r}")
        elif self.choices is not None and value not in self.choices:
            raise ModemeanError(f"unknown {name} {value!r}: choose from {', '.join(self.choices)}")
        elif not isinstance(value, self.type):
            raise ModemeanError(f"{name} must be a {self.type.__name__}, got {value!r}")


SEED = Option(int, 20261126, "random seed", low=0, words="a non-negative integer")  # every solver gets it


@dataclass(frozen=True)
class Solver(ABC):
    """A solver: what it declares, and one hook, :meth:`fit`.

    Subclasses set the class attributes and implement :meth:`fit`; everything else (the table's
    columns, the cache, the run options and command-line flags, the results schema that the
    reports read) is derived from these declarations by :mod:`comparisons.solvers`.

    Attributes
    ----------
    name : str
        Registry key, ``--solvers`` name and prefix of its notes (``"map"``).
    label : str
        How reports name it (``"find_MAP"``).
    columns : dict of str to Column
        The comparison-table columns it fills, in display order. A column has one owner.
    options : dict of str to Option
        Its run options besides ``seed`` (keyword arguments of :meth:`fit`, command-line flags
        ``--name-with-dashes``). An option name means one thing in every solver that declares it.
    has_draws : bool
        Its :class:`~comparisons.results.fit.Fit` carries draws (a DataTree with a ``posterior`` group);
        they are stored in ``results.nc`` under :attr:`draws_group`.
    draws_group : str
        Where its draws go in ``results.nc``: ``"draws_<name>"``, or ``"/"`` for the reference
        posterior at the root (NUTS: ``posterior`` and ``sample_stats`` where ArviZ expects them).
    default : bool
        Run when ``--solvers`` is not given.
    """

    name: ClassVar[str]
    label: ClassVar[str]
    columns: ClassVar[dict[str, Column]]
    options: ClassVar[dict[str, Option]] = {}
    has_draws: ClassVar[bool] = False
    draws_group: ClassVar[str | None] = None
    default: ClassVar[bool] = True

    @abstractmethod
    def fit(self, spec: ModelSpec, *args: Any, **options: Any) -> Fit:
        """Solve ``spec``; ``seed`` and every option declared in :attr:`options` are passed by keyword.

        A subclass names them: ``fit(self, spec, *, seed: int, n_starts: int)``. The base signature is
        the typing spec's gradual form ``(spec, *args: Any, **kwargs: Any)``, which every such override
        matches (the keywords differ per solver; :mod:`comparisons.solvers` checks them against
        :attr:`options` before calling).
        """

    def check(self, options: dict[str, Any]) -> None:  # noqa: B027 -- an optional hook: no check by default
        """Checks beyond each option's own rule (e.g. an optional package being installed); raise ModemeanError."""

    @property
    def group(self) -> str | None:
        """The ``results.nc`` group of its draws (``None`` without draws)."""
        if not self.has_draws:
            return None
        return self.draws_group or f"draws_{self.name}"
