"""``nuts``: full posterior sampling with PyMC's own NUTS, summarised with ArviZ."""

from __future__ import annotations

# ArviZ is imported inside the functions that use it: importing it takes ~1.4 s, which the solver
# registry (and so 'modemean run --help') need not pay.
import importlib.util
import sys
from collections.abc import Callable

import numpy as np
import pymc as pm
import xarray as xr
from scipy import stats

from ..density.start import discrete_message, free_discrete
from ..errors import ModemeanError, interrupted
from ..results.fit import Fit, Flag, flat_names
from ..results.schema import HDI_PROB
from ..run import progress
from ..spec.data import imputed_variables
from ..spec.model_spec import ModelSpec
from ..spec.observations import cached
from ..system import chain_processes
from .base import Column, Solver
from .declared import SOLVER_OPTIONS

__all__ = ["NUTS", "fit_nuts", "flat_draws", "summarise_draws"]

RHAT_MAX = 1.01
ESS_MIN = 400  # bulk ESS below this makes tail quantities and the sample mode unreliable


def fit_nuts(
    spec: ModelSpec, *, seed: int, draws: int = 1000, tune: int = 1000, chains: int = 4, sampler: str = "pymc"
) -> Fit:
    """Sample with ``pm.sample``, the NUTS implementation always named (PyMC would otherwise switch
    to nutpie silently whenever it is installed).

    Parameters
    ----------
    spec : ModelSpec
        ``spec.sample_kwargs`` may set e.g. ``target_accept``.
    seed : int
    draws, tune, chains : int
    sampler : {"pymc", "nutpie"}, default "pymc"
        PyMC's own NUTS, or nutpie's (``pip install 'modemean[fast]'``).

    Returns
    -------
    Fit
        ``draws`` is the DataTree; ``estimates`` has the columns mean, median, mode (half-sample
        mode, ``az.mode``), sd, hdi_low/hdi_high (94% HDI), skewness, r_hat and ess_bulk.
        R-hat above 1.01, low ESS or divergences keep the status ``ok`` and are stated in the
        message and the diagnostics.
    """
    discrete = free_discrete(spec.model)
    if discrete and sampler != "pymc":
        return Fit(
            "nuts",
            "failed",
            discrete_message(discrete, f"{sampler} samples continuous parameters only")
            + "; or run --sampler pymc (NUTS for the continuous parameters, Metropolis for the discrete)",
        )
    idata = _sample(spec, seed=seed, draws=draws, tune=tune, chains=chains, sampler=sampler)
    joined = [m.name for m in imputed_variables(spec.model)]  # data joined with imputed entries: no rows
    estimates = summarise_draws(idata.posterior.to_dataset().drop_vars(joined))
    diagnostics = _diagnostics(spec, idata, estimates, sampler=sampler, draws=draws, tune=tune, chains=chains)
    problems = _problems(spec, discrete, diagnostics)
    return Fit(
        "nuts",
        "ok",
        "; ".join(problems),
        draws=idata,
        converged=not problems,
        n_iter=tune + draws,
        estimates=estimates,
        diagnostics=diagnostics,
        flags=_flags(estimates, chains),
    )


def _sample(spec: ModelSpec, *, seed: int, draws: int, tune: int, chains: int, sampler: str) -> xr.DataTree:
    """``pm.sample`` on the spec's frozen model, quiet, with progress events; all ``draws`` or an interruption.

    Returns
    -------
    xarray.DataTree
        ``posterior`` with dims ``(chains, draws, ...)`` and ``sample_stats``.

    Raises
    ------
    KeyboardInterrupt
        When sampling stopped before ``draws`` draws (``pm.sample`` swallows Ctrl-C and returns what it has).
    """
    # a study runs its chains one after another (cores=1 in sample_kwargs, which take precedence)
    cores = spec.sample_kwargs.get("cores", chain_processes(chains))
    # the chains fork from this process where the platform allows it: a process started by forkserver
    # or spawn (a worker of a run of several models) hands that start method down, so its chains would
    # each start a fresh interpreter and import PyMC again (~3 s per run, more than bioassay's sampling)
    mp_ctx = "fork" if sys.platform == "linux" else None
    # the model frozen once (pymc's freeze_model caches the compiled log density and initial point), its
    # observations swapped with the spec's (comparisons.spec.observations): a refit on new data compiles nothing here
    frozen = cached(spec.compiled, "nuts model", lambda: _frozen(spec))
    idata = pm.sample(
        draws=draws,
        tune=tune,
        chains=chains,
        random_seed=seed,
        nuts_sampler=sampler,
        progressbar=False,
        callback=_callback(tune + draws, sequential=cores == 1 and chains > 1) if sampler == "pymc" else None,
        compute_convergence_checks=False,
        model=frozen,
        **{"mp_ctx": mp_ctx, **spec.sample_kwargs, "cores": cores},
    )
    if idata.posterior.sizes["draw"] < draws:  # pm.sample swallows Ctrl-C and returns what it has
        raise KeyboardInterrupt(f"sampling interrupted after {idata.posterior.sizes['draw']} of {draws} draws")
    return idata


