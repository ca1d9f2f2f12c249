"""Which EM engine a model gets, decided when it is loaded: discrete, continuous (derived), hand-written or none.

* Discrete latents written in the model: the solvers get the marginalised model and EM the discrete
  engine (:class:`comparisons.em.discrete.DiscreteEM`; a model file may add ``em_starts`` and a
  closed-form ``m_step``; an ``e_step`` is refused, it would be a second copy of the density).
* Otherwise (continuous latents, or labels the model has already summed out): the model file's
  hand-written ``em_starts``, ``e_step``, ``m_step``, all three or none
  (:class:`comparisons.em.engine.HandWritten`); with none, the latents must be free variables of the
  model and get :class:`ContinuousEM`: the exact Gaussian engine where ``log p(y, z | theta)`` is
  quadratic in ``z``, else the Laplace one (approximate). Telling the two apart compiles and tests the
  graph, so it is done on first use (reading stored results compiles nothing); its ``reason`` says
  when neither applies.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
import pymc as pm
from pytensor.graph.traversal import ancestors

from ..density.prior import LogPrior
from ..errors import ModemeanError
from ..spec.data import imputed_variables
from .boundary import Boundary
from .discrete import DiscreteEM, discrete_chain, discrete_latents, marginalize
from .discrete.engine import DiscreteLatentEM
from .engine import EM_HOOKS, EMEngine, HandWritten, Params, objective
from .gaussian.engine import GaussianLatentEM
from .gaussian.structure import NotGaussian
from .laplace import LaplaceLatentEM, NotLaplace

try:  # tiny LAPACK calls (a 2 x 2 triangular solve per graph node) crawl when OpenBLAS spins up threads
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn, not required
    from contextlib import nullcontext

    def threadpool_limits(*args, **kwargs):
        return nullcontext()


__all__ = ["ContinuousEM", "DerivedChoice", "check_latent_names", "check_not_hyperparameter", "choose_engine"]


def choose_engine(
    model: pm.Model,
    latent: tuple[str, ...],
    hooks: dict[str, Callable],
    name: str,
    build: Callable[[dict], pm.Model],
    data: dict[str, Any],
) -> tuple[pm.Model, EMEngine | None, pm.Model | None]:
    """The solvers' model, the EM engine (on ``data``) and the written model, per the kind of latent variable.

    Returns
    -------
    model : pymc.Model
        What find_MAP and NUTS see.
    engine : EMEngine or None
        ``None`` when there is nothing for EM to integrate out.
    written : pymc.Model or None
        The model as written when ``model`` is its marginalised version.

    Raises
    ------
    ModemeanError
        Incomplete EM steps, latents that are not free variables, a chain of discrete latents.
    """
    discrete = discrete_latents(model, latent) if latent else []
    if discrete:
        return _discrete(model, latent, discrete, hooks, name, build, data)
    if hooks and len(hooks) < len(EM_HOOKS):
        absent = [h for h in EM_HOOKS if h not in hooks]
        raise ModemeanError(f"model {name!r}: EM steps incomplete, missing {', '.join(absent)}")
    if latent and not hooks:
        check_latent_names(model, latent, name)
        check_not_hyperparameter(model, latent, name)
    if not hooks and (latent or imputed_variables(model)):  # derived; missing observations alone: EM integrates them
        integrated = (*latent, *(m.unobserved for m in imputed_variables(model)))
        return model, ContinuousEM(DerivedChoice(model, integrated), _params(model, integrated)), None
    if not hooks:
        return model, None, None
    steps = HandWritten(hooks["em_starts"], hooks["e_step"], hooks["m_step"], data, _params(model, latent))
    return model, steps, None


def _discrete(
    model: pm.Model,
    latent: tuple[str, ...],
    discrete: list[str],
    hooks: dict[str, Callable],
    name: str,
    build: Callable[[dict], pm.Model],
    data: dict[str, Any],
) -> tuple[pm.Model, EMEngine, pm.Model]:
    links = discrete_chain(model, discrete)
    if links:
        raise ModemeanError(f"model {name!r}: {_chain_message(links, len(discrete))}")
    if len(discrete) != len(latent) or len(discrete) > 1:
        raise ModemeanError(
            f"model {name!r}: LATENT {list(latent)} must be exactly one discrete latent variable "
            f"of the model (found discrete {discrete}); EM cannot mix discrete and continuous latents"
        )
    if "e_step" in hooks:
        raise ModemeanError(
            f"model {name!r}: the latent {discrete[0]!r} is discrete, so the E-step is derived from "
            "the PyMC model itself; remove e_step (em_starts and a closed-form m_step may stay)"
        )
    try:
        derived = DiscreteLatentEM(model, discrete[0])
        marginal = marginalize(model, derived.latent, derived.graph, derived.shape)
    except ModemeanError as exc:
        raise ModemeanError(f"model {name!r}: {exc}") from exc
    steps = DiscreteEM(derived, hooks.get("em_starts"), hooks.get("m_step"), build, data, _params(marginal, latent))
    return marginal, steps, model


def _params(model: pm.Model, integrated: tuple[str, ...]) -> list[str]:
    """What EM estimates: the free variables of the solvers' model that it does not integrate out."""
    return [rv.name for rv in model.free_RVs if rv.name not in integrated]


