"""``sacredlite sweep`` and ``sacredlite tune``: the command lines (internal).

Usage::

    sacredlite sweep SCRIPT.py[:VAR] [with UPDATE...] [--grid KEY=VALUES ...] [--seeds N]
        [--sample N --space KEY=DIST(...) ...] [--executor NAME] [--jobs N]
        [--executor-opt KEY=VALUE ...] [-F DIR] [-m URL] [--dry-run] [--via-queue]
    sacredlite tune SCRIPT.py[:VAR] [with UPDATE...] --optuna KEY=DIST(...) ...
        [--metric result|NAME] [--direction minimize|maximize] [--trials N] [--study NAME]
        [--storage URL|PATH] [--executor NAME] [--jobs N] [-F DIR] [-m URL]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from ..errors import SacredliteError
from ..events import RunStatus

__all__ = ["split_updates", "sweep_main", "tune_main"]


def split_updates(argv: Sequence[str]) -> tuple[str, list[str], list[str]]:
    """Return ``(script, with-updates, the other arguments)`` of ``SCRIPT [with U...] ...``."""
    if not argv or argv[0].startswith("-"):
        raise SacredliteError("Name the experiment script first: sacredlite sweep train.py ...")
    script, rest = argv[0], list(argv[1:])
    updates: list[str] = []
    if rest and rest[0] == "with":
        rest.pop(0)
        while rest and not rest[0].startswith("-"):
            updates.append(rest.pop(0))
    return script, updates, rest


def _engine_arguments(parser: argparse.ArgumentParser) -> None:
    from ..engines import ENGINES

    parser.add_argument("--executor", default="local", choices=list(ENGINES), help="engine")
    parser.add_argument("--jobs", type=int, help="tasks running at once")
    parser.add_argument(
        "--executor-opt", action="append", default=[], metavar="KEY=VALUE",
        help="an option of the engine (e.g. address=..., timeout_min=60)",
    )  # fmt: skip
    parser.add_argument("-F", "--file_storage", metavar="DIR", help="record into file storage")
    parser.add_argument("-m", "--mongo_db", metavar="URL", help="record into MongoDB")
    parser.add_argument("--command", help="run this command of the experiment instead of main")
    parser.add_argument("--runs-per-task", type=int, help="runs one engine task carries")


def _sweep_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sacredlite sweep SCRIPT.py[:VAR] [with UPDATE...]",
        description="Run a grid or sampled sweep of an experiment on an engine.",
    )
    parser.add_argument("--grid", action="append", default=[], metavar="KEY=VALUES")
    parser.add_argument("--seeds", help="seeds per point: a count (5: 0..4) or a list")
    parser.add_argument("--sample", type=int, metavar="N", help="points drawn from --space")
    parser.add_argument("--space", action="append", default=[], metavar="KEY=DIST(...)")
    parser.add_argument("--sample-seed", type=int, help="seed of the --sample draw")
    parser.add_argument("--dry-run", action="store_true", help="list the runs and exit")
    parser.add_argument(
        "--via-queue", action="store_true",
        help="queue the runs in MongoDB (-m) and start --jobs workers on the engine",
    )  # fmt: skip
    _engine_arguments(parser)
    return parser


def _print_outcome(size: int, point_of: dict[int, dict[str, Any]]) -> Any:
    from .plan import describe_point

    done = [0]

    def progress(outcome: Any) -> None:
        done[0] += 1
        if outcome.run_id is not None:
            where = f"run {outcome.run_id}"
        else:  # a run without observers has no id; one that never ran is not recorded
            where = "unobserved" if outcome.status == RunStatus.COMPLETED.value else "not recorded"
        error = f"  ({outcome.error})" if outcome.error else ""
        print(
            f"[{done[0]}/{size}] {outcome.status:<10} {where}: "
            f"{describe_point(point_of[outcome.index])}{error}",
            flush=True,
        )

    return progress


def _summary(sweep_id: str, size: int, counts: dict[str, int]) -> str:
    parts = ", ".join(f"{count} {status}" for status, count in counts.items())
    return f"sweep {sweep_id}: {size} runs: {parts or 'none run'}"


def _fail(command: str, exc: BaseException) -> int:
    print(f"sacredlite {command}: {exc}", file=sys.stderr)
    return 2


def sweep_main(argv: list[str] | None = None) -> int:
    """Run ``sacredlite sweep``; return the exit code (1 if any run did not complete)."""
    from ..config.paths import iterate_flattened
    from ..config.updates import get_config_updates
    from ..engines import parse_engine_options
    from .api import plan_sweep, run_planned
    from .plan import describe_point
    from .space import parse_axis, parse_space_option

    args_list = sys.argv[1:] if argv is None else argv
    try:
        script, updates, rest = split_updates(args_list)
        args = _sweep_parser().parse_args(rest)
        fixed, named = get_config_updates(updates)
        common, runs, _ = plan_sweep(
            script,
            grid=dict(parse_axis(axis) for axis in args.grid),
            seeds=args.seeds,
            space=dict(parse_space_option(item) for item in args.space),
            samples=args.sample,
            sample_seed=args.sample_seed,
            config_updates=fixed,
            named_configs=named,
            command=args.command,
            file_storage=args.file_storage,
            mongo_url=args.mongo_db,
        )
        engine_options = parse_engine_options(args.executor_opt)
    except (SacredliteError, ValueError, TypeError) as exc:
        return _fail("sweep", exc)
    print(f"sweep {common.sweep_id}: {len(runs)} runs of {common.experiment.path}", flush=True)
    if args.dry_run:
        for run in runs:
            flat = " ".join(f"{k}={v!r}" for k, v in iterate_flattened(run.config_updates))
            print(f"  [{run.index}] {describe_point(run.point)}    with {flat}".rstrip())
        return 0
    progress = _print_outcome(len(runs), {run.index: run.point for run in runs})
    try:
        if args.via_queue:
            from .queue import sweep_via_queue

            outcomes = sweep_via_queue(
                common, runs, args.executor, args.jobs, engine_options, progress
            )
        else:
            outcomes = run_planned(
                common, runs, None, args.executor, args.jobs, engine_options,
                args.runs_per_task, progress,
            )  # fmt: skip
    except (SacredliteError, ValueError) as exc:
        return _fail("sweep", exc)
    from collections import Counter

    counts = dict(Counter(outcome.status for outcome in outcomes).most_common())
    print(_summary(common.sweep_id, len(runs), counts), flush=True)
    return 0 if set(counts) <= {RunStatus.COMPLETED.value} and len(outcomes) == len(runs) else 1


def tune_main(argv: list[str] | None = None) -> int:
    """Run ``sacredlite tune``; return the exit code."""
    from .search import tune_main as main

    return main(sys.argv[1:] if argv is None else argv)
