"""A model ready to solve (:class:`ModelSpec`): assembled from a build function and checked data, and
rebuilt (or its observations swapped) on other data (:meth:`ModelSpec.with_data`, :func:`observed_keys`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pymc as pm

from ..density.compile import compile_small
from ..em.choose import choose_engine
from ..em.engine import EM_HOOKS, EMEngine
from ..errors import ModemeanError
from .data import check_data, check_missing, missing
from .observations import Compiled, Source, cached, initial_point, same_array, share_observed

__all__ = ["ModelSpec", "assemble", "call_build", "observed_keys", "spec_from_parts"]


@dataclass(frozen=True)
class ModelSpec:
    """A model ready to solve: its metadata, its data and the built PyMC model.

    Attributes
    ----------
    name : str
        Catalog name, or the file's stem for a model file outside the catalog.
    info : dict
        ``title``, ``story``, ``why_skewed``, ``references`` (each optional in the model file: the title
        defaults to the name, the others to empty) and ``missing``, the INFO fields the file did not give.
    data : dict of str to ndarray
        What ``build`` was given.
    model : pymc.Model
        The model the solvers see. When the latent variables are discrete (mixture labels,
        zero-inflation flags, shifts) this is the model with them summed out
        (:func:`comparisons.em.discrete.marginalize`); otherwise the model as written.
    latent : tuple of str
        Variables EM integrates out (may name variables that are not in ``model``, such as
        mixture labels that the PyMC model has already summed out).
    em_engine : EMEngine or None
        The EM engine (:class:`comparisons.em.engine.EMEngine`) on this spec's data, chosen at load
        (:func:`comparisons.em.choose.choose_engine`): discrete, continuous (Gaussian or Laplace, decided
        on first use), the model file's hand-written steps, or ``None`` when there is nothing to integrate.
    sample_kwargs : dict
        Extra keyword arguments for ``pymc.sample`` (the model file's ``SAMPLER``), e.g.
        ``{"target_accept": 0.95}``.
    source : str
        Where the model came from (module file path), for the results' metadata.
    written : pymc.Model or None
        The model as written, with its discrete latent variables, when ``model`` is its
        marginalised version; ``None`` otherwise.
    highlights : callable or None
        The model's optional ``highlights(comparison) -> dict``: model-specific numbers for the
        report (e.g. the Laplace approximation's mass on beta < 0), stored in ``results.json``.
    payload : callable or None
        The model's optional ``payload(comparison) -> {name: ndarray}``: arrays its report section
        draws (e.g. the true image and a few observations), stored in ``results.nc`` (group ``payload``).
    build : callable or None
        The model file's ``build(data) -> pm.Model``, for :meth:`with_data`.
    hooks : dict of str to callable
        The EM steps the model file itself wrote (``em_starts``, ``e_step``, ``m_step``), before any
        were derived from the graph, for :meth:`with_data`.
    truth : dict of str to array_like or None
        The model file's optional ``TRUTH = {name: value}``: parameter values a simulation study can
        hold fixed (``modemean study --truth fixed``).
    compiled : Compiled or None
        The model's observations as shared variables and every function compiled from it
        (:mod:`comparisons.spec.observations`), shared with the specs :meth:`with_data` derives when only
        observations change. Reading :attr:`model`, :attr:`written` or :attr:`em_engine` loads this
        spec's observations into those variables (a no-op when they hold them already).
    """

    name: str
    info: dict[str, Any]
    data: dict[str, np.ndarray]
    _model: pm.Model
    latent: tuple[str, ...]
    _em: EMEngine | None
    sample_kwargs: dict[str, Any]
    source: str
    _written: pm.Model | None = None
    highlights: Callable | None = None
    payload: Callable | None = None
    build: Callable[[dict], pm.Model] | None = None
    hooks: dict[str, Callable] = dataclasses.field(default_factory=dict)
    truth: dict[str, Any] | None = None
    compiled: Compiled | None = None

    @property
    def model(self) -> pm.Model:
        """The model the solvers see, holding this spec's observations (see :attr:`compiled`)."""
        self._load()
        return self._model

    @property
    def written(self) -> pm.Model | None:
        """The model as written, with its discrete latents, when :attr:`model` is its marginalised version."""
        self._load()
        return self._written

    @property
    def em_engine(self) -> EMEngine | None:
        """The EM engine (see the class docstring), bound to this spec's data and observations."""
        self._load()
        return self._em.bind(self.data) if self._em is not None else None

    def _load(self) -> None:
        if self.compiled is not None:
            self.compiled.load(self.data)

    def with_data(self, data: dict[str, Any]) -> ModelSpec:
        """The same model on other data, latents and EM steps as at load.

        When only observed arrays change (same shapes, same missing entries; e.g. simulated
        observations, :func:`observed_keys`), the new spec shares this one's model and every function
        compiled from it (:attr:`compiled`): solving it compiles nothing. This spec stays valid: reading
        either spec's ``model``, ``written`` or ``em_engine`` loads its own observations first, so solve specs
        of one model one at a time (one thread). Any other change (a covariate, a known standard
        error) rebuilds the model with ``build(data)``, compiled afresh. The first call checks, once per
        model, that the swapped model equals that rebuild (log density and initial point, at two
        points): a ``build`` that uses an observed array for anything else (a prior centred on its
        mean, say) always rebuilds.

        Parameters
        ----------
        data : dict of str to array_like
            The same keys as :attr:`data`, each the same shape.

        Returns
        -------
        ModelSpec
            Name, metadata, sampler settings and source unchanged.

        Raises
        ------
        ModemeanError
            A key missing or extra, a shape that differs, or ``build`` failing on the new data.
        """
        if self.build is None:
            raise ModemeanError(f"model {self.name!r}: no build function to rebuild it on new data")
        if set(data) != set(self.data):
            raise ModemeanError(
                f"model {self.name!r}: new data must have the keys {sorted(self.data)}, got {sorted(data)}"
            )
        for key, value in data.items():
            if np.shape(value) != np.shape(self.data[key]):
                raise ModemeanError(
                    f"model {self.name!r}: new data[{key!r}] has shape {np.shape(value)}, "
                    f"the model's data has {np.shape(self.data[key])}: give arrays of the same shapes"
                )
        data = check_data(data, self.name)
        compiled = self.compiled
        unchanged = all(same_array(data[k], self.data[k]) for k in data)
        if compiled is not None and (compiled.swappable or unchanged) and compiled.holds(self.data, data):
            return dataclasses.replace(self, data=data)
        fresh = assemble(
            self.build, data, self.name, self.info, self.latent, dict(self.hooks), self.sample_kwargs, self.source,
            self.highlights, self.payload, self.truth,
        )  # fmt: skip
        if compiled is not None and compiled.swappable is None and compiled.holds(self.data, data):
            swapped = dataclasses.replace(self, data=data)  # checked once per model against the rebuild
            compiled.swappable = _same_model(swapped, fresh)
            if compiled.swappable:
                return swapped
        return fresh

    @property
    def as_written(self) -> pm.Model:
        """The model as written (with explicit discrete latents, if any)."""
        return self.written if self.written is not None else self.model

    @property
    def em_reason(self) -> str:
        """Why EM does not apply, or ``""`` when it does."""
        engine = self.em_engine
        if engine is None and not self.latent:
            return (
                "the model declares no latent variables (LATENT is empty) and has no missing observations, so "
                "there is nothing for EM to integrate out"
            )
        if engine is None:
            return f"the model declares latent variables {list(self.latent)} but no EM steps ({', '.join(EM_HOOKS)})"
        return engine.reason  # the continuous engines decide on first use (comparisons.em.choose)

    @property
    def params(self) -> list[str]:
        """Names of the free random variables that are parameters (not latent)."""
        return [rv.name for rv in self.model.free_RVs if rv.name not in self.latent]

    @property
    def em_params(self) -> list[str]:
        """The parameters EM estimates: :attr:`params` less the missing observations EM integrates out."""
        engine = self.em_engine
        return list(engine.params) if engine is not None else self.params


def spec_from_parts(
    build: Callable[[dict], pm.Model],
    data: dict[str, Any],
    *,
    name: str = "custom",
    info: dict[str, Any] | None = None,
    latent: tuple[str, ...] = (),
    em: dict[str, Callable] | None = None,
    sample_kwargs: dict[str, Any] | None = None,
) -> ModelSpec:
    """Make a spec from a build function and its data, for models that live in a notebook."""
    info = {"title": name, "story": "", "why_skewed": "", "references": [], **(info or {})}
    data = check_data(data, name)
    return assemble(
        build, data, name, info, tuple(latent), dict(em or {}), dict(sample_kwargs or {}), "<python>", None, None
    )


def assemble(
    build: Callable[[dict], pm.Model],
    data: dict[str, np.ndarray],
    name: str,
    info: dict[str, Any],
    latent: tuple[str, ...],
    hooks: dict[str, Callable],
    sample_kwargs: dict[str, Any],
    source: str,
    highlights: Callable | None,
    payload: Callable | None,
    truth: dict[str, Any] | None = None,
    built: Any = None,
) -> ModelSpec:
    """Build the model on checked ``data`` (unless ``built`` is it), its observations as shared variables,
    and derive latents and EM."""
    built = _build(build, data, name, built)
    shared = share_observed(built)
    model, em, written = choose_engine(built, latent, dict(hooks), name, build, data)
    compiled = Compiled([], data)
    spec = ModelSpec(
        name, info, data, model, latent, em, sample_kwargs, source, written, highlights, payload, build, dict(hooks),
        truth, compiled,
    )  # fmt: skip
    try:
        keys = observed_keys(spec)
    except ModemeanError:  # an observation computed from the data: other data always rebuild the model
        keys = {}
    for variable, key in keys.items():
        if variable not in shared:  # observed through the model's own pm.Data: new data rebuild the model
            continue
        array = np.asarray(data[key])
        present = ~np.isnan(array) if array.dtype.kind == "f" and np.isnan(array).any() else None
        compiled.sources.append(Source(key, variable, shared[variable], present))
    compiled.swappable = None if compiled.sources else False
    if em is not None:
        compiled.on_load(em.reset)
    return spec


def _same_model(swapped: ModelSpec, fresh: ModelSpec) -> bool:
    """Whether two specs' models as written have the same initial point and log density (at it and at a
    jittered point): the check that a model with swapped observations is the one ``build`` makes."""
    a, b = swapped.as_written, fresh.as_written
    start_a, start_b = initial_point(a), initial_point(b)
    if set(start_a) != set(start_b) or not all(np.array_equal(start_a[k], start_b[k]) for k in start_a):
        return False
    rng = np.random.default_rng(0)
    jittered = {k: v + rng.uniform(-0.5, 0.5, np.shape(v)) if v.dtype.kind == "f" else v for k, v in start_a.items()}
    points = [start_a, jittered]
    f_a = cached(swapped.compiled, "same_model", lambda: _logp_function(a))
    f_b = _logp_function(b)
    with np.errstate(all="ignore"):
        for point in points:
            try:
                x, y = float(f_a(point)), float(f_b(point))
            except Exception:  # noqa: BLE001 -- undefined at that point in one: compare whether both are
                return False
            if not (x == y or abs(x - y) <= 1e-10 * max(1.0, abs(y))):
                return False
    return True


def _logp_function(model: pm.Model) -> Callable[[dict], float]:
    values = model.value_vars
    f = compile_small(values, model.logp(), on_unused_input="ignore")
    return lambda point: f(*(point[v.name] for v in values))


def observed_keys(spec: ModelSpec) -> dict[str, str]:
    """Which data array each observed variable of the model as written is, ``{variable: data key}``.

    A key matches when its array equals the variable's observed values (for a variable with
    missing entries that PyMC imputes, ``<name>_observed``, when its non-missing entries do).
    Covariates, known standard errors and other inputs match no observed variable.

    Raises
    ------
    ModemeanError
        An observed variable that is no data array as given (e.g. ``observed=np.log(data["y"])``):
        the model cannot be refitted on simulated data through its data.
    """
    model = spec.as_written
    keys: dict[str, str] = {}
    for rv in model.observed_RVs:
        value = model.rvs_to_values[rv]
        observed = np.asarray(value.data if hasattr(value, "data") else value.get_value())
        for key, array in spec.data.items():
            values, absent = np.asarray(np.ma.getdata(array)), missing(array)  # masked or NaN, as run accepts
            present = values[~absent] if absent.any() else values
            if present.shape == observed.shape and np.array_equal(present, observed):
                keys[rv.name] = key
                break
        else:
            raise ModemeanError(
                f"model {spec.name!r}: the observed variable {rv.name!r} is not one of the data arrays "
                f"{sorted(spec.data)} as given (is it computed from them?): pass the observations to "
                "build() unchanged, e.g. observed=data['y'], to simulate and refit it"
            )
    return keys


def call_build(build: Callable, data: dict, name: str) -> Any:
    try:
        return build(data)
    except Exception as exc:
        raise ModemeanError(f"model {name!r}: build(data) raised {type(exc).__name__}: {exc}") from exc


def _build(build: Callable, data: dict, name: str, model: Any = None) -> pm.Model:
    model = call_build(build, data, name) if model is None else model
    if not isinstance(model, pm.Model):
        raise ModemeanError(f"model {name!r}: build(data) must return a pymc.Model, got {type(model).__name__}")
    check_missing(data, model, name)  # missing values PyMC did not impute are refused, naming the data
    return model
