"""The one executor interface of every trove_blocks script.

Every pipeline and example script takes the same flags (:func:`add_executor_arguments`), turns them into an
:class:`ExecutionSettings` (validated before anything runs or is submitted) and hands its stages to
:func:`run_stages`, which builds datatrove's Local / Slurm / Ray executors, chains the stages with ``depends``,
waits on Slurm when asked, and returns a :class:`RunReport` that names failed ranks and their log files.

Each stage logs to ``<logging_dir>/<stage name>``. A stage remembers the settings it ran with
(``trove_run.json``): when a script is re-run with other settings, the stage's completion marks and declared
outputs are removed first, so datatrove's ``skip_completed`` never serves output of an earlier configuration.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import pickle
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from datatrove.executor import LocalPipelineExecutor, RayPipelineExecutor, SlurmPipelineExecutor
from datatrove.executor import ray as datatrove_ray
from datatrove.executor import slurm as datatrove_slurm
from datatrove.io import get_datafolder
from datatrove.pipeline.base import PipelineStep
from datatrove.utils.logging import logger
from datatrove.utils.stats import PipelineStats

from trove_blocks.io import files_fingerprint, write_json_atomic
from trove_blocks.progress import duration

EXECUTORS = ("local", "slurm", "ray")

#: flags that only mean something to Slurm, by argparse dest
SLURM_ONLY_FLAGS = {
    "partition": "--partition",
    "time": "--time",
    "cpus_per_task": "--cpus-per-task",
    "mem_per_cpu_gb": "--mem-per-cpu-gb",
    "qos": "--qos",
    "sbatch_arg": "--sbatch-arg",
    "venv_path": "--venv-path",
}

SLURM_DEFAULT_TIME = "02:00:00"
SLURM_DEFAULT_CPUS_PER_TASK = 1
SLURM_DEFAULT_MEM_PER_CPU_GB = 2

#: sbatch options trove_blocks (or datatrove) sets itself; --sbatch-arg may not override them
RESERVED_SBATCH_KEYS = {"array", "dependency", "output", "error", "job-name", "export"}

#: how often --wait asks squeue, in seconds
SLURM_POLL_SECONDS = 1.0
#: seconds between two progress lines while --wait waits for Slurm jobs
SLURM_PROGRESS_SECONDS = 30.0

RUN_SETTINGS_FILE = "trove_run.json"


class UsageError(ValueError):
    """A flag or a combination of flags that cannot work; raised before anything runs or is submitted."""


@dataclass(frozen=True)
class ExecutionSettings:
    """How to run: the parsed executor flags, validated."""

    executor: str = "local"
    tasks: int = 1
    workers: int = -1
    logging_dir: str = "logs"
    wait: bool = False
    partition: str | None = None
    time: str = SLURM_DEFAULT_TIME
    cpus_per_task: int = SLURM_DEFAULT_CPUS_PER_TASK
    mem_per_cpu_gb: int = SLURM_DEFAULT_MEM_PER_CPU_GB
    qos: str | None = None
    sbatch_args: dict[str, str] = field(default_factory=dict)
    venv_path: str | None = None


@dataclass
class Stage:
    """One step of a script: a datatrove pipeline run over ``tasks`` ranks.

    ``outputs`` are the folders and files the stage writes; they are removed when the stage's settings or inputs
    change (or a stage before it starts afresh), so a re-run never leaves files of the earlier run beside the new
    ones, nor a summary of the earlier run when this one fails.
    ``inputs`` are the files and folders the stage reads from outside the run; when one of their files is added,
    removed, resized or modified, the stage (and every stage after it) runs afresh instead of being skipped as done.
    ``tasks`` overrides ``--tasks`` for stages that must run with a fixed count (e.g. a single merge task).
    """

    name: str
    pipeline: list
    tasks: int | None = None
    outputs: Sequence[str | os.PathLike] = ()
    inputs: Sequence[str | os.PathLike] = ()


@dataclass
class StageReport:
    """What one stage did: completed and failed ranks, where to look, its merged stats (if written)."""

    name: str
    tasks: int
    logging_dir: Path
    failed_ranks: list[int]
    not_run_ranks: list[int]
    log_files: dict[int, list[Path]]
    stats_file: Path | None
    skipped_reason: str | None = None

    @property
    def ok(self) -> bool:
        return not self.failed_ranks and not self.not_run_ranks

    def counters(self) -> dict[str, dict[str, float]]:
        """The stage's merged datatrove stats as ``{step name: {stat: total}}`` (empty before stats.json exists)."""
        if self.stats_file is None:
            return {}
        steps = json.loads(self.stats_file.read_text())
        return {
            step["name"]: {
                key: value["total"] if isinstance(value, dict) else value for key, value in step["stats"].items()
            }
            for step in steps
        }


@dataclass
class RunReport:
    """The outcome of :func:`run_stages`. ``finished`` is False when Slurm jobs were submitted without --wait."""

    executor: str
    stages: list[StageReport]
    seconds: float
    finished: bool = True
    job_ids: dict[str, str] = field(default_factory=dict)
    refused: str | None = None

    @property
    def ok(self) -> bool:
        return self.refused is None and all(stage.ok for stage in self.stages)

    @property
    def exit_code(self) -> int:
        return 2 if self.refused else 0 if self.ok else 1

    @property
    def verdict(self) -> str:
        if self.refused:
            return "REFUSED"
        if not self.finished:
            return "submitted"
        return "ok" if self.ok else "FAILED"

    def describe(self) -> str:
        """A short human summary: per stage its state, failed ranks and their log files."""
        if self.refused:
            return self.refused
        lines = []
        if not self.finished:
            jobs = ", ".join(f"{name}={job}" for name, job in self.job_ids.items())
            lines.append(f"submitted to Slurm ({jobs}); not waiting (pass --wait to block until done)")
        for stage in self.stages:
            if stage.failed_ranks:
                lines.append(
                    f"stage {stage.name}: FAILED {len(stage.failed_ranks)}/{stage.tasks} ranks "
                    f"{stage.failed_ranks} (logs: {stage.logging_dir})"
                )
                for rank in stage.failed_ranks:
                    for log in stage.log_files[rank]:
                        lines.append(f"  rank {rank}: {log}")
                if stage.not_run_ranks:
                    lines.append(f"  not started: ranks {stage.not_run_ranks}")
            elif stage.not_run_ranks:
                lines.append(f"stage {stage.name}: NOT RUN ({stage.skipped_reason})")
            elif self.finished:
                lines.append(f"stage {stage.name}: ok, {stage.tasks} tasks (logs: {stage.logging_dir})")
        return "\n".join(lines)


