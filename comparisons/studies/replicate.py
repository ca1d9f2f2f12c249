"""One replicate of a simulation study: draw a truth, simulate data with the model itself, refit.

A :class:`Replicator` is built once per process (a Dask worker, or the caller's process): it loads
the model, compiles one forward-sampling function of the model as written (every free variable,
discrete latents included, its deterministics and its observed variables, jointly) and then runs
any replicate ``i`` from its seed alone, so replicate ``i`` gives the same numbers whichever process
runs it and in whatever order.
"""

from __future__ import annotations

import dataclasses
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ModemeanError

if TYPE_CHECKING:  # PyMC (and PyTensor) only when a Replicator is built: a Dask worker sets its compile dir first
    from ..spec.model_spec import ModelSpec

__all__ = ["Replicator", "replicate_seeds", "one_line"]

TRUTHS = ("prior", "fixed")


def replicate_seeds(seed: int, i: int) -> tuple[int, int]:
    """The simulation seed and the solvers' seed of replicate ``i``.

    Replicate ``i`` owns ``numpy.random.SeedSequence(seed).spawn(R)[i]`` (the same for every ``R > i``:
    a study can be extended), which spawns two children: one seeds the forward simulation, the
    other every solver (as ``compare`` seeds them all with one seed).

    Returns
    -------
    simulate, fit : int
        Non-negative 32-bit integers.
    """
    child = np.random.SeedSequence(seed, spawn_key=(i,))  # == SeedSequence(seed).spawn(R)[i]
    simulate, fit = (int(c.generate_state(1, dtype=np.uint32)[0]) for c in child.spawn(2))
    return simulate, fit


def one_line(exc: BaseException) -> str:
    """``Type: first line of the message (at file:line)`` -- PyTensor appends multi-line backtraces."""
    where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ is not None else None
    first = (str(exc).strip().splitlines() or [""])[0]
    at = f" (at {Path(where.filename).name}:{where.lineno})" if where is not None else ""
    return f"{type(exc).__name__}: {first}{at}"


class Replicator:
    """Everything a process needs to run replicates of one study.

    Parameters
    ----------
    target : str
        Catalog name or path of a model file (what every worker can load by itself).
    truth : {"prior", "fixed"}
        ``prior``: every free variable of the model as written is drawn from its prior, the observed
        variables from their distribution given the draw. ``fixed``: the model file's ``TRUTH``
        values are held (``pymc.do``), the variables it does not name are drawn as for ``prior``.
    solvers : sequence of str
    options : dict
        ``seed`` and the chosen solvers' options (their declared names).
    spec : ModelSpec, optional
        The loaded model, when the caller has it (else ``target`` is loaded).

    Raises
    ------
    ModemeanError
        A model that cannot be refitted on simulated data (see :func:`~comparisons.spec.observed_keys`),
        ``fixed`` without a ``TRUTH``, or a ``TRUTH`` naming no free variable or of the wrong shape.
    """

    def __init__(
        self, target: str, truth: str, solvers: tuple[str, ...], options: dict[str, Any], spec: ModelSpec | None = None
    ):
        import pymc as pm
        from pymc.pytensorf import compile, find_rng_nodes

        from ..spec.data import imputed_variables, missing
        from ..spec.load import load_spec
        from ..spec.model_spec import observed_keys

        spec = spec if spec is not None else load_spec(target)
        # chains one after another: a study's parallelism is its replicates (and a Dask worker is daemonic)
        self.spec = dataclasses.replace(spec, sample_kwargs={**spec.sample_kwargs, "cores": 1})
        self.truth_kind = truth
        self.solvers = tuple(solvers)
        self.options = dict(options)
        self.keys = observed_keys(self.spec)
        self.missing = {key: missing(self.spec.data[key]) for key in self.keys.values()}  # masked or NaN entries
        model = self.spec.as_written
        self.fixed = check_truth(self.spec, model) if truth == "fixed" else {}
        if self.fixed:
            model = pm.do(model, self.fixed)
        joined = {m.name for m in imputed_variables(model)}  # data joined with imputed entries: data, not truth
        self.drawn = [rv.name for rv in model.free_RVs] + [d.name for d in model.deterministics if d.name not in joined]
        self.observed = [rv.name for rv in model.observed_RVs]
        outputs = [model[name] for name in self.drawn + self.observed]
        self._forward = compile([], outputs, random_seed=0)
        self._rngs = find_rng_nodes(outputs)

    def simulate(self, seed: int) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """One joint draw: the truth (free variables and deterministics) and the simulated data.

        Returns
        -------
        truth : dict of str to ndarray
            Each free variable of the model as written and each deterministic, ``TRUTH``'s values included.
        data : dict of str to ndarray
            The model's data with each observed array replaced by its draw; missing entries stay NaN.
        """
        from pymc.pytensorf import reseed_rngs

        reseed_rngs(self._rngs, seed)
        values = self._forward()
        drawn = dict(zip(self.drawn + self.observed, values, strict=True))
        truth = {**{k: np.asarray(v) for k, v in self.fixed.items()}, **{k: drawn[k] for k in self.drawn}}
        data = dict(self.spec.data)
        for name, key in self.keys.items():
            original, absent = self.spec.data[key], self.missing[key]
            if not absent.any():
                values = np.asarray(np.ma.getdata(original))
                data[key] = np.asarray(drawn[name]).reshape(values.shape).astype(values.dtype)
            else:  # the same entries missing, masked or NaN as given: the model imputes them as it does the data
                new = np.ma.array(original, copy=True) if np.ma.isMaskedArray(original) else np.array(original)
                new[~absent] = np.ravel(drawn[name])
                data[key] = new
        return truth, data

    def run(self, i: int, seed: int) -> dict[str, Any]:
        """Replicate ``i`` of the study seeded with ``seed``: its record (JSON-able, see the README).

        Never raises on a failure of the model or a solver: the record carries ``error`` (one line);
        a solver that fails is ``failed`` with its message in the record, the others still run.
        """
        from ..results.fit import flatten
        from ..run.compare import run_solver
        from ..solvers import SOLVERS

        start = time.perf_counter()
        simulate_seed, fit_seed = replicate_seeds(seed, i)
        record: dict[str, Any] = {"replicate": i, "seeds": {"simulate": simulate_seed, "fit": fit_seed}}
        try:
            truth, data = self.simulate(simulate_seed)
            spec = self.spec.with_data(data)
        except Exception as exc:  # noqa: BLE001 -- a replicate that fails is recorded; the study goes on
            return {**record, "error": one_line(exc), "seconds": time.perf_counter() - start}
        record["truth"] = flatten(truth)
        record["solvers"] = {}
        for name in self.solvers:
            options = {"seed": fit_seed, **{k: self.options[k] for k in SOLVERS[name].options}}
            fit = run_solver(name, spec, options)
            entry: dict[str, Any] = {"status": fit.status, "message": fit.message, "seconds": fit.seconds}
            entry["converged"] = fit.converged
            entry["flags"] = {param: [flag.kind for flag in flags] for param, flags in fit.flags.items()}
            entry["estimates"] = fit.estimates
            if fit.ok and fit.draws is not None and name == "nuts":
                entry["sbc"] = sbc_ranks(fit, record["truth"], self.options["sbc_draws"])
            record["solvers"][name] = entry
        failed = [f"{n}: {e['message']}" for n, e in record["solvers"].items() if e["status"] == "failed"]
        record["error"] = "; ".join(failed) or None
        record["seconds"] = time.perf_counter() - start
        return record


