"""Whether the density can be evaluated where the solvers start, and the free discrete parameters that no
continuous solver can take (with one line saying what to do)."""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor

from ..em.discrete.graph import support
from ..errors import ModemeanError
from .compile import SMALL_GRAPH_MODE

__all__ = ["check_start", "free_discrete", "discrete_message"]


def check_start(model: pm.Model, name: str) -> None:
    """Raise if the log density is not finite at the model's initial point, naming the terms.

    Examples
    --------
    Negative counts under a Poisson likelihood make the term of ``y`` ``-inf``; the message names
    ``y`` and suggests checking the data against the distribution's support.
    """
    try:  # a one-off evaluation: PyTensor's Python code, no compiler (numba took ~60 s of a cold first run)
        with pytensor.config.change_flags(cxx=""):
            terms = model.point_logps(mode=SMALL_GRAPH_MODE)
    except Exception as exc:  # noqa: BLE001 -- a shape clash between data and model surfaces here
        raise ModemeanError(
            f"model {name!r}: the log density cannot be evaluated at the initial point "
            f"({type(exc).__name__}: {str(exc).splitlines()[0]}); check the data's shapes "
            "against the model"
        ) from exc
    bad = {k: v for k, v in terms.items() if not np.isfinite(v)}
    if bad:
        listing = ", ".join(f"{k} = {v}" for k, v in bad.items())
        raise ModemeanError(
            f"model {name!r}: the log density is not finite at the initial point ({listing}): "
            "check the data against each distribution's support and the priors' parameters"
        )


def free_discrete(model: pm.Model) -> list:
    """The model's free random variables that are discrete (after any declared latent was summed out)."""
    discrete = set(model.discrete_value_vars)
    return [rv for rv in model.free_RVs if model.rvs_to_values[rv] in discrete]


def discrete_message(rvs: list, who: str) -> str:
    """One line for free discrete parameters: what cannot be done with them and advice that works.

    LATENT is advised only for what EM can sum out (a support it enumerates: Bernoulli, Categorical,
    DiscreteUniform); for the others (a Poisson's countably infinite support, a Binomial) the line says
    what does work: marginalise by hand, truncate to a finite support, or observe the variable.
    """
    enumerable = [rv for rv in rvs if _enumerable(rv)]
    others = [rv for rv in rvs if rv not in enumerable]
    parts = []
    if enumerable:
        it = "it" if len(enumerable) == 1 else "them"
        parts.append(
            f"{_listing(enumerable)} {_is(enumerable)} discrete and not declared latent: declare {it} in LATENT "
            f"(finite support: EM then sums {it} out and every solver sees the marginal model), or marginalise "
            f"{it} in the model by hand"
        )
    if others:
        it = "it" if len(others) == 1 else "them"
        parts.append(
            f"{_listing(others)} {_is(others)} discrete, and LATENT cannot sum {it} out (EM enumerates only "
            "Bernoulli, Categorical and DiscreteUniform latents): marginalise "
            f"{it} by hand (pm.Mixture, or a pm.Potential with the log of the sum over a truncated range), "
            f"truncate {it} to a finite support (pm.Categorical or pm.DiscreteUniform over 0..K, then LATENT), "
            f"or make {it} observed"
        )
    return f"{who}, but " + "; and ".join(parts)


def _listing(rvs: list) -> str:
    return ", ".join(f"{rv.name} ({type(rv.owner.op).__name__.removesuffix('RV')})" for rv in rvs)


def _is(rvs: list) -> str:
    return "is" if len(rvs) == 1 else "are"


def _enumerable(rv) -> bool:
    """Whether EM can sum ``rv`` out (LATENT accepts it): its support is a finite list it enumerates."""
    try:
        support(rv)
    except ModemeanError:
        return False
    return True
