"""Load a model (catalog name or a researcher's own file), check its contract and its data."""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pymc as pm

from modemean import models

from .checks import check_data, missing
from .compiled import Compiled, Source, cached, initial_point, same_array, share_observed
from .density.compile import compile_small
from .discrete import discrete_chain, discrete_hooks, discrete_latents, marginalize
from .errors import ModemeanError
from .gaussian import check_latent_names, check_not_hyperparameter, gaussian_hooks
from .missing import check_missing, imputed_variables
from .run.output import check_target

__all__ = ["ModelSpec", "contract_problems", "load_spec", "observed_keys", "spec_from_parts"]

INFO_KEYS = ("title", "story", "why_skewed", "references")
INFO_DEFAULTS: dict[str, Any] = {"story": "", "why_skewed": "", "references": []}  # title: the model's name
EM_HOOKS = ("em_starts", "e_step", "m_step")


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
        (:func:`comparisons.discrete.marginalize`); otherwise the model as written.
    latent : tuple of str
        Variables EM integrates out (may name variables that are not in ``model``, such as
        mixture labels that the PyMC model has already summed out).
    em : dict of str to callable
        ``em_starts``, ``e_step``, ``m_step`` and ``kind()`` (the ``em_kind`` reported: ``"exact
        (discrete)"``, ``"exact (Gaussian)"``, ``"Laplace (approximate)"`` or ``"hand-written"``);
        empty when EM does not apply. For a discrete
        latent they are derived from the model's graph (the model file may give ``em_starts``
        and a closed-form ``m_step``), and ``fast_e_step`` may be added
        (:func:`comparisons.discrete.discrete_hooks`).
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
        (:mod:`comparisons.compiled`), shared with the specs :meth:`with_data` derives when only
        observations change. Reading :attr:`model`, :attr:`written` or :attr:`em` loads this
        spec's observations into those variables (a no-op when they hold them already).
    """

    name: str
    info: dict[str, Any]
    data: dict[str, np.ndarray]
    _model: pm.Model
    latent: tuple[str, ...]
    _em: dict[str, Callable]
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
    def em(self) -> dict[str, Callable]:
        """The EM hooks (see the class docstring), on this spec's observations."""
        self._load()
        return self._em

    def _load(self) -> None:
        if self.compiled is not None:
            self.compiled.load(self.data)

    def with_data(self, data: dict[str, Any]) -> ModelSpec:
        """The same model on other data, latents and EM steps as at load.

        When only observed arrays change (same shapes, same missing entries; e.g. simulated
        observations, :func:`observed_keys`), the new spec shares this one's model and every function
        compiled from it (:attr:`compiled`): solving it compiles nothing. This spec stays valid: reading
        either spec's ``model``, ``written`` or ``em`` loads its own observations first, so solve specs
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
        fresh = _assemble(
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
        if not self.latent and not self.em:
            return (
                "the model declares no latent variables (LATENT is empty) and has no missing observations, so "
                "there is nothing for EM to integrate out"
            )
        if not self.em:
            return f"the model declares latent variables {list(self.latent)} but no EM steps ({', '.join(EM_HOOKS)})"
        if "reason" in self.em:  # derived steps that may not apply (comparisons.gaussian), decided on first use
            return self.em["reason"]()
        return ""

    @property
    def params(self) -> list[str]:
        """Names of the free random variables that are parameters (not latent)."""
        return [rv.name for rv in self.model.free_RVs if rv.name not in self.latent]

    @property
    def em_params(self) -> list[str]:
        """The parameters EM estimates: :attr:`params` less the missing observations EM integrates out."""
        integrated = self.em["integrated"]() if "integrated" in self.em else ()
        return [name for name in self.params if name not in integrated]


def load_spec(target: str | Path | ModuleType) -> ModelSpec:
    """Load a catalog model by name, a model file by path, or an imported module.

    Raises
    ------
    ModemeanError
        Unknown name (with close matches), a file that does not exist or raises on import, a
        module that breaks the contract (naming the missing part), or bad data.
    """
    if isinstance(target, ModuleType):
        module = target
    elif str(target).endswith(".py") or Path(str(target)).is_file():
        module = _import_file(Path(target))
    else:
        module = _import_catalog(str(target))
    return _spec_from_module(module)


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
    return _assemble(
        build, data, name, info, tuple(latent), dict(em or {}), dict(sample_kwargs or {}), "<python>", None, None
    )


def _import_catalog(name: str) -> ModuleType:
    check_target(name)  # an unknown name: its close matches
    try:
        return models.get(name)
    except Exception as exc:  # a broken catalog file must still give a one-line message
        raise ModemeanError(f"model {name!r} raised on import: {type(exc).__name__}: {exc}") from exc


def _import_file(path: Path) -> ModuleType:
    check_target(str(path))  # no such file
    path = path.resolve()
    mod_name = f"modemean_user_{path.stem}_{hashlib.sha256(str(path).encode()).hexdigest()[:12]}"
    loader_spec = importlib.util.spec_from_file_location(mod_name, path)
    if loader_spec is None or loader_spec.loader is None:  # a suffix no import loader knows (model.txt)
        raise ModemeanError(f"model file {str(path)!r} cannot be imported as Python: give a path to a .py file")
    module = importlib.util.module_from_spec(loader_spec)
    sys.modules[mod_name] = module
    # the researcher's project is importable while the file is (from models.common import helper), as when
    # run with python: its root is the first parent folder that is not a package (has no __init__.py)
    root = next((str(p) for p in path.parents if not (p / "__init__.py").is_file()), str(path.parent))
    added = root not in sys.path
    if added:
        sys.path.insert(0, root)
    try:
        loader_spec.loader.exec_module(module)
    except Exception as exc:
        sys.modules.pop(mod_name, None)
        raise ModemeanError(f"model file {str(path)!r} raised on import: {type(exc).__name__}: {exc}") from exc
    finally:
        if added and root in sys.path:
            sys.path.remove(root)
    return module


def _spec_from_module(module: ModuleType) -> ModelSpec:
    file = getattr(module, "__file__", None) or module.__name__
    name = Path(file).stem if file.endswith(".py") else module.__name__
    problems = contract_problems(module)
    if problems:  # every one at once, not one per try
        raise ModemeanError(
            f"model {name!r} does not follow the contract: {'; '.join(problems)} (see docs/model-file.md)"
        )
    given = dict(getattr(module, "INFO", {}))
    info = {**INFO_DEFAULTS, "title": name, **given, "missing": [k for k in INFO_KEYS if k not in given]}
    latent = tuple(getattr(module, "LATENT", ()))
    present = [h for h in EM_HOOKS if callable(getattr(module, h, None))]
    em = {h: getattr(module, h) for h in present} if latent else {}
    try:
        raw = module.load_data() if hasattr(module, "load_data") else {}  # none: build writes its data itself
    except Exception as exc:
        raise ModemeanError(f"model {name!r}: load_data() raised {type(exc).__name__}: {exc}") from exc
    data = check_data(raw, name, getattr(module, "DATA", None))
    return _assemble(
        module.build,
        data,
        name,
        info,
        latent,
        em,
        dict(getattr(module, "SAMPLER", {})),
        file,
        getattr(module, "highlights", None),
        getattr(module, "payload", None),
        getattr(module, "TRUTH", None),
    )


def contract_problems(module: ModuleType) -> list[str]:
    """Every way a model file breaks the contract (docs/model-file.md), each a short phrase; empty when it keeps it.

    Only ``build`` is required; ``INFO`` (each field optional), ``load_data``, ``LATENT``, ``DATA``,
    ``SAMPLER`` and ``TRUTH`` are checked for their type when given.
    """
    problems = []
    if not hasattr(module, "build"):
        problems.append("missing build (a function build(data) -> pymc.Model)")
    for attr in ("build", "load_data", "highlights", "payload", *EM_HOOKS):
        if hasattr(module, attr) and not callable(getattr(module, attr)):
            problems.append(f"{attr} must be a function, got {type(getattr(module, attr)).__name__}")
    for attr, kind in (("INFO", dict), ("DATA", dict), ("SAMPLER", dict), ("TRUTH", dict), ("LATENT", (tuple, list))):
        value = getattr(module, attr, None)
        if value is not None and not isinstance(value, kind):
            what = "a dict" if kind is dict else "a tuple of variable names"
            problems.append(f"{attr} must be {what}, got {type(value).__name__}")
    info = getattr(module, "INFO", None)
    if isinstance(info, dict):
        wrong = [k for k in ("title", "story", "why_skewed") if k in info and not isinstance(info[k], str)]
        problems += [f"INFO[{k!r}] must be a string, got {type(info[k]).__name__}" for k in wrong]
        references = info.get("references", [])
        if not isinstance(references, (list, tuple)) or not all(isinstance(r, str) for r in references):
            problems.append("INFO['references'] must be a list of strings")
    latent = getattr(module, "LATENT", ())
    if isinstance(latent, (tuple, list)) and not all(isinstance(v, str) for v in latent):
        problems.append("LATENT must name variables (strings)")
    return problems


def _assemble(
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
) -> ModelSpec:
    """Build the model on checked ``data``, its observations as shared variables, and derive latents and EM."""
    built = _build(build, data, name)
    shared = share_observed(built)
    model, em, written = _with_latents(built, latent, dict(hooks), name, build)
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
    if "reset" in em:
        compiled.on_load(em["reset"])
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


def _with_latents(
    model: pm.Model, latent: tuple[str, ...], em: dict[str, Callable], name: str, build: Callable[[dict], pm.Model]
):
    """The solvers' model, the EM hooks and the written model, per the kind of latent variable.

    Discrete latents written in the model: the solvers get the marginalised model and EM gets
    steps derived from the graph (a model file may add ``em_starts`` and a closed-form
    ``m_step``; an ``e_step`` is refused — it would be a second copy of the density).
    Otherwise (continuous latents, or labels the model has already summed out): the model file's
    hand-written ``em_starts``, ``e_step``, ``m_step``, all three or none; with none, the latents
    must be free variables of the model and get the exact Gaussian E-step derived from the graph
    (:func:`comparisons.gaussian.gaussian_hooks`; its ``reason()`` says when it does not apply).

    Returns
    -------
    model : pymc.Model
        What find_MAP and NUTS see.
    em : dict of str to callable
    written : pymc.Model or None
        The model as written when ``model`` is its marginalised version.
    """
    discrete = discrete_latents(model, latent) if latent else []
    if not discrete:
        if em and len(em) < len(EM_HOOKS):
            absent = [h for h in EM_HOOKS if h not in em]
            raise ModemeanError(f"model {name!r}: EM steps incomplete, missing {', '.join(absent)}")
        if latent and not em:
            check_latent_names(model, latent, name)
            check_not_hyperparameter(model, latent, name)
            return model, gaussian_hooks(model, latent), None
        if not em and imputed_variables(model):  # missing observations alone: EM integrates them out
            return model, gaussian_hooks(model, ()), None
        return model, {**em, "kind": lambda: "hand-written"} if em else em, None
    links = discrete_chain(model, discrete)
    if links:
        raise ModemeanError(f"model {name!r}: {_chain_message(links, len(discrete))}")
    if len(discrete) != len(latent) or len(discrete) > 1:
        raise ModemeanError(
            f"model {name!r}: LATENT {list(latent)} must be exactly one discrete latent variable "
            f"of the model (found discrete {discrete}); EM cannot mix discrete and continuous latents"
        )
    if "e_step" in em:
        raise ModemeanError(
            f"model {name!r}: the latent {discrete[0]!r} is discrete, so the E-step is derived from "
            "the PyMC model itself; remove e_step (em_starts and a closed-form m_step may stay)"
        )
    try:
        hooks, engine = discrete_hooks(model, discrete[0], em.get("em_starts"), em.get("m_step"), build)
        marginal = marginalize(model, engine())
    except ModemeanError as exc:
        raise ModemeanError(f"model {name!r}: {exc}") from exc
    return marginal, {**hooks, "kind": lambda: "exact (discrete)"}, model


def _chain_message(links: list[tuple[str, str]], n: int) -> str:
    """One line for discrete latents that form a chain (a hidden Markov model): what, and the workaround."""
    (child, parent), (last, before) = links[0], links[-1]
    found = f"{child}'s distribution depends on {parent}" + (f", ..., {last}'s on {before}" if len(links) > 1 else "")
    return (
        f"LATENT declares a chain of {n} discrete latents ({found}): EM does not support Markov-chain "
        "latents yet; sum them out with the forward algorithm in a pm.Potential and set LATENT = () "
        "(README, 'How to add a model')"
    )


def _build(build: Callable, data: dict, name: str) -> pm.Model:
    try:
        model = build(data)
    except Exception as exc:
        raise ModemeanError(f"model {name!r}: build(data) raised {type(exc).__name__}: {exc}") from exc
    if not isinstance(model, pm.Model):
        raise ModemeanError(f"model {name!r}: build(data) must return a pymc.Model, got {type(model).__name__}")
    check_missing(data, model, name)  # missing values PyMC did not impute are refused, naming the data
    return model
