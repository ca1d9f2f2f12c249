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
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..batch import available_cores
from ..errors import ModemeanError
from .replicate import TRUTHS, Replicator, check_truth
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
    """Run (or resume) a simulation study of one model.

    Parameters
    ----------
    model : str or path
        A catalog name or a model file (each worker loads it by itself: on a remote cluster the path
        must exist there too).
    replicates : int
        ``R``; replicate ``i`` is seeded by ``numpy.random.SeedSequence(seed).spawn(R)[i]``.
    truth : {"prior", "fixed"}
        Draw the parameters from the prior, or hold the model file's ``TRUTH = {name: value}`` (the
        free variables it does not name are drawn from the prior given it).
    solvers : str or tuple of str, optional
        As in :func:`~comparisons.run.compare` (default map, em, nuts).
    seed : int, optional
        The study's root seed (default: the run seed, 20261126).
    workers : int, optional
        Local worker processes (default: the cores this process may use); 1 runs in this process.
    scheduler : str, optional
        ``tcp://host:port`` of a running Dask scheduler; then ``workers`` is not used.
    out : str or path
        Results folder; the study goes to ``out/<model>/study/`` and ``out/<model>/study.json``.
    sbc_draws : int
        ``L``, the posterior draws (evenly spaced over the pooled chains) the truth is ranked among.
    force : bool
        Discard replicate files of a study with other settings instead of refusing.
    quiet : bool
        No progress output (the command line shows a bar).
    callback : callable, optional
        Called with each new replicate record after its file is written.
    **options
        The solvers' options (``draws``, ``tune``, ``chains``, ``n_init``, ``n_starts``, ...).

    Returns
    -------
    Study

    Raises
    ------
    ModemeanError
        Bad input (one line); an interrupted study raises ``KeyboardInterrupt`` after writing its
        summary of the replicates finished.
    """
    from ..density.space import shape_of
    from ..fit import flat_names
    from ..run import check_writable, shown_path
    from ..solvers import SEED, SOLVERS, check_options
    from ..spec import load_spec, observed_keys
    from .execute import Progress, connect, run_in_process, run_on_dask

    seed = SEED.default if seed is None else seed
    chosen, values = check_options(solvers, {"seed": seed, **options})
    _check_int("replicates", replicates)
    _check_int("sbc_draws", sbc_draws)
    if truth not in TRUTHS:
        raise ModemeanError(f"unknown truth {truth!r}: choose from {', '.join(TRUTHS)}")
    if scheduler is not None and workers is not None:
        raise ModemeanError("give workers (a local cluster) or scheduler (an existing one), not both")
    if scheduler is not None and not isinstance(scheduler, str):
        raise ModemeanError(f"scheduler must be an address such as tcp://host:port, got {scheduler!r}")
    workers = available_cores() if workers is None and scheduler is None else workers
    if workers is not None:
        _check_int("workers", workers)
    spec = load_spec(model)
    target = spec.name if spec.source == _catalog_source(spec.name) else str(Path(spec.source).resolve())
    observed_keys(spec)  # refuses a model whose observations cannot be replaced by simulated ones
    if truth == "fixed":
        check_truth(spec, spec.as_written)
    check_writable(Path(out))
    folder = Path(out) / spec.name
    replicas = folder / "study"

    options = {"seed": seed, **{k: values[k] for name in chosen for k in SOLVERS[name].options}, "sbc_draws": sbc_draws}
    settings = {
        "replicates": replicates,
        "solvers": list(chosen),
        "workers": workers,
        "scheduler": scheduler,
        **options,
    }
    key = study_key(spec, truth, {k: v for k, v in settings.items() if k not in ("replicates", "workers", "scheduler")})
    parameters = [flat for name in spec.params for flat in flat_names(name, shape_of(spec.model, name))]
    records = _read_replicates(replicas, replicates, key, force)
    todo = [i for i in range(replicates) if i not in records]

    def finish() -> Study:
        summary = summarise(
            list(records.values()),
            model=spec.name,
            source=spec.source,
            truth=truth,
            settings=settings,
            key=key,
            parameters=parameters,
        )
        _write_json(folder / "study.json", summary)
        return Study(summary, folder, computed, [records[i] for i in sorted(records)])

    computed = 0
    lost: list[tuple[int, str]] = []
    client, cluster = connect(scheduler, workers) if todo and (scheduler is not None or workers != 1) else (None, None)
    try:  # from here on the cluster is closed whatever happens
        replicas.mkdir(parents=True, exist_ok=True)
        failed = sum(1 for r in records.values() if r.get("error"))
        progress = Progress(spec.name, replicates, len(records) - failed, failed, quiet=quiet)
        stream: Iterator[dict[str, Any]] = iter(())
        if client is not None:
            stream = run_on_dask(client, target, truth, chosen, options, todo, key, lost)
        elif todo:
            stream = run_in_process(Replicator(target, truth, chosen, options, spec=spec), todo, seed)
        try:
            for record in stream:
                record["key"] = key
                _write_json(replicas / f"replicate_{record['replicate']:05d}.json", record)
                records[record["replicate"]] = record
                computed += 1
                progress.update(record)
                if callback is not None:
                    callback(record)
        finally:
            progress.close()
    except KeyboardInterrupt:
        _close(client, cluster)
        kept = finish().summary["replicates"]
        raise KeyboardInterrupt(
            f"{kept['done'] + kept['failed']} of {replicates} replicates are in {shown_path(replicas)}; run the "
            "same study again to compute the rest"
        ) from None
    finally:
        _close(client, cluster)
    result = finish()
    if lost:
        i, error = lost[0]
        raise ModemeanError(
            f"{len(lost)} replicates did not run on the Dask workers (replicate {i}: {error}); the "
            f"{len(records)} finished are kept in {shown_path(replicas)}: fix the cause and run the study again"
        )
    return result