def _diagnostics(
    spec: ModelSpec,
    idata: xr.DataTree,
    estimates: dict[str, dict[str, float]],
    *,
    sampler: str,
    draws: int,
    tune: int,
    chains: int,
) -> dict:
    """The Fit's diagnostics: the step methods, the sampling settings, divergences, the worst R-hat and ESS.

    Parameters
    ----------
    spec : ModelSpec
    idata : xarray.DataTree
        ``pm.sample``'s result; ``posterior`` dims ``(chain, draw, ...)``, ``sample_stats["diverging"]``.
    estimates : dict of str to dict of str to float
        :func:`summarise_draws`'s columns (``r_hat`` and ``ess_bulk`` are read).
    sampler : {"pymc", "nutpie"}
    draws, tune, chains : int
        As sampled.

    Returns
    -------
    dict
        ``sampler``, ``draws``, ``tune``, ``chains``, ``divergences``, ``max_r_hat``, ``min_ess_bulk``, ``settings``.
    """
    return {
        "sampler": step_methods(spec.model) if sampler == "pymc" else f"{sampler} NUTS",
        "draws": draws,
        "tune": tune,
        "chains": chains,
        "divergences": int(idata.sample_stats["diverging"].sum()),
        "max_r_hat": max(estimates["r_hat"].values()),
        "min_ess_bulk": min(estimates["ess_bulk"].values()),
        "settings": dict(spec.sample_kwargs),
    }


def _problems(spec: ModelSpec, discrete: list, diagnostics: dict) -> list[str]:
    """The sentences of the Fit's message: divergences, R-hat, low ESS, discrete parameters not sampled by NUTS.

    Parameters
    ----------
    spec : ModelSpec
    discrete : list of TensorVariable
        The model's free discrete parameters (:func:`~comparisons.density.start.free_discrete`).
    diagnostics : dict
        :func:`_diagnostics` (``divergences``, ``max_r_hat``, ``min_ess_bulk`` and ``chains`` are read; R-hat
        is judged only with more than one chain).

    Returns
    -------
    list of str
        Empty when the draws pass every check (the Fit's ``converged``).
    """
    divergences, worst_rhat, lowest_ess = (diagnostics[k] for k in ("divergences", "max_r_hat", "min_ess_bulk"))
    problems = []
    if divergences:
        problems.append(f"{divergences} divergent transitions (raise target_accept or reparameterise)")
    if diagnostics["chains"] > 1 and worst_rhat > RHAT_MAX:
        problems.append(f"R-hat up to {worst_rhat:.3f} > {RHAT_MAX} (run longer chains)")
    if lowest_ess < ESS_MIN:
        problems.append(f"bulk ESS as low as {lowest_ess:.0f} < {ESS_MIN} (draw more)")
    if discrete:
        problems.append(
            f"{', '.join(rv.name for rv in discrete)} sampled by {step_methods(spec.model)}, not NUTS: "
            "declare discrete parameters latent (EM sums them out and NUTS sees the marginal model)"
        )
    return problems


def _flags(estimates: dict[str, dict[str, float]], chains: int) -> dict[str, list[Flag]]:
    """Per flat parameter, an ``r_hat`` flag (R-hat > :data:`RHAT_MAX`, with several chains) and an ``ess`` flag
    (bulk ESS < :data:`ESS_MIN`).

    Parameters
    ----------
    estimates : dict of str to dict of str to float
        :func:`summarise_draws`'s columns (``r_hat`` and ``ess_bulk`` are read).
    chains : int

    Returns
    -------
    dict of str to list of Flag
    """
    flags: dict[str, list[Flag]] = {}
    for name, rhat in estimates["r_hat"].items():
        if chains > 1 and rhat > RHAT_MAX:
            flags.setdefault(name, []).append(
                Flag("r_hat", "r_hat", rhat, f"nuts: R-hat {rhat:.3f} > {RHAT_MAX}, the chains disagree")
            )
    for name, ess in estimates["ess_bulk"].items():
        if ess < ESS_MIN:
            flags.setdefault(name, []).append(
                Flag("ess_bulk", "ess", ess, f"nuts: bulk ESS {ess:.0f} < {ESS_MIN}, too few effective draws")
            )
    return flags


def _callback(total: int, *, sequential: bool) -> Callable[..., None] | None:
    """``pm.sample``'s per-draw callback: progress events when anybody listens; with the chains one after
    another, the end of every chain after an interruption (``pm.sample``'s sequential loop swallows the
    KeyboardInterrupt of the chain it interrupts and starts the next: Ctrl-C would end one chain of four).
    ``None`` when there is nothing to do (a call per draw is not free)."""
    report = progress.draw_callback(total) if progress.active() else None
    if report is None and not sequential:
        return None

    def callback(trace, draw) -> None:
        if sequential and interrupted():
            raise KeyboardInterrupt
        if report is not None:
            report(trace, draw)

    return callback