def _chain_message(links: list[tuple[str, str]], n: int) -> str:
    """One line for discrete latents that form a chain (a hidden Markov model): what, and the workaround."""
    (child, parent), (last, before) = links[0], links[-1]
    found = f"{child}'s distribution depends on {parent}" + (f", ..., {last}'s on {before}" if len(links) > 1 else "")
    return (
        f"LATENT declares a chain of {n} discrete latents ({found}): EM does not support Markov-chain "
        "latents yet; sum them out with the forward algorithm in a pm.Potential and set LATENT = () "
        "(README, 'How to add a model')"
    )


def check_latent_names(model: pm.Model, latent: tuple[str, ...], name: str) -> None:
    """Every name in ``latent`` must be a free random variable of ``model`` (one line otherwise)."""
    free = {rv.name for rv in model.free_RVs}
    for item in latent:
        if item in free:
            continue
        if item in model.named_vars:
            kind = (
                "an observed variable"
                if model[item] in model.observed_RVs
                else "a deterministic"
                if model[item] in model.deterministics
                else "not a free random variable"
            )
            raise ModemeanError(
                f"model {name!r}: LATENT names {item!r}, which is {kind}: EM integrates out free "
                f"random variables only (free variables: {', '.join(sorted(free))})"
            )
        raise ModemeanError(
            f"model {name!r}: LATENT names {item!r}, which is not a variable of the model "
            f"(free variables: {', '.join(sorted(free))})"
        )
    if len(free - set(latent)) == 0:
        raise ModemeanError(
            f"model {name!r}: LATENT {list(latent)} declares every free variable latent: "
            "nothing would be left for EM to estimate"
        )


def check_not_hyperparameter(model: pm.Model, latent: tuple[str, ...], name: str) -> None:
    """No name in ``latent`` may be a parameter of another free variable's distribution (one line otherwise).

    EM integrates the latents out given the parameters, so a parameter's prior cannot depend on a
    latent: ``tau`` in ``theta ~ N(mu, tau)`` is a hyper-parameter, and the variables it scales
    (``theta``) are the latents.
    """
    integrated = set(latent) | {m.unobserved for m in imputed_variables(model)}
    for rv in model.free_RVs:
        if rv.name in integrated:
            continue
        found = [item for item in latent if model[item] in set(ancestors(rv.owner.inputs))]
        if found:
            raise ModemeanError(
                f"model {name!r}: LATENT names {found[0]!r}, which cannot be a latent: it is a parameter of the "
                f"distribution of the free variable {rv.name!r}, and EM integrates latents out given the "
                f"parameters; declare the random effects it scales instead (LATENT = ({rv.name!r},))"
            )


