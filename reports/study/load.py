"""A saved simulation study (``DIR/<model>/study.json``): :class:`Study`, finding and loading it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modemean.comparisons.errors import ModemeanError

SUMMARY = "study.json"


PAGE = "study.html"


NOMINAL = 0.94  # the level of both intervals


TIE_SE = 2.0  # an RMSE within this many combined MCSEs of the smallest ties with it


BIAS_SE = 2.0  # a bias beyond this many MCSEs is called a bias


SBC_ALPHA = 0.01  # a chi-square p-value below this: the ranks are not uniform (matches the 99% band)


# estimator key -> its name on the page, in the page's order; an estimator not listed keeps its key
ESTIMATORS = {
    "map": "MAP (find_MAP)",
    "em": "MAP-EM (marginal mode)",
    "mle": "MLE (ML-EM)",
    "mean": "posterior mean",
    "median": "posterior median",
    "mode": "posterior mode (of the draws)",
}


INTERVALS = {"hdi94": "94% HDI (NUTS)", "laplace94": "Laplace 94% (MAP ± 1.88 laplace_sd)"}


INTERVALS_SHORT = {"hdi94": "94% HDI", "laplace94": "Laplace interval"}


@dataclass(frozen=True)
class Study:
    """One model's saved simulation study.

    Attributes
    ----------
    name : str
        The folder name (the model).
    folder : Path
        ``DIR/<model>``.
    data : dict
        The content of ``study.json`` (schema 1; see the README).
    """

    name: str
    folder: Path
    data: dict[str, Any]

    @property
    def estimators(self) -> dict[str, dict[str, dict]]:
        """Parameter to estimator to ``{"n", "bias", "bias_mcse", "rmse", "rmse_mcse"}``."""
        return self.data.get("estimators") or {}

    @property
    def coverage(self) -> dict[str, dict[str, dict]]:
        """Parameter to interval (``hdi94``, ``laplace94``) to ``{"n", "covered", "rate", "se"}``."""
        return self.data.get("coverage") or {}

    @property
    def sbc(self) -> dict[str, dict]:
        """Parameter to its SBC rank histogram and chi-square test (empty without NUTS or prior truth)."""
        return self.data.get("sbc") or {}

    @property
    def replicates(self) -> dict[str, Any]:
        """``{"done", "failed", "seconds", "failures"}``."""
        return self.data.get("replicates") or {}

    @property
    def settings(self) -> dict[str, Any]:
        return self.data.get("settings") or {}

    def _names(self) -> list[str]:
        """Every flat name of the summary: the model's parameters (``parameters``) first, then the rest
        (latent variables, deterministics) in the summary's order."""
        found = dict.fromkeys([*self.estimators, *self.coverage, *self.sbc])
        return [n for n in self.data.get("parameters") or [] if n in found] + list(found)

    def is_parameter(self, name: str) -> bool:
        """``name`` is one of the model's parameters (true when the summary does not say)."""
        listed = self.data.get("parameters")
        return listed is None or name in listed

    def parameters(self) -> list[str]:
        """Every name of the summary as the page shows them: scalars first, then each vector's entries."""
        return self.scalars() + [n for entries in self.vectors().values() for n in entries]

    def scalars(self) -> list[str]:
        """The names without an index (``mu``, ``tau``), the model's parameters first."""
        return [n for n in dict.fromkeys(self._names()) if "[" not in n]

    def vectors(self) -> dict[str, list[str]]:
        """Each vector's name to its entries (``eta`` -> ``eta[0]``, ``eta[1]``, ...), the model's parameters first."""
        out: dict[str, list[str]] = {}
        for n in dict.fromkeys(self._names()):
            if "[" in n:
                out.setdefault(n.split("[", 1)[0], []).append(n)
        return out

    def estimator_keys(self) -> list[str]:
        """Every estimator present for some parameter, in :data:`ESTIMATORS` order, then any other."""
        present = dict.fromkeys(e for rows in self.estimators.values() for e in rows)
        return [e for e in ESTIMATORS if e in present] + [e for e in present if e not in ESTIMATORS]

    def interval_keys(self) -> list[str]:
        present = dict.fromkeys(k for rows in self.coverage.values() for k in rows)
        return [k for k in INTERVALS if k in present] + [k for k in present if k not in INTERVALS]


def label(estimator: str) -> str:
    """How the page names an estimator (``"median"`` -> ``"posterior median"``)."""
    return ESTIMATORS.get(estimator, estimator)


def find_studies(out: Path) -> list[str]:
    """Names of the folders in ``out`` that hold a ``study.json``, sorted."""
    out = Path(out)
    return sorted(p.parent.name for p in out.glob(f"*/{SUMMARY}")) if out.is_dir() else []


def load_study(out: Path, name: str) -> Study:
    """Load ``out/<name>/study.json``.

    Raises
    ------
    ModemeanError
        When the file is missing, unreadable or not a study summary, naming the command that writes it.
    """
    path = Path(out) / name / SUMMARY
    rerun = f"run 'modemean study {name} --out {out}'"
    if not path.is_file():
        raise ModemeanError(f"no study of {name!r}: {path} does not exist; {rerun} first")
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ModemeanError(f"cannot read {path}: {exc}; {rerun} again") from exc
    if not isinstance(data, dict) or data.get("schema") != 1 or "replicates" not in data:
        raise ModemeanError(f"{path} is not a modemean study summary (schema 1); {rerun} again")
    return Study(name, path.parent, data)