def check_truth(spec: ModelSpec, model) -> dict[str, np.ndarray]:
    """The model file's ``TRUTH`` as arrays of the right shapes; raise a one-line ModemeanError otherwise."""
    if not spec.truth:
        raise ModemeanError(
            f"model {spec.name!r} gives no TRUTH: add TRUTH = {{name: value}} to its file for --truth fixed, "
            "or use --truth prior"
        )
    free = {rv.name: rv for rv in model.free_RVs}
    out = {}
    for name, value in spec.truth.items():
        if name not in free:
            raise ModemeanError(
                f"model {spec.name!r}: TRUTH names {name!r}, which is no free variable of the model "
                f"(free: {', '.join(free)})"
            )
        shape = tuple(int(s) for s in free[name].shape.eval())
        array = np.asarray(value, dtype=free[name].dtype)
        if array.shape != shape:
            raise ModemeanError(
                f"model {spec.name!r}: TRUTH[{name!r}] has shape {array.shape}, the variable has {shape}"
            )
        out[name] = array
    return out


def sbc_ranks(fit, truth: dict[str, float], draws: int) -> dict[str, Any]:
    """Rank of the truth among ``draws`` posterior draws spread evenly over the pooled chains (Talts et al. 2018).

    Thinning to ``L = draws`` evenly spaced draws (every ``N / L``-th of ``N`` pooled draws) makes them
    nearly independent when the bulk ESS is at least ``L``; each parameter's bulk ESS is kept so the
    summary can count the replicates where it was not.

    Returns
    -------
    dict
        ``{"draws": L, "ranks": {flat name: rank in 0..L}, "ess_bulk": {flat name: ESS}}`` for each
        parameter that has a truth.
    """
    from ..solvers.nuts import flat_draws

    flat = flat_draws(fit.draws.posterior)
    pooled_size = min((np.size(v) for v in flat.values()), default=0)
    size = min(draws, pooled_size)
    ranks, ess = {}, {}
    for name, values in flat.items():
        if name in truth:
            kept = np.ravel(values)[(np.arange(size) * pooled_size) // size]  # chains pooled one after another
            ranks[name] = int(np.sum(kept < truth[name]))
            ess[name] = fit.estimates.get("ess_bulk", {}).get(name)
    return {"draws": size, "ranks": ranks, "ess_bulk": ess}
