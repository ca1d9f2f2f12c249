"""The ``modemean`` command line: ``list``, ``run``, ``study``, ``teach``, ``report``.

Every user error prints one line ``modemean: error: ...`` and exits with status 2; nothing
already written is lost.
"""

from __future__ import annotations

import argparse
import difflib
import os
import signal
import sys
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")

DEFAULT_OUT = Path("reports/site")
DEFAULT_JOBS = min(2, os.cpu_count() or 1)  # models solved at once by a run of several models


class _Parser(argparse.ArgumentParser):
    """One line per error, no usage dump; no abbreviated options (``--chain 2`` is an error, not ``--chains``)."""

    commands: argparse._SubParsersAction | None = None  # the top parser's subcommands

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str):
        self.exit(2, f"modemean: error: {message} (see '{self.prog} --help')\n")

    def parse_args(self, args=None, namespace=None):  # type: ignore[override]
        """Parse; an unknown option is refused naming the closest option of its command and that command's help."""
        parsed, extra = self.parse_known_args(args, namespace)
        if extra:
            commands = self.commands.choices if self.commands is not None else {}
            command = commands.get(getattr(parsed, "command", None) or "", self)
            known = [o for o in command._option_string_actions if o.startswith("--")]
            word = next((e for e in extra if e.startswith("-")), extra[0])
            close = difflib.get_close_matches(word.split("=")[0], known, n=1, cutoff=0.6)
            what = "unknown option" if word.startswith("-") else "unexpected argument"
            hint = f": did you mean {close[0]}?" if close else ""
            command.error(f"{what} {word}{hint}")
        return parsed


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("modemean")
    except metadata.PackageNotFoundError:  # a source tree that was never installed
        return "unknown (not installed)"


