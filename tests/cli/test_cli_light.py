"""The light paths: ``modemean list`` and ``--help`` import neither PyMC nor PyTensor, ``run --help``
(the solver registry) no ArviZ; the engine switches numba's fastmath off (cold/warm compile caches
give the same numbers) unless told otherwise."""

import os
import subprocess
import sys

from modemean import models


def _python(code, **env):
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env={**os.environ, **env}
    )


def test_list_reads_info_without_importing_pymc():
    proc = _python(
        "import sys\nfrom modemean.cli import main\nmain(['list'])\n"
        "assert 'pymc' not in sys.modules and 'pytensor' not in sys.modules, 'heavy import'"
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == len(models.CATALOG)
    assert lines[0].split()[0] == models.CATALOG[0] and models.info(models.CATALOG[0])["title"] in lines[0]


def test_a_reader_leaving_early_gets_no_traceback():
    """``modemean list | head``: the pipe's reader is gone before anything is printed (its end is closed at
    once); the command stops printing without a traceback."""
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys; from modemean.cli import main; sys.exit(main(['list']))"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    proc.stdout.close()
    assert proc.wait(timeout=120) == 1
    assert proc.stderr.read() == ""


def test_run_help_lists_every_solver_without_importing_arviz():
    proc = _python(
        "import sys\nfrom modemean.cli import main\ntry:\n    main(['run', '--help'])\nexcept SystemExit:\n    pass\n"
        "assert 'arviz' not in sys.modules and 'jax' not in sys.modules, 'heavy import'"
    )
    assert proc.returncode == 0, proc.stderr
    from modemean.comparisons.solvers import SOLVERS

    assert all(name in proc.stdout for name in SOLVERS)
    assert "--draws" in proc.stdout and "--sampler" in proc.stdout


def test_engine_turns_fastmath_off_unless_the_user_set_it():
    code = "import modemean.comparisons.spec, pytensor; print(pytensor.config.numba__fastmath)"
    assert _python(code).stdout.strip() == "False"
    assert _python(code, PYTENSOR_FLAGS="numba__fastmath=True").stdout.strip() == "True"
    # imported after PyTensor: set on the live config
    assert (
        _python("import pytensor, modemean.comparisons; print(pytensor.config.numba__fastmath)").stdout.strip()
        == "False"
    )