class DerivedChoice:
    """The continuous engine derived from one model's graph, chosen on first use; shared by every spec of it.

    The exact Gaussian engine where ``log p(y, z | theta)`` is quadratic in ``z``, else the Laplace
    engine (approximate); where neither applies, :meth:`reason` says why.
    """

    def __init__(self, model: pm.Model, integrated: tuple[str, ...], seed: int = 0):
        self.model, self.integrated, self.seed = model, integrated, seed
        self._chosen = False
        self._engine: GaussianLatentEM | None = None
        self._reason = ""
        self._boundary: dict[bool, Boundary] = {}  # the M-step per column (with the prior or not)

    def engine(self) -> GaussianLatentEM | None:
        """The engine (compiled on the first call), or ``None`` where neither applies."""
        if not self._chosen:
            self._chosen = True
            try:
                self._engine = GaussianLatentEM(self.model, self.integrated, self.seed)
            except NotGaussian as exact:
                try:
                    self._engine = LaplaceLatentEM(self.model, self.integrated, self.seed)
                except NotLaplace as laplace:
                    self._reason = (
                        f"the latent variable(s) {list(self.integrated)} have no EM steps in the model file and "
                        f"fit neither automatic E-step: the exact Gaussian one needs log p(y, z | theta) quadratic "
                        f"in z, and here {exact}; the Laplace one (approximate) needs a peak in z with a usable "
                        f"Hessian, and here {laplace}. Write em_starts, e_step and m_step in the model file"
                    )
        return self._engine

    def reason(self) -> str:
        """``""`` when an engine applies, else why neither does."""
        self.engine()
        return self._reason

    def applicable(self) -> GaussianLatentEM:
        """The engine, for the steps (which run only where EM applies)."""
        eng = self.engine()
        if eng is None:
            raise ModemeanError(f"EM does not apply: {self.reason()}")
        return eng

    def boundary(self, with_prior: bool) -> Boundary:
        """The M-step with the boundary test and SQUAREM, one per column (it remembers its checks)."""
        if with_prior not in self._boundary:
            self._boundary[with_prior] = Boundary(self.applicable(), with_prior)
        return self._boundary[with_prior]

    def reset(self) -> None:
        """New observations (:mod:`comparisons.spec.observations`): start as a freshly built engine would."""
        self._boundary.clear()
        if self._engine is not None:
            self._engine.reset()


@dataclasses.dataclass(frozen=True)
class ContinuousEM:
    """EM for continuous latents (and missing observations) derived from the graph: Gaussian or Laplace.

    Its steps read no data (the model holds the observations), so :meth:`bind` returns it unchanged.
    """

    choice: DerivedChoice
    params: list[str]

    @property
    def integrated(self) -> tuple[str, ...]:
        return self.choice.integrated

    @property
    def derived(self) -> GaussianLatentEM | None:
        """The Gaussian or Laplace engine (compiled on first use), or ``None`` where neither applies."""
        return self.choice.engine()

    @property
    def kind(self) -> str:
        eng = self.choice.engine()
        return eng.KIND if eng is not None else ""

    @property
    def reason(self) -> str:
        return self.choice.reason()

    def bind(self, data: dict[str, Any]) -> ContinuousEM:
        return self

    def starts(self, n_init: int, rng: np.random.Generator) -> list[Params]:
        return self.choice.applicable().starts(n_init, rng)

    def e_step(self, params: Params) -> tuple[Any, float]:
        with threadpool_limits(1, user_api="blas"):
            return self.choice.applicable().e_step(params)

    def m_step(self, expectations: Any, prior: LogPrior | None) -> Params:
        with threadpool_limits(1, user_api="blas"):
            return self.choice.boundary(prior is not None).m_step(expectations)

    def objective(self, params: Params, prior: LogPrior | None) -> tuple[Any, float]:
        return objective(self.e_step, params, prior)

    def reset(self) -> None:
        self.choice.reset()