def _parser() -> argparse.ArgumentParser:
    """The parser; the solvers' flags come from their declared options (plain data, no PyMC), so every
    argument is checked, and ``--help`` shown, before the engine is imported."""
    from .comparisons.solvers import default_solvers, run_options
    from .comparisons.solvers.declared import solver_names

    parser = _Parser(
        prog="modemean",
        description="One PyMC model, several answers: the posterior mode (find_MAP), EM and NUTS, side by side.",
    )
    parser.add_argument("--version", action="version", version=f"modemean {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    parser.commands = sub
    sub.add_parser("list", help="list the catalog models", description="List the catalog models.")
    run = sub.add_parser(
        "run",
        help="solve models and write results.json / results.nc",
        description="Solve each model with the chosen solvers, print the comparison "
        "table and write OUT/<model>/results.json and results.nc.",
    )
    run.add_argument(
        "models",
        nargs="*",
        metavar="MODEL",
        help="catalog name, path to a model .py file, or 'all' for the whole catalog (or --formula)",
    )
    run.add_argument(
        "--formula", help="an lme4-style formula, e.g. 'Reaction ~ Days + (Days | Subject)' (needs --data)"
    )
    run.add_argument("--data", type=Path, help="the CSV file (a header line of column names) the formula reads")
    run.add_argument("--family", default="gaussian", help="Bambi's family for --formula (default %(default)s)")
    for name, option in run_options().items():
        _add_option(run, name, option)
    run.add_argument(
        "--solvers",
        default=",".join(default_solvers()),
        help=f"comma-separated subset of {', '.join(solver_names())}, or all (default %(default)s)",
    )
    run.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default %(default)s)")
    run.add_argument(
        "--force",
        action="store_true",
        help="solve again even if results made with the same model, data, options and versions exist",
    )
    run.add_argument(
        "--name",
        help="results folder OUT/NAME instead of the model's name (one MODEL only), e.g. "
        "to keep two model files with the same name apart",
    )
    run.add_argument(
        "--wide",
        action="store_true",
        help="print every column and every row of the table (default: at most 100 characters a line, "
        "vector parameters summarised in one line)",
    )
    run.add_argument(
        "--jobs",
        type=int,
        default=DEFAULT_JOBS,
        help="with several models: how many to solve at once, each in its own process (default %(default)s)",
    )
    run.add_argument(
        "--quiet",
        action="store_true",
        help="no progress messages (by default: bars on a terminal, one line per step otherwise, on stderr)",
    )
    run.add_argument(
        "--verbose",
        action="store_true",
        help="with several models: print each one's full comparison table, not one line per model "
        "(the pages show the tables)",
    )
    study = sub.add_parser(
        "study",
        help="simulation study: bias, RMSE and coverage of each estimate, SBC ranks",
        description="Draw R truths (from the prior, or the model file's TRUTH), simulate data with the model "
        "itself, refit the chosen solvers on each data set and summarise: bias and RMSE of each point estimate "
        "(map, em, mle, mean, median, mode) with Monte Carlo errors, coverage of the 94% HDI and of the Laplace "
        "interval, SBC rank histograms. Writes OUT/<model>/study/replicate_*.json as replicates finish (a "
        "stopped study resumes where it stopped) and OUT/<model>/study.json.",
    )
    study.add_argument("model", metavar="MODEL", help="catalog name or path to a model .py file")
    study.add_argument("--replicates", type=int, required=True, metavar="R", help="simulated data sets")
    study.add_argument(
        "--truth",
        default="prior",
        help="prior: draw the parameters from the prior; fixed: the model file's TRUTH (default %(default)s)",
    )
    where = study.add_mutually_exclusive_group()
    where.add_argument(
        "--workers", type=int, metavar="W", help="local worker processes (default: the cores; 1 runs in-process)"
    )
    where.add_argument(
        "--scheduler", metavar="ADDRESS", help="tcp://host:port of a running Dask scheduler (e.g. a SLURM cluster)"
    )
    study.add_argument(
        "--sbc-draws",
        type=int,
        default=99,
        metavar="L",
        help="posterior draws (evenly spaced over the chains) the truth is ranked among (default %(default)s)",
    )
    study.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default %(default)s)")
    study.add_argument("--force", action="store_true", help="discard replicates of a study with other settings in OUT")
    study.add_argument("--quiet", action="store_true", help="no progress bar")
    for name, option in run_options().items():
        _add_option(study, name, option)
    study.add_argument(
        "--solvers",
        default=",".join(default_solvers()),
        help=f"comma-separated subset of {', '.join(solver_names())}, or all (default %(default)s)",
    )
    teach = sub.add_parser(
        "teach",
        help="compute the teaching pages' numbers (EM demo, prior paths)",
        description="Run modemean's engine for the teaching pages: every EM iteration of "
        "two_gaussians from each restart, and the MAP / posterior-mean paths of "
        "sparse_regression as the prior widens. Writes DIR/teaching/em_demo.json, em_bound.json and "
        "prior_demo.json; 'modemean report' renders the pages (about half a minute).",
    )
    teach.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        metavar="DIR",
        help="results folder; the numbers go to DIR/teaching (default %(default)s)",
    )
    teach.add_argument(
        "--force", action="store_true", help="recompute every file, even those up to date for these settings"
    )
    for name in ("seed", "n_init"):
        _add_option(teach, name, run_options()[name])
    teach.add_argument(
        "--quiet", action="store_true", help="no progress messages (bars on a terminal, else a line per file)"
    )
    report = sub.add_parser(
        "report",
        help="render HTML reports from saved results",
        description="Render DIR/<model>/index.html for each model with results in DIR "
        "(written by 'modemean run --out DIR'), DIR/<model>/study.html for each simulation study "
        "(DIR/<model>/study.json, written by 'modemean study'), the teaching pages DIR/teaching/*.html "
        "(numbers from 'modemean teach --out DIR' and the eight_schools results) and the "
        "index DIR/index.html. Never runs a solver.",
    )
    report.add_argument("models", nargs="*", metavar="MODEL", help="models to render (default: all in DIR)")
    report.add_argument(
        "--force",
        action="store_true",
        help="re-render pages that are newer than their results (by default they are kept)",
    )
    report.add_argument(
        "--jobs",
        type=int,
        default=DEFAULT_JOBS,
        help="model pages rendered at once, each in its own process (default %(default)s)",
    )
    report.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        metavar="DIR",
        help="folder holding the results; pages are written there (default %(default)s)",
    )
    report.add_argument(
        "--quiet", action="store_true", help="no progress messages (bars on a terminal, else a line per page)"
    )
    return parser


