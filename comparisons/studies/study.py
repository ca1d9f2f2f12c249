"""Simulation studies: which estimate is closest to the truth, how often intervals cover it, and SBC.

``study(model, replicates=R)`` draws ``R`` truths (from the prior, or the model file's ``TRUTH``),
simulates data with the model itself, refits every chosen solver on each data set and writes

- ``OUT/<model>/study/replicate_<i:05d>.json``: one file per replicate, written atomically as it
  finishes (a killed study resumes: finished replicates are never recomputed);
- ``OUT/<model>/study.json``: bias and RMSE of each point estimate with Monte Carlo standard
  errors, coverage of the 94% HDI and of the Laplace interval, SBC rank histograms (README).

Replicates run in this process (``workers=1``), on a Dask ``LocalCluster`` of ``workers``
processes, or on an existing Dask cluster (``scheduler="tcp://host:port"``); replicate ``i`` gives
the same numbers wherever it runs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from ..errors import ModemeanError
from ..run.hashing import hash_data, hash_settings, hash_source
from ..run.output import shown_source
from .plan import Plan, validate
from .records import read_replicates, write_json
from .replicate import Replicator
from .summary import summarise

__all__ = ["study", "Study", "DEFAULT_SBC_DRAWS"]

CLOSE_TIMEOUT = 5  # seconds
DEFAULT_SBC_DRAWS = 99  # L: ranks 0..99, 100 values, so 20, 10, 5, ... equal bins


@dataclass
class Study:
    """The outcome of :func:`study`.

    Attributes
    ----------
    summary : dict
        The content of ``study.json``.
    folder : Path
        ``OUT/<model>``.
    computed : int
        Replicates computed by this call (the others were read back).
    records : list of dict
        Every replicate's record, in index order.
    """

    summary: dict[str, Any]
    folder: Path
    computed: int
    records: list[dict[str, Any]]


def study(
    model: str | Path,
    *,
    replicates: int,
    truth: str = "prior",
    solvers: str | tuple[str, ...] | None = None,
    seed: int | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    out: str | Path = "reports/site",
    sbc_draws: int = DEFAULT_SBC_DRAWS,
    force: bool = False,
    quiet: bool = True,
    callback: Callable[[dict[str, Any]], None] | None = None,
    **options: Any,
) -> Study:
    """Run (or resume) a simulation study of one model: what it writes is in the module's docstring.

    Parameters
    ----------
    model : str or path
        A catalog name or a model file (each worker loads it: on a remote cluster it must exist there too).
    replicates : int
        ``R``; replicate ``i`` is seeded by ``numpy.random.SeedSequence(seed).spawn(R)[i]``.
    truth : {"prior", "fixed"}
        Parameters from the prior, or the model file's ``TRUTH = {name: value}`` (the rest from the prior).
    solvers, seed, **options : optional
        As in :func:`~comparisons.run.compare` (default map, em, nuts; the run seed, 20261126).
    workers, scheduler : int or str, optional
        Local processes (default: the cores; 1 runs here), or a running Dask scheduler ``tcp://host:port``.
    out : str or path
        Results folder: the study goes to ``out/<model>/study/`` and ``out/<model>/study.json``.
    sbc_draws : int
        ``L``, the posterior draws (evenly spaced over the pooled chains) the truth is ranked among.
    force, quiet : bool
        Discard replicate files of a study with other settings instead of refusing; no progress output.
    callback : callable, optional
        Called with each new replicate record after its file is written.

    Raises
    ------
    ModemeanError
        Bad input (one line). An interrupted study writes its summary, then raises ``KeyboardInterrupt``.
    """
    plan = validate(model, replicates, truth, solvers, seed, workers, scheduler, out, sbc_draws, options)
    key = _key(plan)
    records = read_replicates(plan.replicas, replicates, key, force)
    lost: list[tuple[int, str]] = []
    try:
        computed = _run(plan, key, records, lost, quiet=quiet, callback=callback)
    except KeyboardInterrupt:
        _interrupted(plan, key, records)
    return _finish(plan, key, records, computed, lost)


def _key(plan: Plan) -> str:
    """:func:`study_key` of the settings that shape a replicate's numbers (not the number of replicates, nor
    where they run)."""
    placement = ("replicates", "workers", "scheduler")
    return study_key(plan.spec, plan.truth, {k: v for k, v in plan.settings.items() if k not in placement})


def _run(
    plan: Plan,
    key: str,
    records: dict[int, dict[str, Any]],
    lost: list[tuple[int, str]],
    *,
    quiet: bool,
    callback: Callable[[dict[str, Any]], None] | None,
) -> int:
    """Compute the replicates not in ``records``, in this process or on Dask; return how many.

    Each record is written to its file as it finishes and added to ``records``; the replicates the Dask
    workers could not run go to ``lost``. The cluster is closed whatever happens.
    """
    from .execute import Progress, connect, run_in_process, run_on_dask

    replicates, workers, scheduler = (plan.settings[k] for k in ("replicates", "workers", "scheduler"))
    todo = [i for i in range(replicates) if i not in records]
    computed = 0
    client, cluster = connect(scheduler, workers) if todo and (scheduler is not None or workers != 1) else (None, None)
    try:
        plan.replicas.mkdir(parents=True, exist_ok=True)
        failed = sum(1 for r in records.values() if r.get("error"))
        progress = Progress(plan.spec.name, replicates, len(records) - failed, failed, quiet=quiet)
        stream: Iterator[dict[str, Any]] = iter(())
        if client is not None:
            stream = run_on_dask(client, plan.target, plan.truth, plan.chosen, plan.options, todo, key, lost)
        elif todo:
            replicator = Replicator(plan.target, plan.truth, plan.chosen, plan.options, spec=plan.spec)
            stream = run_in_process(replicator, todo, plan.options["seed"])
        try:
            for record in stream:
                record["key"] = key
                write_json(plan.replicas / f"replicate_{record['replicate']:05d}.json", record)
                records[record["replicate"]] = record
                computed += 1
                progress.update(record)
                if callback is not None:
                    callback(record)
        finally:
            progress.close()
    finally:
        _close(client, cluster)
    return computed


def _interrupted(plan: Plan, key: str, records: dict[int, dict[str, Any]]) -> NoReturn:
    """Summarise the replicates finished, then raise ``KeyboardInterrupt`` saying where they are."""
    from ..run.output import shown_path

    kept = _summarise(plan, key, records)["replicates"]
    raise KeyboardInterrupt(
        f"{kept['done'] + kept['failed']} of {plan.settings['replicates']} replicates are in "
        f"{shown_path(plan.replicas)}; run the same study again to compute the rest"
    ) from None


def _finish(
    plan: Plan, key: str, records: dict[int, dict[str, Any]], computed: int, lost: list[tuple[int, str]]
) -> Study:
    """Summarise every finished replicate; refuse, once the summary is written, if Dask lost some."""
    from ..run.output import shown_path

    result = Study(_summarise(plan, key, records), plan.folder, computed, [records[i] for i in sorted(records)])
    if lost:
        i, error = lost[0]
        raise ModemeanError(
            f"{len(lost)} replicates did not run on the Dask workers (replicate {i}: {error}); the "
            f"{len(records)} finished are kept in {shown_path(plan.replicas)}: fix the cause and run the study again"
        )
    return result


def _summarise(plan: Plan, key: str, records: dict[int, dict[str, Any]]) -> dict[str, Any]:
    """The summary of the finished replicates (:func:`~.summary.summarise`), written to ``study.json``."""
    from ..density.space import shape_of
    from ..results.fit import flat_names

    spec = plan.spec
    parameters = [flat for name in spec.params for flat in flat_names(name, shape_of(spec.model, name))]
    summary = summarise(
        list(records.values()),
        model=spec.name,
        source=shown_source(spec.source),
        truth=plan.truth,
        settings=plan.settings,
        key=key,
        parameters=parameters,
    )
    write_json(plan.folder / "study.json", summary)
    return summary


def study_key(spec, truth: str, settings: dict[str, Any]) -> str:
    """SHA-256 over what shapes a replicate's numbers: the model's source files, its data (with the mask of a
    masked array), the truth and the settings (not the number of replicates nor where they run: a study can
    be extended and moved)."""
    h = hashlib.sha256()
    hash_source(h, spec.source)
    hash_data(h, spec.data)
    fixed = {k: np.asarray(v).tolist() for k, v in (spec.truth or {}).items()} if truth == "fixed" else {}
    hash_settings(h, {"truth": truth, "fixed": fixed, **settings})
    return h.hexdigest()


def _close(client, cluster) -> None:
    """Disconnect; stop the local cluster's workers, even mid-replicate (their finished work is on disk).
    Closing twice is harmless."""
    if client is not None and client.status != "closed":
        client.close(timeout=CLOSE_TIMEOUT)
    if cluster is not None and cluster.status.name != "closed":
        cluster.close(timeout=CLOSE_TIMEOUT)
