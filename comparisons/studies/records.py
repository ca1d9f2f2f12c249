"""The files of a study: one JSON file per replicate, written atomically as it finishes, and ``study.json``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import ModemeanError

__all__ = ["read_replicates", "write_json"]


def read_replicates(folder: Path, replicates: int, key: str, force: bool) -> dict[int, dict[str, Any]]:
    """The finished replicates ``i < replicates`` in ``folder``; refuse (or with ``force`` delete) those of
    another study."""
    from ..results.write import remove_stale_temporaries
    from ..run.output import shown_path

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


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` to ``path`` as strict JSON, atomically, converted as ``results.json`` is."""
    from ..results.write import dump_json, jsonable

    dump_json(jsonable(data), path)