def _add_option(parser: argparse.ArgumentParser, name: str, option) -> None:
    """``--name-with-dashes`` for a declared option; its rule is checked by the registry's validator."""
    choices = f": {' or '.join(option.choices)}" if option.choices else ""
    parser.add_argument(
        f"--{name.replace('_', '-')}",
        dest=name,
        type=option.type,
        default=option.default,
        help=f"{option.help}{choices} (default %(default)s)",
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``modemean`` console script; returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    from .comparisons.errors import ModemeanError, interrupt
    from .comparisons.system import quiet_libraries

    # SIGTERM ends a run like Ctrl-C: finished results are saved, temporaries cleaned up
    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGINT, interrupt)

    try:
        args = _parser().parse_args(argv)
        quiet_libraries()  # PyMC's optimiser/Hessian notes and numba's object-mode notes: the table's flags say it
        if args.command == "list":
            return _list()
        if args.command == "report":
            return _report(args)
        if args.command == "teach":
            return _teach(args)
        if args.command == "study":
            return _study(args)
        return _run(args)
    except ModemeanError as exc:
        print(f"modemean: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("modemean: interrupted; results written before the interruption are complete and intact", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader of the output left (`modemean list | head`): stop printing, no traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # Python's flush at exit would raise again
        return 1


def _list() -> int:
    from . import models

    width = max(map(len, models.CATALOG))
    for name in models.CATALOG:
        print(f"{name:{width}s}  {models.info(name)['title']}")
    return 0


def _run(args) -> int:
    from . import models
    from .comparisons.errors import ModemeanError
    from .comparisons.run import progress
    from .comparisons.run.output import check_target, plan_output
    from .comparisons.solvers import run_options
    from .comparisons.solvers.declared import check_declared

    options = {name: getattr(args, name) for name in run_options()}
    check_declared(args.solvers, options)  # every argument is checked before the engine (PyMC) is imported
    _check_jobs(args.jobs)
    if args.formula is not None or args.data is not None:
        return _run_formula(args, options)
    if not args.models:
        raise ModemeanError("give a MODEL (a catalog name or a model file), or --formula and --data")
    targets = list(models.CATALOG) if args.models == ["all"] else args.models
    # results folders unique per model source, checked for every target before any solver runs; an unknown
    # name (close matches said) or no such file is refused before anything runs
    folders = plan_output(targets, args.out, args.name, check_target=check_target)
    from .comparisons.run.batch import solve_many
    from .comparisons.run.compare import compare
    from .comparisons.solvers import check_options
    from .reports.live import LiveSite, summary_line

    check_options(args.solvers, options)  # each solver's own checks (an optional package installed)
    extra = {"name": args.name} if args.name is not None else {}
    # several models: the display counts them, and each one's line is the summary printed below
    sink, shown = progress.display(args.quiet, total=len(targets) if len(targets) > 1 else None)
    if len(targets) == 1:  # one model: solved in this process
        with shown, progress.reporting(sink):
            comparison = compare(targets[0], solvers=args.solvers, **options, out=args.out, force=args.force, **extra)
            _print_comparison(comparison.text(args.wide), args.out / comparison.spec.name, comparison.cached)
        return 0

    live = LiveSite(args.out, [folders[t] for t in targets])
    finished = []

    def show(outcome):  # each model as it finishes: one line (or its table), then its page and the index
        finished.append(outcome)
        count = f" [{len(finished)}/{len(targets)}]"
        if outcome.status != "ok":
            live.dropped(folders[outcome.target])
            print(f"{outcome.target}: {outcome.status} (said at the end){count}", flush=True)
            return
        if args.verbose or args.wide:
            _print_comparison(outcome.wide if args.wide else outcome.text, args.out / outcome.name, outcome.cached)
        print(summary_line(args.out, outcome.name, outcome.seconds, outcome.cached) + count, flush=True)
        live.solved(outcome.name)

    try:
        with shown:
            outcomes = solve_many(
                targets,
                jobs=args.jobs,
                sink=sink,
                show=show,
                solvers=args.solvers,
                **options,
                out=args.out,
                force=args.force,
            )
    finally:
        live.close()  # the pages asked for are written
    failed = [o for o in outcomes if o.status == "failed"]
    for outcome in failed:  # one line each, after every other model was solved
        print(f"modemean: error: {outcome.target}: {outcome.text}", file=sys.stderr)
    return 2 if failed else 0


def _run_formula(args, options: dict) -> int:
    """``run --formula F --data CSV``: the formula as Bambi builds it, lme4's correlations and names."""
    from .comparisons.errors import ModemeanError
    from .comparisons.formula import bambi_model, read_table
    from .comparisons.run import progress
    from .comparisons.run.compare import compare

    if args.models or args.formula is None or args.data is None:
        raise ModemeanError("--formula and --data go together, without a MODEL")
    frame = read_table(args.data)
    model = bambi_model(args.formula, frame, args.family)
    sink, shown = progress.display(args.quiet)
    with shown, progress.reporting(sink):
        name = args.name or "formula"
        comparison = compare(model, solvers=args.solvers, **options, out=args.out, force=args.force, name=name)
        _print_comparison(str(comparison), args.out / comparison.spec.name, comparison.cached)
    return 0


def _check_jobs(jobs: int) -> None:
    from .comparisons.errors import ModemeanError

    if jobs < 1:
        raise ModemeanError(f"jobs must be an integer >= 1, got {jobs}")


def _print_comparison(text: str, folder: Path, cached: bool) -> None:
    print(text)
    print(f"\n{'kept' if cached else 'wrote'} {folder}/results.json and results.nc\n", flush=True)


def _study(args) -> int:
    from .comparisons.run.output import check_target, shown_path
    from .comparisons.solvers import run_options
    from .comparisons.solvers.declared import check_declared

    check_declared(args.solvers, {name: getattr(args, name) for name in run_options()})
    check_target(args.model)
    from .comparisons.studies import study
    from .comparisons.studies.summary import format_summary

    options = {name: getattr(args, name) for name in run_options() if name != "seed"}
    try:
        result = study(
            args.model,
            replicates=args.replicates,
            truth=args.truth,
            solvers=args.solvers,
            seed=args.seed,
            workers=args.workers,
            scheduler=args.scheduler,
            out=args.out,
            sbc_draws=args.sbc_draws,
            force=args.force,
            quiet=args.quiet,
            **options,
        )
    except KeyboardInterrupt as exc:  # the study says what it kept and how to go on
        print(f"modemean: interrupted: {exc}" if str(exc) else "modemean: interrupted", file=sys.stderr)
        return 130
    if not args.quiet:
        print(format_summary(result.summary))
    print(f"\nwrote {shown_path(result.folder / 'study.json')} ({result.computed} replicates computed now)")
    return 0


def _teach(args) -> int:
    from .comparisons.run.output import check_writable
    from .comparisons.solvers.declared import check_declared

    check_declared("map,em", {"seed": args.seed, "n_init": args.n_init})
    check_writable(args.out)
    from .comparisons.run import progress
    from .comparisons.teaching import build_teaching

    sink, shown = progress.display(args.quiet)
    with shown, progress.reporting(sink):
        files = build_teaching(args.out, seed=args.seed, n_init=args.n_init, force=args.force)
    for path, written in files:
        print(f"wrote {path}" if written else f"kept {path} (up to date; --force recomputes it)")
    return 0


def _report(args) -> int:
    import time

    from .comparisons.run import progress

    _check_jobs(args.jobs)
    from .reports import render
    from .reports.teaching import render_teaching

    sink, shown = progress.display(args.quiet)
    with shown, progress.reporting(sink):
        start = time.perf_counter()
        teaching = render_teaching(args.out, force=args.force)
        if teaching:  # said once done: a folder without results gets its one error line alone
            seconds = time.perf_counter() - start
            said = f"done in {seconds:.1f} s"
            progress.emit("done", model="teaching pages", seconds=seconds, cached=False, said=said)
        index = render(args.out, args.models or None, extra_pages=teaching, force=args.force, jobs=args.jobs)
    print(f"wrote {index}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
