"""One model's compiled functions, shared by every spec that differs from it only in its observations.

A model file writes ``observed=data["y"]``: PyMC makes the array a constant of the graph, so every
function compiled from the model would have to be compiled again for other data. Here each observed
constant becomes a shared variable of the same type (:func:`share_observed`) right after ``build``,
and one :class:`Compiled` per built model keeps those variables and every function compiled from
the model: find_MAP's objective, the parameter space's density, gradient and Hessian-vector
products, the EM engines, the frozen model NUTS samples. :meth:`comparisons.spec.model_spec.ModelSpec.with_data`
gives a spec that shares its :class:`Compiled` when only observed arrays change; reading a spec's
``model``, ``written`` or ``em_engine`` loads that spec's own arrays into the shared variables
(:meth:`Compiled.load`, a no-op when they already hold them), so an earlier spec of the same model
stays valid and gives its own answers.

Specs sharing one :class:`Compiled` share mutable state (the data variables, the EM engines' warm
starts): solve them one at a time, in one thread (a Dask worker with one thread each is fine).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pymc as pm
import pytensor
from pytensor.graph.basic import Constant

__all__ = ["Compiled", "Source", "share_observed", "initial_point", "same_array", "cached"]


@dataclass(frozen=True)
class Source:
    """Where one data array goes: a shared variable holding it (its present entries, for an
    observation with missing values that PyMC imputes)."""

    key: str
    observed: str  # the observed variable's name
    variable: Any  # TensorSharedVariable
    present: np.ndarray | None  # boolean mask of the non-missing entries, or None


def share_observed(model: pm.Model) -> dict[str, Any]:
    """Turn each observed constant of ``model`` into a shared variable of the same type, in place.

    The log density graphs PyMC builds from now on read the observations from these variables
    (``model.rvs_to_values``); the values are unchanged. Observations that are not constants (a
    ``pm.Data``, an expression of the data) are left as they are.

    Returns
    -------
    dict of str to TensorSharedVariable
        Observed variable name to its new data variable.
    """
    out = {}
    for rv in list(model.observed_RVs):
        value = model.rvs_to_values[rv]
        if not isinstance(value, Constant):
            continue
        shared = pytensor.shared(np.array(value.data), name=f"{rv.name}_data", shape=value.type.shape)
        model.rvs_to_values[rv] = shared
        del model.values_to_rvs[value]
        model.values_to_rvs[shared] = rv
        out[rv.name] = shared
    return out


_INITIAL: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def initial_point(model: pm.Model) -> dict[str, np.ndarray]:
    """``model.initial_point()``, computed once per model (PyMC compiles a function on every call).

    The initial point does not depend on the observations, so it holds for every spec sharing the
    model. Do not modify the returned arrays.
    """
    if model not in _INITIAL:
        _INITIAL[model] = model.initial_point()
    return _INITIAL[model]


class Compiled:
    """The data variables of one built model and what has been compiled from it.

    Parameters
    ----------
    sources : list of Source
        Each data array that is an observation, and the shared variable that holds it.
    data : dict of str to ndarray
        The arrays the variables hold now (the spec ``build`` was given).

    Attributes
    ----------
    swappable : bool or None
        Whether a data array that is an observation is used by ``build`` for nothing else, so that
        swapping the variables' values gives the model ``build`` would give: ``None`` until
        :meth:`comparisons.spec.model_spec.ModelSpec.with_data` has checked it once, against a rebuild.
    """

    def __init__(self, sources: list[Source], data: dict[str, np.ndarray]):
        self.sources = list(sources)
        self.swappable: bool | None = None if sources else False
        self._loaded: dict[str, np.ndarray] = data
        self._cache: dict[Any, Any] = {}
        self._resets: list[Callable[[], None]] = []
        self._lock = threading.RLock()

    @property
    def keys(self) -> set[str]:
        """The data keys that are observations."""
        return {s.key for s in self.sources}

    def get(self, key: Any, make: Callable[[], Any]) -> Any:
        """The object cached under ``key``, made by ``make()`` on first use.

        An object with a ``reset()`` method has it called whenever other data are loaded (a cache
        of the last Hessian, an engine's warm start): it then behaves as if made on the new data.
        """
        with self._lock:
            if key not in self._cache:
                obj = make()
                self._cache[key] = obj
                if callable(getattr(obj, "reset", None)):
                    self._resets.append(obj.reset)
            return self._cache[key]

    def on_load(self, reset: Callable[[], None]) -> None:
        """Call ``reset()`` whenever other data are loaded."""
        self._resets.append(reset)

    def share(self, model: pm.Model) -> None:
        """Add the observed data variables of a copy of the model (a frozen one, for NUTS), matched by name."""
        with self._lock:
            mine = {s.observed: s for s in self.sources}
            for rv in model.observed_RVs:
                value = model.rvs_to_values[rv]
                if rv.name in mine and hasattr(value, "set_value"):
                    self.sources.append(Source(mine[rv.name].key, rv.name, value, mine[rv.name].present))

    def holds(self, old: dict[str, np.ndarray], new: dict[str, np.ndarray]) -> bool:
        """Whether ``new`` differs from ``old`` only in observations that the variables can hold.

        Each changed array must be an observation of this model, with the same missing entries,
        and exactly representable in the variable's dtype (counts stay integers).
        """
        for key, value in new.items():
            if same_array(value, old[key]):
                continue
            if key not in self.keys:
                return False
            for source in (s for s in self.sources if s.key == key):
                value = np.asarray(value)
                if source.present is not None and not np.array_equal(source.present, ~np.isnan(value)):
                    return False
                entries = value[source.present] if source.present is not None else value
                cast = entries.astype(source.variable.dtype)
                if entries.shape != tuple(source.variable.get_value(borrow=True).shape) or not np.array_equal(
                    cast, entries
                ):
                    return False
        return True

    def load(self, data: dict[str, np.ndarray]) -> None:
        """Put ``data``'s observations into the shared variables (nothing to do if they hold them).

        When the data change, every cached object's ``reset()`` is called.
        """
        with self._lock:
            if data is self._loaded:
                return
            for source in self.sources:
                value = np.asarray(data[source.key])
                entries = value[source.present] if source.present is not None else value
                source.variable.set_value(np.array(entries, dtype=source.variable.dtype))
            self._loaded = data
            for reset in self._resets:
                reset()


def cached(compiled: Compiled | None, key: Any, make: Callable[[], Any]) -> Any:
    """``compiled.get(key, make)``, or ``make()`` for a spec without a :class:`Compiled`."""
    return compiled.get(key, make) if compiled is not None else make()


def same_array(a, b) -> bool:
    """Same shape, dtype and values (NaN equal to NaN)."""
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