# --------------------------------------------------------------------------------------------------- flags


class DefaultsHelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows every flag's default once: argparse's ``(default: x)`` unless the help text already states it, or
    the flag is required (argparse's would say ``(default: None)``)."""

    def _get_help_string(self, action):
        if action.required or "(default:" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


def add_executor_arguments(
    parser: argparse.ArgumentParser,
    *,
    logging_dir: str,
    tasks: int = 1,
    workers: int = -1,
    executor: str = "local",
) -> None:
    """Add the shared executor flags to ``parser``; the keyword arguments are the script's defaults.

    Also sets the parser's help formatter to :class:`DefaultsHelpFormatter`, so ``--help`` of every script
    shows every default.
    """
    parser.formatter_class = DefaultsHelpFormatter
    group = parser.add_argument_group("execution (the same flags on every trove_blocks script)")
    group.add_argument("--executor", choices=EXECUTORS, default=executor, help=f"where tasks run (default: {executor})")
    group.add_argument("--tasks", type=int, default=tasks, help=f"number of tasks (ranks) (default: {tasks})")
    group.add_argument(
        "--workers",
        type=int,
        default=workers,
        help=f"tasks running at once; -1 = all of them (default: {workers})",
    )
    group.add_argument(
        "--logging-dir",
        default=logging_dir,
        help=f"datatrove logs, stats and completion marks, one folder per stage (default: {logging_dir})",
    )
    group.add_argument(
        "--wait",
        action="store_true",
        help="slurm: block until every stage and its merge-stats job finished, exit non-zero naming failed "
        "ranks and their logs; local and ray always block (default: off)",
    )
    slurm = parser.add_argument_group("slurm (only with --executor slurm)")
    slurm.add_argument("--partition", default=None, help="partition (default: the cluster's default partition)")
    slurm.add_argument("--time", default=None, help=f"time limit per task (default: {SLURM_DEFAULT_TIME})")
    slurm.add_argument(
        "--cpus-per-task", type=int, default=None, help=f"CPUs per task (default: {SLURM_DEFAULT_CPUS_PER_TASK})"
    )
    slurm.add_argument(
        "--mem-per-cpu-gb",
        type=int,
        default=None,
        help=f"memory per CPU in whole GB (default: {SLURM_DEFAULT_MEM_PER_CPU_GB})",
    )
    slurm.add_argument("--qos", default=None, help="quality of service (default: none, the cluster's default)")
    slurm.add_argument(
        "--sbatch-arg",
        action="append",
        default=None,
        metavar="KEY=VALUE",
        help="extra sbatch option, repeatable, e.g. --sbatch-arg account=myproj (default: none)",
    )
    slurm.add_argument(
        "--venv-path",
        default=None,
        help="virtualenv the jobs activate (folder or its bin/activate) (default: the running interpreter's venv)",
    )


def settings_from_args(args: argparse.Namespace) -> ExecutionSettings:
    """Validate the executor flags of ``args``; raises :class:`UsageError` naming the bad flag.

    For Slurm it also resolves the default partition and checks that the jobs' environment imports
    trove_blocks: every error surfaces here, before anything is submitted.
    """
    if args.tasks < 1:
        raise UsageError(f"--tasks must be >= 1, got {args.tasks}")
    if args.workers == 0 or args.workers < -1:
        raise UsageError(f"--workers must be -1 (all) or >= 1, got {args.workers}")
    if args.executor != "slurm":
        given = [flag for dest, flag in SLURM_ONLY_FLAGS.items() if getattr(args, dest) is not None]
        if given:
            verb = "applies" if len(given) == 1 else "apply"
            raise UsageError(f"{', '.join(given)} only {verb} to --executor slurm (got --executor {args.executor})")
        return ExecutionSettings(
            executor=args.executor,
            tasks=args.tasks,
            workers=args.workers,
            logging_dir=args.logging_dir,
            wait=args.wait,
        )
    cpus = args.cpus_per_task if args.cpus_per_task is not None else SLURM_DEFAULT_CPUS_PER_TASK
    mem = args.mem_per_cpu_gb if args.mem_per_cpu_gb is not None else SLURM_DEFAULT_MEM_PER_CPU_GB
    if cpus < 1:
        raise UsageError(f"--cpus-per-task must be >= 1, got {cpus}")
    if mem < 1:
        raise UsageError(f"--mem-per-cpu-gb must be >= 1, got {mem}")
    sbatch_args = parse_sbatch_args(args.sbatch_arg or [])
    venv_activate = resolve_venv_activate(args.venv_path)
    # the flags are consistent: now ask the cluster and the jobs' environment, still before submitting anything
    partition = args.partition or default_partition()
    time_limit = args.time or SLURM_DEFAULT_TIME
    check_slurm_request(partition, time_limit, cpus, mem, args.qos, sbatch_args)
    check_job_environment(venv_activate)
    return ExecutionSettings(
        executor="slurm",
        tasks=args.tasks,
        workers=args.workers,
        logging_dir=args.logging_dir,
        wait=args.wait,
        partition=partition,
        time=time_limit,
        cpus_per_task=cpus,
        mem_per_cpu_gb=mem,
        qos=args.qos,
        sbatch_args=sbatch_args,
        venv_path=venv_activate,
    )


def parse_sbatch_args(items: Sequence[str]) -> dict[str, str]:
    """``["account=x", "--constraint=y", "exclusive"]`` -> ``{"account": "x", "constraint": "y", "exclusive": ""}``."""
    parsed: dict[str, str] = {}
    for item in items:
        key, _, value = item.lstrip("-").partition("=")
        if not key:
            raise UsageError(f"--sbatch-arg {item!r}: expected KEY=VALUE")
        if key in RESERVED_SBATCH_KEYS:
            raise UsageError(f"--sbatch-arg {key}: set by trove_blocks itself and cannot be overridden")
        parsed[key] = value
    return parsed


def resolve_venv_activate(venv_path: str | None) -> str | None:
    """The ``bin/activate`` script Slurm jobs source: the given venv (folder or script) or the running one.

    datatrove needs the activate script itself, not the venv folder (a folder makes the job fail with exit 2).
    Returns None when no venv is given and the interpreter runs outside one (the jobs then use PATH as exported).
    """
    if venv_path is None:
        if sys.prefix == sys.base_prefix:
            return None
        venv_path = sys.prefix
    path = Path(venv_path).expanduser().resolve()
    activate = path / "bin" / "activate" if path.is_dir() else path
    if not activate.is_file():
        raise UsageError(f"--venv-path {venv_path}: no virtualenv activate script at {activate}")
    return str(activate)


def parse_settings(parser: argparse.ArgumentParser, argv: Sequence[str] | None = None):
    """Parse ``argv`` with ``parser`` and validate the executor flags; bad flags exit with argparse's usage error.

    A default ``--logging-dir`` may name other flags, e.g. ``"{output}/logs"``: it is filled in from the parsed
    values, so logs follow the output folder the user chose.
    """
    args = parser.parse_args(argv)
    if args.logging_dir == parser.get_default("logging_dir"):
        args.logging_dir = str(args.logging_dir).format(**vars(args))
    try:
        return args, settings_from_args(args)
    except UsageError as error:
        parser.error(str(error))


def script_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The flags of ``args`` that shape a script's output: all but the executor's (which only say where it runs)."""
    executor_dests = {"executor", "workers", "logging_dir", "wait", *SLURM_ONLY_FLAGS}
    return {key: value for key, value in sorted(vars(args).items()) if key not in executor_dests}


# --------------------------------------------------------------------------------------------------- running


def run_stages(
    settings: ExecutionSettings,
    stages: Sequence[Stage],
    *,
    run_settings: dict[str, Any],
    job_name: str = "trove",
) -> RunReport:
    """Run ``stages`` in order (each depends on the one before) with the executor ``settings`` name.

    ``run_settings`` are the script's output-shaping settings (see :func:`script_settings`); a stage whose
    recorded settings or inputs differ is reset before it runs, and so is every stage after it (each reads what the
    ones before wrote). Returns a report; it does not raise when ranks fail.
    """
    if not stages:
        raise ValueError("run_stages needs at least one stage")
    names = [stage.name for stage in stages]
    if len(set(names)) != len(names):
        raise ValueError(f"stage names must be unique, got {names}")
    started = time.monotonic()
    root = Path(settings.logging_dir)
    stage_dirs = [root / stage.name for stage in stages]
    if busy := _slurm_jobs_still_alive(stages, stage_dirs):
        # resetting or resubmitting now would mix their output with this run's (they write as they finish)
        jobs = "; ".join(f"stage {name}: {', '.join(ids)}" for name, ids in busy.items())
        refused = (
            f"Slurm jobs of an earlier submission are still queued or running ({jobs}); wait for them to end "
            f"(squeue -j ...), or cancel them (scancel {' '.join(job for ids in busy.values() for job in ids)}), "
            "then run again"
        )
        return RunReport(settings.executor, [], time.monotonic() - started, refused=refused)
    earlier_reset = False
    fingerprint_of = functools.cache(files_fingerprint)  # a folder read by two stages is listed once
    for stage, stage_dir in zip(stages, stage_dirs):
        fingerprint = _stage_fingerprint(stage, settings, run_settings, fingerprint_of)
        earlier_reset = _reset_if_settings_changed(stage, stage_dir, fingerprint, earlier_reset) or earlier_reset

    if settings.executor == "slurm":
        return _run_slurm(settings, stages, stage_dirs, job_name, started)
    if settings.executor == "ray":
        return _run_ray(settings, stages, stage_dirs, started)
    return _run_local(settings, stages, stage_dirs, started)


#: per stage folder: the Slurm jobs its last submission launched (the stage's array job and its merge-stats job)
SLURM_JOBS_FILE = "slurm_jobs.json"


def _slurm_jobs_still_alive(stages: Sequence[Stage], stage_dirs: Sequence[Path]) -> dict[str, list[str]]:
    """Per stage, the jobs of its last Slurm submission that are still pending or running (none when Slurm is not
    installed or its controller does not answer: such jobs cannot be writing then)."""
    recorded = {}
    for stage, stage_dir in zip(stages, stage_dirs):
        record = stage_dir / SLURM_JOBS_FILE
        if record.is_file():
            recorded[stage.name] = [str(job) for job in json.loads(record.read_text())["jobs"]]
    if not recorded:
        return {}
    ids = sorted({job for jobs in recorded.values() for job in jobs})
    try:
        done = subprocess.run(
            ["squeue", "-h", "-j", ",".join(ids), "-o", "%F"], capture_output=True, text=True, timeout=30
        )
    except (FileNotFoundError, subprocess.TimeoutExpired):
        return {}
    alive = set(done.stdout.split()) if done.returncode == 0 else set()
    return {name: [job for job in jobs if job in alive] for name, jobs in recorded.items() if alive & set(jobs)}


def _stage_tasks(stage: Stage, settings: ExecutionSettings) -> int:
    return stage.tasks if stage.tasks is not None else settings.tasks


def _stage_fingerprint(
    stage: Stage,
    settings: ExecutionSettings,
    run_settings: dict[str, Any],
    fingerprint_of: Callable[[Path], str],
) -> dict[str, Any]:
    return {
        "stage": stage.name,
        "tasks": _stage_tasks(stage, settings),
        "settings": json.loads(json.dumps(run_settings, default=str)),
        "outputs": [str(Path(out).resolve()) for out in stage.outputs],
        "inputs": {str(Path(path).resolve()): fingerprint_of(Path(path).resolve()) for path in stage.inputs},
    }


def _reset_if_settings_changed(
    stage: Stage, stage_dir: Path, fingerprint: dict[str, Any], earlier_reset: bool = False
) -> bool:
    """Remove completion marks, stats and outputs of a stage that last ran with other settings or inputs, or that
    follows a stage reset so (``earlier_reset``); True when it did."""
    record = stage_dir / RUN_SETTINGS_FILE
    previous = json.loads(record.read_text()) if record.is_file() else None
    has_history = (stage_dir / "completions").is_dir()
    reset = (previous != fingerprint or earlier_reset) and (previous is not None or has_history)
    if reset:
        if previous is None or {**previous, "inputs": None} != {**fingerprint, "inputs": None}:
            why = f"settings changed since its last run ({_changed_keys(previous or {}, fingerprint)})"
        elif previous != fingerprint:
            why = f"inputs changed since its last run ({_changed_inputs(previous, fingerprint)})"
        else:
            why = "a stage before it starts afresh"
        logger.warning(f"stage {stage.name}: {why}; starting it afresh")
        for sub in ("completions", "stats", "logs", "slurm_logs"):
            shutil.rmtree(stage_dir / sub, ignore_errors=True)
        (stage_dir / "stats.json").unlink(missing_ok=True)
        current = [Path(out).resolve() for out in stage.outputs]
        for out in current:
            _remove(out)
        # an earlier output beside a current one (another --layout, --modes) goes too; one elsewhere (another
        # --output) is another run's result and stays
        folders = {out.parent for out in current}
        for out in map(Path, (previous or {}).get("outputs", [])):
            if out not in current and out.parent in folders:
                _remove(out)
            elif out not in current and out.exists():
                logger.info(f"stage {stage.name}: the earlier run's output {out} is elsewhere and stays as it is")
    stage_dir.mkdir(parents=True, exist_ok=True)
    tmp = record.with_suffix(".tmp")
    tmp.write_text(json.dumps(fingerprint, indent=2, sort_keys=True))
    tmp.replace(record)
    return reset


def _remove(path: Path) -> None:
    """Remove an output: a folder with everything in it, or a file (or link)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _changed_keys(previous: dict[str, Any], current: dict[str, Any]) -> str:
    old, new = previous.get("settings", {}), current.get("settings", {})
    keys = sorted(k for k in {*old, *new} if old.get(k) != new.get(k))
    if previous.get("tasks") != current.get("tasks") and "tasks" not in keys:  # the stage's own task count
        keys.insert(0, "tasks")
    return ", ".join(keys) or "no record of the earlier settings"


def _changed_inputs(previous: dict[str, Any], current: dict[str, Any]) -> str:
    old, new = previous.get("inputs", {}), current.get("inputs", {})
    return ", ".join(sorted(path for path in {*old, *new} if old.get(path) != new.get(path)))


def _completed_ranks(stage_dir: Path) -> set[int]:
    return {int(p.name) for p in (stage_dir / "completions").glob("*") if p.name.isdigit()}


def _incomplete_ranks(stage_dir: Path, tasks: int) -> bool:
    return len(_completed_ranks(stage_dir)) < tasks


def _stage_report(
    stage: Stage, stage_dir: Path, tasks: int, *, skipped_reason: str | None = None, slurm_job: str | None = None
) -> StageReport:
    """Read a finished stage's state from its logging folder (datatrove's completions/ and logs/).

    A rank without a completion mark failed if it left a log, else it never started.
    """
    done = _completed_ranks(stage_dir)
    # Slurm names its logs by array index; datatrove maps index i to the i-th rank of ranks_to_run.json
    ranks_file = stage_dir / "ranks_to_run.json"
    array_index = {rank: i for i, rank in enumerate(json.loads(ranks_file.read_text()))} if ranks_file.is_file() else {}
    failed, not_run, log_files = [], [], {}
    for rank in range(tasks):
        if rank in done:
            continue
        logs = [stage_dir / "logs" / f"task_{rank:05d}.log"]
        if slurm_job and rank in array_index:
            logs.append(stage_dir / "slurm_logs" / f"{slurm_job}_{array_index[rank]}.out")
        logs = [log for log in logs if log.is_file()]
        if logs and skipped_reason is None:
            failed.append(rank)
            log_files[rank] = logs
        else:
            not_run.append(rank)
    if not_run and not failed and skipped_reason is None:
        skipped_reason = "no task of it started (a stage it depends on failed, or it was cancelled)"
    stats = stage_dir / "stats.json"
    return StageReport(
        name=stage.name,
        tasks=tasks,
        logging_dir=stage_dir,
        failed_ranks=failed,
        not_run_ranks=not_run,
        log_files=log_files,
        stats_file=stats if stats.is_file() else None,
        skipped_reason=skipped_reason if not_run else None,
    )


def _run_in_order(settings, stages, stage_dirs, started, make_executor) -> RunReport:
    """Run stages one after the other in this process (local, ray); stop at the first stage with a failed rank.

    datatrove's ``depends`` would do the same order, but after a failed dependency its Ray executor polls
    for the missing ranks every two minutes, forever; here the failure ends the run at once.
    """
    reports = []
    failed_stage: str | None = None
    for stage, stage_dir in zip(stages, stage_dirs):
        tasks = _stage_tasks(stage, settings)
        if failed_stage:
            reports.append(_stage_report(stage, stage_dir, tasks, skipped_reason=f"stage {failed_stage} failed"))
            continue
        try:
            make_executor(stage, stage_dir, tasks).run()
        except Exception as error:  # a rank raised: the report names it and its log
            logger.error(f"stage {stage.name} failed: {error!r}")
        report = _stage_report(stage, stage_dir, tasks)
        if not report.ok:
            failed_stage = stage.name
        reports.append(report)
    return RunReport(settings.executor, reports, time.monotonic() - started)


def _run_local(settings, stages, stage_dirs, started) -> RunReport:
    import multiprocess

    # worker processes start from datatrove's forkserver: import the stages' modules there once, not in every
    # worker of every stage (~0.4 s per multi-task stage)
    multiprocess.set_forkserver_preload(sorted(_step_modules(stages)))

    def make_executor(stage, stage_dir, tasks):
        workers = settings.workers if settings.workers != -1 else tasks
        return ProgressLocalPipelineExecutor(
            pipeline=stage.pipeline,
            tasks=tasks,
            # more workers than tasks only costs a process pool (~0.45 s for a 1-task stage)
            workers=min(workers, tasks),
            logging_dir=str(stage_dir),
        )

    return _run_in_order(settings, stages, stage_dirs, started, make_executor)


def _step_modules(stages: Sequence[Stage]) -> set[str]:
    """The importable modules that define the stages' steps (a script's own functions, run as __main__, are not)."""
    modules = {"datatrove.executor.local"}
    for stage in stages:
        for step in stage.pipeline:
            if isinstance(step, PipelineStep):
                module = type(step).__module__
            else:  # a function or a functools.partial of one
                module = getattr(getattr(step, "func", step), "__module__", None)
            if module and module != "__main__" and not module.startswith("<"):
                modules.add(module)
    return modules


def _run_ray(settings, stages, stage_dirs, started) -> RunReport:
    try:
        import ray
    except ImportError as error:
        raise UsageError("--executor ray needs ray: pip install 'trove_blocks[ray]'") from error

    def make_executor(stage, stage_dir, tasks):
        return WatchedRayPipelineExecutor(
            pipeline=stage.pipeline,
            tasks=tasks,
            workers=settings.workers,
            logging_dir=str(stage_dir),
            cpus_per_task=1,
            mem_per_cpu_gb=1,
        )

    own_ray = not ray.is_initialized()
    if own_ray:
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        init_kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
        if not os.environ.get("RAY_ADDRESS"):
            # a small local instance: by default ray reserves 7.5 GB of /dev/shm for its object store
            init_kwargs.update(object_store_memory=256 * 1024**2, num_cpus=max(os.cpu_count() or 1, 2))
        ray.init(**init_kwargs)
    try:
        return _run_in_order(settings, stages, stage_dirs, started, make_executor)
    finally:
        if own_ray:
            ray.shutdown()


class WatchedRankWorker(datatrove_ray.RankWorker):
    """datatrove's Ray actor, with the processes that run its ranks watched: one that dies (killed, out of memory)
    fails the actor's Ray task, naming the rank, instead of leaving it waiting forever.

    datatrove's actor runs its ranks in a process pool: when a rank's process is killed, the pool starts a
    replacement but never gets the rank's result, so the actor, and RayPipelineExecutor.run waiting on it without
    a time limit, hung. Ray's retry of crashed workers does not apply: the actor itself is alive. A killed rank
    also never copies its log from the node's temporary folder to the logging folder; it is copied here, with the
    cause at its end, so the run's report names the rank as failed with its log, as the local executor does.
    """

    def run_for_rank(self, executor_ref, ranks, node_ips, node_idx):
        import multiprocess.pool

        class WatchedPool(multiprocess.pool.Pool):
            """The pool datatrove's actor runs its ranks in, whose ``starmap`` stops when one of its processes died."""

            def starmap(self, func, iterable, chunksize=None):
                processes = list(self._pool)
                results = self.starmap_async(func, iterable, chunksize)
                while not results.ready():
                    results.wait(1.0)
                    dead = _dead_exitcodes(processes)
                    if dead and not results.ready():
                        raise _WorkerDied(dead)
                return results.get()  # raises the error of a rank that failed

        # datatrove's run_for_rank builds its pool from this module attribute when called; an actor runs one call
        # at a time, so swapping it for the call is seen by nothing else
        pool_class, multiprocess.pool.Pool = multiprocess.pool.Pool, WatchedPool
        try:
            return super().run_for_rank(executor_ref, ranks, node_ips, node_idx)
        except _WorkerDied as died:
            lost = [rank for rank in ranks if not executor_ref.is_rank_completed(rank)]
            if not lost:  # died after its rank completed: that result never comes, the ranks are done
                return PipelineStats()
            why = _worker_death(died.exitcodes, lost)
            for rank in lost:
                _keep_ray_task_log(executor_ref, rank, why)
            raise RuntimeError(why) from None
        finally:
            multiprocess.pool.Pool = pool_class


class _WorkerDied(Exception):
    """A process of a Ray actor's pool died while its ranks ran (``exitcodes``: of the dead processes)."""

    def __init__(self, exitcodes: list[int]):
        super().__init__(exitcodes)
        self.exitcodes = exitcodes


def _dead_exitcodes(processes: Sequence[Any]) -> list[int]:
    """The exit codes of the pool processes among ``processes`` that ended (a pool's own never end while it works)."""
    return [process.exitcode for process in processes if process.exitcode is not None]


def _worker_death(exitcodes: list[int], lost: list[int]) -> str:
    """Why a stage failed when pool processes died (their ``exitcodes``) while ranks ``lost`` were not complete."""
    causes = ", ".join(
        f"signal {signal.Signals(-code).name}" if code < 0 else f"exit code {code}" for code in exitcodes
    )
    return f"a worker process died ({causes}; killed, or out of memory) while ranks {lost} ran"


def _keep_ray_task_log(executor: RayPipelineExecutor, rank: int, why: str) -> None:
    """Copy the log of a rank whose process died from the node's temporary folder (where datatrove's Ray ranks
    log, copying the log to the logging folder only when the rank ends) to the logging folder, ``why`` at its end."""
    name = f"logs/task_{rank:05d}.log"
    node_logs = get_datafolder(f"{tempfile.gettempdir()}/ray_logs")
    text = node_logs.open(name, "r").read() if node_logs.isfile(name) else ""
    with executor.logging_dir.open(name, "w") as log:
        log.write(f"{text}{why}\n")


class WatchedRayPipelineExecutor(RayPipelineExecutor):
    """RayPipelineExecutor whose actors are :class:`WatchedRankWorker`, so a killed rank fails instead of hanging.

    datatrove creates its actors from its module-level ``RankWorker`` class; it is replaced for the duration of
    the call only.
    """

    def run(self):
        actor_class = datatrove_ray.RankWorker
        datatrove_ray.RankWorker = WatchedRankWorker
        try:
            return super().run()
        finally:
            datatrove_ray.RankWorker = actor_class


# --------------------------------------------------------------------------------------------------- slurm


def _slurm_command(*argv: str) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    except FileNotFoundError as error:
        raise UsageError(
            f"--executor slurm: {argv[0]} not found; install Slurm or start the local cluster: scripts/local-slurm up"
        ) from error
    if done.returncode != 0:
        raise UsageError(
            f"--executor slurm: '{' '.join(argv)}' failed ({done.stderr.strip() or done.returncode}); "
            "is the controller up? (scripts/local-slurm status)"
        )
    return done.stdout


def default_partition() -> str:
    """The cluster's default partition (the one sinfo marks with ``*``)."""
    partitions = _slurm_command("sinfo", "-h", "-o", "%P").split()
    for name in partitions:
        if name.endswith("*"):
            return name[:-1]
    if partitions:
        return partitions[0]
    raise UsageError("--executor slurm: the cluster has no partition; pass --partition")


def check_slurm_request(
    partition: str, time_limit: str, cpus: int, mem_gb: int, qos: str | None, sbatch_args: dict[str, str]
) -> None:
    """Ask Slurm whether it would take a job with these flags (``sbatch --test-only``: nothing is submitted); a
    UsageError quotes its answer (an unknown partition, a malformed --time, more memory or CPUs than a node has,
    an option sbatch does not know) instead of a traceback at the first real submission."""
    flags = [f"--partition={partition}", f"--time={time_limit}", f"--cpus-per-task={cpus}", f"--mem-per-cpu={mem_gb}G"]
    flags += [f"--qos={qos}"] if qos else []
    flags += [f"--{key}={value}" if value else f"--{key}" for key, value in sbatch_args.items()]
    try:
        done = subprocess.run(
            ["sbatch", "--test-only", *flags, "--wrap=true"], capture_output=True, text=True, timeout=60
        )
    except FileNotFoundError as error:
        raise UsageError("--executor slurm: sbatch not found; install Slurm or start the local cluster") from error
    if done.returncode != 0 or "allocation failure" in done.stderr:
        answer = "; ".join(line.strip() for line in done.stderr.splitlines() if line.strip() and "--help" not in line)
        raise UsageError(
            f"--executor slurm: Slurm would refuse these jobs ({answer}); check --partition, --time, "
            "--cpus-per-task, --mem-per-cpu-gb, --qos and --sbatch-arg"
        )


def check_job_environment(venv_activate: str | None) -> None:
    """Fail before submitting when the jobs' environment cannot import trove_blocks and datatrove."""
    if venv_activate is None:
        return
    python = Path(venv_activate).parent / "python"
    probe = subprocess.run(
        [str(python), "-c", "import trove_blocks, datatrove"], capture_output=True, text=True, timeout=120
    )
    if probe.returncode != 0:
        last = (probe.stderr.strip().splitlines() or ["?"])[-1]
        raise UsageError(
            f"--venv-path {venv_activate}: the jobs' python cannot import trove_blocks ({last}); "
            "install it there: pip install -e ."
        )


class ProgressLocalPipelineExecutor(LocalPipelineExecutor):
    """LocalPipelineExecutor that logs after every finished task how many are done, the time so far and an ETA.

    The ETA is the mean wall time per finished task of this run times the tasks left, which holds with any
    number of workers. Ranks completed by an earlier run are not counted.
    """

    def run(self):
        self.start_method = pool_start_method()
        ranks = range(self.local_rank_offset, self.local_rank_offset + self.local_tasks)
        incomplete = self.get_incomplete_ranks(ranks)
        self._progress_start = (time.time(), self.local_tasks - len(incomplete))
        self._finished_here = 0  # the one-worker path runs ranks in this process, without datatrove's counter
        if self.workers == 1 or not incomplete:
            super().run()
        else:
            self._run_pool(incomplete)
        return self._merge_rank_stats()

    def _run_pool(self, ranks_to_run: list[int]) -> None:
        """datatrove's pool of workers, watched: a worker that dies (killed, out of memory) fails the stage.

        datatrove's pool replaces a dead worker but never gets the result of the rank it ran, so the run waited
        forever; here the set of worker processes is checked every second while results are awaited.
        """
        import multiprocess

        self._launched = True
        self.save_executor_as_json()
        manager = multiprocess.Manager()
        try:
            ranks_q = manager.Queue()
            for local_rank in range(self.workers):
                ranks_q.put(local_rank)
            completed = manager.Value("i", self.local_tasks - len(ranks_to_run))
            run_rank = functools.partial(
                self._launch_run_for_rank, ranks_q=ranks_q, completed=completed, completed_lock=manager.Lock()
            )
            with multiprocess.get_context(self.start_method).Pool(self.workers) as pool:
                workers = list(pool._pool)
                results = pool.imap_unordered(run_rank, ranks_to_run)
                for _ in ranks_to_run:
                    while True:
                        try:
                            results.next(timeout=1.0)
                            break
                        except multiprocess.TimeoutError:
                            if dead := _dead_exitcodes(workers):  # the pool replaces it, but its rank never returns
                                lost = self.get_incomplete_ranks(ranks_to_run)
                                if not lost:  # died after the last rank completed: that result never comes
                                    return
                                raise RuntimeError(_worker_death(dead, lost)) from None
        finally:
            manager.shutdown()

    def _merge_rank_stats(self):
        """The stage's stats.json from every rank's stats file, once every rank is complete (datatrove's local run
        merges only the ranks it ran itself: after a resume the summary counted the resumed ranks alone)."""
        ranks = range(self.local_rank_offset, self.local_rank_offset + self.local_tasks)
        if self.get_incomplete_ranks(ranks):
            return None
        merged = PipelineStats()
        for path in sorted((Path(self.logging_dir.path) / "stats").glob("*.json")):
            merged += PipelineStats.from_json(json.loads(path.read_text()))
        with self.logging_dir.open("stats.json", "wt") as handle:
            merged.save_to_disk(handle)
        return merged

    def _launch_run_for_rank(self, rank: int, ranks_q, completed=None, completed_lock=None):
        try:
            result = super()._launch_run_for_rank(rank, ranks_q, completed, completed_lock)
        except Exception as error:
            if completed is not None and not _survives_pickling(error):
                # in a worker process the error goes back to the pool pickled; one that cannot be rebuilt kills the
                # pool's result thread and the run waits forever, so it goes back as a RuntimeError with its text
                raise RuntimeError(f"{type(error).__name__}: {error}") from None
            raise
        # after a completed task only: a failed one was counted as done ("2/3 tasks done" just before "stage failed")
        started, skipped = self._progress_start
        self._finished_here += 1
        done = completed.value - skipped if completed is not None else self._finished_here
        todo = self.local_tasks - skipped
        elapsed = time.time() - started
        eta = elapsed / done * (todo - done) if done else float("nan")
        logger.info(f"{self.logging_dir.path}: {done}/{todo} tasks done in {duration(elapsed)}, ETA {duration(eta)}")
        return result


def _survives_pickling(error: Exception) -> bool:
    try:
        pickle.loads(pickle.dumps(error))
    except Exception:
        return False
    return True


def _thread_count() -> int | None:
    """OS threads of this process (native ones included), None where /proc does not tell."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return None


def _threads_after_numpy() -> int | None:
    """Threads once numpy is imported: its OpenBLAS starts worker threads then (and stops them around fork())."""
    import numpy  # noqa: F401  (datatrove needs it anyway)

    return _thread_count()


#: threads this process had when this module was imported, numpy's included
_THREADS_AT_IMPORT = _threads_after_numpy()


def pool_start_method() -> str:
    """How to start worker processes: ``fork`` on Linux while no thread was started since import, else forkserver.

    datatrove defaults to forkserver because forking a process with other threads can copy a lock one of them
    holds into the child, which then deadlocks (pyarrow, tokenizers and others start native threads when used).
    While the process has no more threads than at import (counted in /proc/self/task, native threads included),
    no such library has started any, and a forked worker inherits every imported module: the forkserver's first
    start costs ~0.45 s (it imports the stages' modules), a tenth of a 2-task SynSQL run.
    """
    threads = _thread_count()
    if sys.platform == "linux" and threads is not None and threads <= _THREADS_AT_IMPORT:
        return "fork"
    return "forkserver"


class TrackedSlurmPipelineExecutor(SlurmPipelineExecutor):
    """SlurmPipelineExecutor that keeps the id of datatrove's merge-stats job, so --wait can wait for it too.

    datatrove submits that job through its module-level ``launch_slurm_job`` and drops the id; it is
    intercepted for the duration of the call only.
    """

    merge_stats_job_id: str | None = None

    def launch_merge_stats(self):
        submit = datatrove_slurm.launch_slurm_job

        def remember(*args, **kwargs):
            self.merge_stats_job_id = submit(*args, **kwargs)
            return self.merge_stats_job_id

        datatrove_slurm.launch_slurm_job = remember
        try:
            super().launch_merge_stats()
        finally:
            datatrove_slurm.launch_slurm_job = submit


def _run_slurm(settings, stages, stage_dirs, job_name, started) -> RunReport:
    run_tag = uuid.uuid4().hex[:6]
    executors = []
    previous = None
    for stage, stage_dir in zip(stages, stage_dirs):
        executor = TrackedSlurmPipelineExecutor(
            pipeline=stage.pipeline,
            tasks=_stage_tasks(stage, settings),
            workers=settings.workers,
            time=settings.time,
            partition=settings.partition,
            cpus_per_task=settings.cpus_per_task,
            mem_per_cpu_gb=settings.mem_per_cpu_gb,
            qos=settings.qos or "",
            venv_path=settings.venv_path,
            sbatch_args=dict(settings.sbatch_args),
            job_name=f"{job_name}.{stage.name}.{run_tag}",
            logging_dir=str(stage_dir),
            slurm_logs_folder=str(stage_dir / "slurm_logs"),
            depends=previous,
            mail_type="NONE",
        )
        executors.append(executor)
        previous = executor
    executors[-1].run()  # datatrove launches the unlaunched dependencies first
    job_ids = {stage.name: str(ex.job_id) for stage, ex in zip(stages, executors) if ex.job_id not in (None, -1)}
    for stage, stage_dir, executor in zip(stages, stage_dirs, executors):
        if stage.name in job_ids:  # a re-run refuses to reset or resubmit while these are alive
            jobs = [job_ids[stage.name], *([str(executor.merge_stats_job_id)] if executor.merge_stats_job_id else [])]
            write_json_atomic(stage_dir / SLURM_JOBS_FILE, {"jobs": jobs})
    if not settings.wait:
        reports = [
            StageReport(stage.name, _stage_tasks(stage, settings), d, [], [], {}, None)
            for stage, d in zip(stages, stage_dirs)
        ]
        return RunReport("slurm", reports, time.monotonic() - started, finished=False, job_ids=job_ids)
    # per stage, the jobs that cannot succeed once it failed: its merge-stats job and every later stage's jobs
    chain = [
        (job_ids.get(stage.name), stage_dir, ex.tasks, str(ex.merge_stats_job_id) if ex.merge_stats_job_id else None)
        for stage, stage_dir, ex in zip(stages, stage_dirs, executors)
    ]

    def doomed(alive: set[str]) -> set[str]:
        for k, (job, stage_dir, tasks, _) in enumerate(chain):
            if job and job not in alive and _incomplete_ranks(stage_dir, tasks):
                return {later for entry in chain[k:] for later in (entry[0], entry[3]) if later and later != job}
        return set()

    def progress() -> str:
        done = [
            f"{stage.name} {len(_completed_ranks(stage_dir))}/{ex.tasks}"
            for stage, stage_dir, ex in zip(stages, stage_dirs, executors)
        ]
        return "ranks done: " + ", ".join(done)

    jobs = [job for entry in chain for job in (entry[0], entry[3]) if job]
    wait_for_slurm_jobs(jobs, doomed=doomed, progress=progress)
    reports = [
        _stage_report(stage, stage_dir, executor.tasks, slurm_job=job_ids.get(stage.name))
        for stage, stage_dir, executor in zip(stages, stage_dirs, executors)
    ]
    return RunReport("slurm", reports, time.monotonic() - started, job_ids=job_ids)


def wait_for_slurm_jobs(
    job_ids: Sequence[str],
    poll_seconds: float = SLURM_POLL_SECONDS,
    doomed: Callable[[set[str]], set[str]] | None = None,
    progress: Callable[[], str] | None = None,
    progress_seconds: float = SLURM_PROGRESS_SECONDS,
) -> None:
    """Block until none of ``job_ids`` is pending or running; every ``progress_seconds`` it logs how many are left
    and ``progress()`` (e.g. the ranks done per stage), so a long wait is not silent.

    Jobs that can never run are cancelled instead of waited on: those pending with reason
    DependencyNeverSatisfied (clusters without ``DependencyParameters=kill_invalid_depend`` keep them forever),
    and those ``doomed(alive job ids)`` names, e.g. the later stages of a stage that finished with failed ranks
    (Slurm itself only notices at its next scheduling pass, up to a minute later).
    """
    pending = set(job_ids)
    started = last_report = time.monotonic()
    while pending:
        out = _slurm_command("squeue", "-h", "-j", ",".join(sorted(pending)), "-o", "%F|%T|%r")
        alive, cancel = set(), set()
        for line in out.splitlines():
            job, state, reason = (line.split("|") + ["", ""])[:3]
            alive.add(job)
            if state == "PENDING" and reason == "DependencyNeverSatisfied":
                cancel.add(job)
        if doomed is not None:
            cancel |= doomed(alive) & alive
        if cancel:
            subprocess.run(["scancel", *sorted(cancel)], check=False, capture_output=True)
        pending &= alive
        if pending and time.monotonic() - last_report >= progress_seconds:
            last_report = time.monotonic()
            detail = f"; {progress()}" if progress else ""
            logger.info(
                f"waiting for Slurm for {duration(last_report - started)}: {len(pending)} of {len(job_ids)} jobs "
                f"still queued or running{detail}"
            )
        if pending:
            time.sleep(poll_seconds)


# --------------------------------------------------------------------------------------------------- summary


def finish(report: RunReport, *, outputs: dict[str, Any] | None = None, counts: dict[str, int] | None = None) -> int:
    """Print the end-of-run summary (counts, outputs, time, failures) and return the process exit code."""
    print(f"\n== {report.executor} run: {report.verdict} in {report.seconds:.1f} s")
    if report.refused:
        print(f"   {report.refused}")
        return report.exit_code
    if counts:
        print("   " + ", ".join(f"{key}: {value}" for key, value in counts.items()))
    for name, path in (outputs or {}).items():
        # after a finished run, an output that is not there was not written (e.g. no sample for a contact sheet)
        absent = report.finished and isinstance(path, Path) and not path.exists()
        print(f"   {name}: {path}" + (" (not written)" if absent else ""))
    for line in report.describe().splitlines():
        print(f"   {line}")
    return report.exit_code
