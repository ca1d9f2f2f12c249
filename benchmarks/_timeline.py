"""A pytest plugin for ``make_test.py``: each test's start, end and CPU seconds, one JSON line per test.

Loaded with ``-p _timeline`` (``benchmarks/`` on ``PYTHONPATH``); writes to the folder in
``$TIMELINE_DIR``, one file per test process (an xdist worker each). CPU seconds are the process's
own (user + system) and those of the children it waited for during the test (command-line runs,
g++); a grandchild nobody waits for (a forkserver's workers, Chromium) is not counted.
"""

import json
import os
import resource
import time
from pathlib import Path

import pytest


def _cpu() -> tuple[float, float]:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    start, (own0, children0) = time.time(), _cpu()
    yield
    own1, children1 = _cpu()
    row = {"id": item.nodeid, "start": start, "end": time.time(), "own": own1 - own0, "children": children1 - children0}
    with open(Path(os.environ["TIMELINE_DIR"]) / f"{os.getpid()}.jsonl", "a") as f:
        f.write(json.dumps(row) + "\n")


def pytest_sessionfinish(session):
    """The session's base temporary folder, where the catalog fixture leaves its per-model marks."""
    factory = getattr(session.config, "_tmp_path_factory", None)
    if factory is not None:
        base = factory.getbasetemp()
        root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
        (Path(os.environ["TIMELINE_DIR"]) / f"basetemp-{os.getpid()}").write_text(str(root))