def study_key(spec, truth: str, settings: dict[str, Any]) -> str:
    """SHA-256 over what shapes a replicate's numbers: the model's source files, its data, the truth and
    the settings (not the number of replicates nor where they run: a study can be extended and moved)."""
    from ..cache import catalog_imports

    h = hashlib.sha256()
    source = Path(spec.source)
    if source.is_file():
        for path in [source, *catalog_imports(source)]:
            h.update(path.read_bytes())
    for name in sorted(spec.data):
        array = np.ascontiguousarray(spec.data[name])
        h.update(f"{name}|{array.dtype.str}|{array.shape}|".encode() + array.tobytes())
    fixed = {k: np.asarray(v).tolist() for k, v in (spec.truth or {}).items()} if truth == "fixed" else {}
    h.update(json.dumps({"truth": truth, "fixed": fixed, **settings}, sort_keys=True).encode())
    return h.hexdigest()


def _catalog_source(name: str) -> str:
    from modemean import models

    return str(Path(models.__file__).parent / f"{name}.py") if name in models.CATALOG else ""


def _check_int(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ModemeanError(f"{name} must be a positive integer, got {value!r}")


def _read_replicates(folder: Path, replicates: int, key: str, force: bool) -> dict[int, dict[str, Any]]:
    """The finished replicates ``i < replicates`` in ``folder``; refuse (or with ``force`` delete) those of
    another study."""
    from ..results import remove_stale_temporaries
    from ..run import shown_path

    remove_stale_temporaries(folder)
    records = {}
    for path in sorted(folder.glob("replicate_*.json")):
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise ModemeanError(
                f"cannot read {shown_path(path)} ({exc}): delete it to recompute that replicate"
            ) from exc
        if record.get("key") != key:
            if not force:
                raise ModemeanError(
                    f"{shown_path(folder)} holds replicates of a study with another model source, data, truth or "
                    "settings: pass --force to discard them, or --out DIR to keep both"
                )
            path.unlink()
            continue
        if record["replicate"] < replicates:
            records[record["replicate"]] = record
    return records


def _write_json(path: Path, data: dict[str, Any]) -> None:
    from ..results import _jsonable, dump_json

    dump_json(_jsonable(data), path)


def _close(client, cluster) -> None:
    """Disconnect; stop the local cluster's workers, even mid-replicate (their finished work is on disk).
    Closing twice is harmless."""
    if client is not None and client.status != "closed":
        client.close(timeout=CLOSE_TIMEOUT)
    if cluster is not None and cluster.status.name != "closed":
        cluster.close(timeout=CLOSE_TIMEOUT)