def _frozen(spec: ModelSpec) -> pm.Model:
    """``freeze_model(spec.model)``, its observed data variables loaded with the spec's observations from now on."""
    from pymc.model.transform.optimization import freeze_model

    frozen = freeze_model(spec.model)
    if spec.compiled is not None:
        spec.compiled.share(frozen)
    return frozen


def step_methods(model: pm.Model) -> str:
    """The step methods ``pm.sample`` assigns, named with their variables: ``"pymc NUTS"`` for a
    continuous model, ``"pymc NUTS (p) + Metropolis (n)"`` when it has free discrete parameters."""
    from pymc.sampling.mcmc import assign_step_methods

    assigned = assign_step_methods(model)[1]
    selected = {k.__name__: [model.values_to_rvs[v].name for v in vs] for k, vs in assigned.items() if vs}
    if list(selected) == ["NUTS"]:
        return "pymc NUTS"
    ordered = sorted(selected.items(), key=lambda kv: (kv[0] != "NUTS", kv[0]))
    return "pymc " + " + ".join(f"{k} ({', '.join(v)})" for k, v in ordered)


def summarise_draws(posterior: xr.DataTree | xr.Dataset) -> dict[str, dict[str, float]]:
    """Per flat parameter: mean, median, mode, sd, 94% HDI, skewness, R-hat and bulk ESS.

    Parameters
    ----------
    posterior : DataTree or Dataset
        Draws with dims ``(chain, draw, ...)``.

    Returns
    -------
    dict of str to dict of str to float
        Column to ``{flat name: value}``.
    """
    import arviz as az

    flat = az.from_dict({"posterior": flat_draws(posterior)})
    summary = az.summary(flat, kind="all", ci_kind="hdi", ci_prob=HDI_PROB, round_to="none")
    median = az.median(flat, round_to="none")
    mode = az.mode(flat, round_to="none")
    names = list(summary.index)
    columns = {
        "mean": summary["mean"],
        "sd": summary["sd"],
        "hdi_low": summary["hdi94_lb"],
        "hdi_high": summary["hdi94_ub"],
        "r_hat": summary["r_hat"],
        "ess_bulk": summary["ess_bulk"],
    }
    out = {c: {n: float(v[n]) for n in names} for c, v in columns.items()}
    out["median"] = {n: float(median[n]) for n in names}
    out["mode"] = {n: float(mode[n]) for n in names}
    out["skewness"] = {n: float(stats.skew(np.ravel(flat.posterior[n].values))) for n in names}
    return out


def flat_draws(posterior) -> dict[str, np.ndarray]:
    """Each scalar parameter as its own ``(chain, draw)`` array, named ``theta[0]``, ...

    The chains stay apart (``az.from_dict`` and the SBC ranks need them); the reports' reader
    :func:`comparisons.results.read.flat_draws` concatenates them.
    """
    ds = posterior.to_dataset() if isinstance(posterior, xr.DataTree) else posterior
    out = {}
    for name, da in ds.data_vars.items():
        values = da.transpose("chain", "draw", ...).values
        for i, flat in enumerate(flat_names(str(name), values.shape[2:])):
            out[flat] = values.reshape(values.shape[0], values.shape[1], -1)[:, :, i]
    return out


class NUTS(Solver):
    """Full posterior sampling (:func:`fit_nuts`); its draws are the reference posterior of the reports."""

    name = "nuts"
    label = "NUTS"
    columns = {
        "mean": Column("posterior mean (NUTS)", marker="posterior mean"),
        "median": Column("posterior median (NUTS)", marker="posterior median"),
        "mode": Column("sample mode of the draws (half-sample mode)", marker="sample mode"),
        "sd": Column("posterior sd (NUTS)"),
        "hdi_low": Column("94% HDI, lower end"),
        "hdi_high": Column("94% HDI, upper end"),
        "skewness": Column("sample skewness"),
        "r_hat": Column(f"R-hat (≤ {RHAT_MAX} is good)", check=True),
        "ess_bulk": Column(f"bulk effective sample size (≥ {ESS_MIN} is good)", check=True),
    }
    options = SOLVER_OPTIONS["nuts"]
    has_draws = True
    draws_group = "/"  # the reference posterior: ``posterior`` and ``sample_stats`` at the root, where ArviZ looks

    def fit(self, spec: ModelSpec, *, seed: int, draws: int, tune: int, chains: int, sampler: str) -> Fit:
        return fit_nuts(spec, seed=seed, draws=draws, tune=tune, chains=chains, sampler=sampler)

    def check(self, options: dict) -> None:
        chain_processes(options["chains"])  # a wrong $MODEMEAN_CHAIN_PROCESSES stops the run before any solver
        if options["sampler"] == "nutpie" and importlib.util.find_spec("nutpie") is None:
            raise ModemeanError(
                "the nutpie sampler is not installed: pip install 'modemean[fast]' (or use --sampler pymc)"
            )
