"""What a study is, once its input is checked: :func:`validate` refuses bad input in one line each and
returns the :class:`Plan` that :func:`~.study.study` runs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ModemeanError
from ..system import available_cores
from .replicate import TRUTHS, check_truth

if TYPE_CHECKING:
    from ..spec.model_spec import ModelSpec

__all__ = ["Plan", "validate"]


@dataclass(frozen=True)
class Plan:
    """A study once its input is checked: what each replicate runs, and where the study is written.

    Attributes
    ----------
    spec : ModelSpec
    target : str
        What each worker loads: the catalog name, or the model file's absolute path.
    truth : {"prior", "fixed"}
    chosen : tuple of str
        The solvers.
    options : dict
        What each replicate gets: ``seed``, the chosen solvers' options and ``sbc_draws``.
    settings : dict
        ``study.json``'s settings: the options, the solvers, the replicates and where they run.
    folder : Path
        ``OUT/<model>``.
    """

    spec: ModelSpec
    target: str
    truth: str
    chosen: tuple[str, ...]
    options: dict[str, Any]
    settings: dict[str, Any]
    folder: Path

    @property
    def replicas(self) -> Path:
        """The folder of the replicate files, ``OUT/<model>/study``."""
        return self.folder / "study"


def validate(
    model: str | Path,
    replicates: int,
    truth: str,
    solvers: str | tuple[str, ...] | None,
    seed: int | None,
    workers: int | None,
    scheduler: str | None,
    out: str | Path,
    sbc_draws: int,
    options: dict[str, Any],
) -> Plan:
    """Check :func:`~.study.study`'s arguments (the same names), each refused in one line before anything runs,
    and settle what the study is."""
    from ..run.output import check_writable
    from ..solvers import SEED, SOLVERS, check_options
    from ..spec.load import load_spec
    from ..spec.model_spec import observed_keys

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
    options = {"seed": seed, **{k: values[k] for name in chosen for k in SOLVERS[name].options}, "sbc_draws": sbc_draws}
    settings = {
        "replicates": replicates,
        "solvers": list(chosen),
        "workers": workers,
        "scheduler": scheduler,
        **options,
    }
    return Plan(spec, target, truth, chosen, options, settings, Path(out) / spec.name)


def _catalog_source(name: str) -> str:
    from modemean import models

    return str(Path(models.__file__).parent / f"{name}.py") if name in models.CATALOG else ""


def _check_int(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ModemeanError(f"{name} must be a positive integer, got {value!r}")
