"""The executor interface: flag validation, each executor, depends chaining, failures, stale-output protection.

Pipelines run as scripts in a subprocess, as users run them: with several workers (forkserver), on Slurm and on
Ray the pipeline is pickled, and a script's functions are pickled by value only when it runs as __main__.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from trove_blocks.executors import (
    DefaultsHelpFormatter,
    UsageError,
    add_executor_arguments,
    parse_sbatch_args,
    parse_settings,
    resolve_venv_activate,
    script_settings,
    settings_from_args,
)

TWO_STAGE_SCRIPT = """
import argparse
from functools import partial
from pathlib import Path

from datatrove.pipeline.readers import JsonlReader
from datatrove.pipeline.writers import JsonlWriter

from trove_blocks import Stage, add_executor_arguments, finish, parse_settings, run_stages, script_settings

parser = argparse.ArgumentParser()
parser.add_argument("--output", type=Path, required=True)
parser.add_argument("--docs-per-rank", type=int, default=5)
parser.add_argument("--fail-rank", type=int, default=-1, help="rank of stage 'make' that raises")
parser.add_argument("--unpicklable", action="store_true", help="it raises an error pickle cannot rebuild")
parser.add_argument("--kill-rank", type=int, default=-1, help="rank of stage 'make' whose process is killed")
parser.add_argument("--sleep-seconds", type=float, default=0, help="each rank of stage 'make' waits this long")
parser.add_argument("--prefix-file", type=Path, default=None, help="an input: its text starts every document")
add_executor_arguments(parser, logging_dir="{output}/logs", tasks=3)


# functions of a __main__ script reach Slurm/Ray/forkserver workers by value, without the script's globals:
# they import what they use themselves (as datatrove's docs advise)
def make_docs(data, rank, world_size, docs_per_rank, prefix):
    from datatrove.data import Document

    for i in range(docs_per_rank):
        yield Document(text=f"{prefix}rank {rank} doc {i}", id=f"{rank}-{i}")


class TwoArgumentError(ValueError):
    # an error that pickle cannot rebuild: its message is not its constructor's one argument
    def __init__(self, rank, what):
        super().__init__(f"rank {rank}: {what}")


def fail_on_rank(data, rank, world_size, fail_rank, unpicklable, kill_rank, sleep_seconds):
    import os
    import signal
    import time

    time.sleep(sleep_seconds)
    if rank == kill_rank:
        os.kill(os.getpid(), signal.SIGKILL)  # the worker process dies, as when the OOM killer takes it
    for doc in data:
        if rank == fail_rank:
            if unpicklable:
                raise TwoArgumentError(rank, "deliberate failure that pickle cannot rebuild")
            raise RuntimeError(f"deliberate failure on rank {rank}")
        yield doc


if __name__ == "__main__":
    ARGS, settings = parse_settings(parser)
    made, counted = ARGS.output / "made", ARGS.output / "counted"
    prefix = ARGS.prefix_file.read_text() if ARGS.prefix_file else ""
    stages = [
        Stage(
            "make",
            [
                partial(make_docs, docs_per_rank=ARGS.docs_per_rank, prefix=prefix),
                partial(
                    fail_on_rank,
                    fail_rank=ARGS.fail_rank,
                    unpicklable=ARGS.unpicklable,
                    kill_rank=ARGS.kill_rank,
                    sleep_seconds=ARGS.sleep_seconds,
                ),
                JsonlWriter(str(made), compression=None),
            ],
            outputs=[made],
            inputs=[ARGS.prefix_file] if ARGS.prefix_file else [],
        ),
        # one task reads every file of stage "make": it sees them all only if it ran after all of them
        Stage("count", [JsonlReader(str(made)), JsonlWriter(str(counted), compression=None)], tasks=1,
              outputs=[counted]),
    ]
    # killing a process is not a setting of the output: a run without --kill-rank resumes the one it killed
    run_settings = {k: v for k, v in script_settings(ARGS).items() if k != "kill_rank"}
    report = run_stages(settings, stages, run_settings=run_settings, job_name="test_executors")
    raise SystemExit(finish(report))
"""


@pytest.fixture
def two_stage(tmp_path):
    path = tmp_path / "two_stage.py"
    path.write_text(TWO_STAGE_SCRIPT)

    def run(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, str(path), "--output", str(tmp_path / "out"), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    return run


def read_ids(folder: Path) -> list[str]:
    return sorted(json.loads(line)["id"] for path in folder.glob("*.jsonl") for line in path.read_text().splitlines())


def parser_with_flags() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    parser.add_argument("--output", default="out")
    add_executor_arguments(parser, logging_dir="{output}/logs", tasks=2)
    return parser


# ------------------------------------------------------------------------------------------- flags, no execution


def test_defaults_and_logging_dir_template():
    args, settings = parse_settings(parser_with_flags(), ["--output", "somewhere"])
    assert settings.executor == "local" and settings.tasks == 2 and settings.workers == -1
    assert settings.logging_dir == "somewhere/logs"
    args, settings = parse_settings(parser_with_flags(), ["--logging-dir", "mine"])
    assert settings.logging_dir == "mine"
    assert parser_with_flags().formatter_class is DefaultsHelpFormatter


def test_help_shows_defaults_but_none_for_a_required_flag():
    parser = parser_with_flags()
    parser.add_argument("--input", type=Path, required=True, help="folder to read")
    parser.add_argument("--limit", type=int, default=7, help="at most this many")
    text = " ".join(parser.format_help().split())
    assert "--input INPUT folder to read --limit" in text and "(default: None)" not in text
    assert "at most this many (default: 7)" in text


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--tasks", "0"], "--tasks must be >= 1"),
        (["--workers", "0"], "--workers must be -1"),
        (["--partition", "gpu"], "--partition only applies to --executor slurm"),
        (["--executor", "ray", "--time", "1:00:00", "--qos", "high"], "--time, --qos only apply"),
        (["--executor", "slurm", "--cpus-per-task", "0", "--venv-path", sys.prefix], "--cpus-per-task must be >= 1"),
        (["--executor", "slurm", "--mem-per-cpu-gb", "0", "--venv-path", sys.prefix], "--mem-per-cpu-gb must be >= 1"),
        (["--executor", "slurm", "--venv-path", "/nonexistent/venv"], "no virtualenv activate script"),
        (["--executor", "slurm", "--sbatch-arg", "array=0-3", "--venv-path", sys.prefix], "cannot be overridden"),
        (["--executor", "slurm", "--sbatch-arg", "=x", "--venv-path", sys.prefix], "expected KEY=VALUE"),
    ],
)
def test_bad_flag_combinations_are_refused(argv, message):
    args = parser_with_flags().parse_args(argv)
    with pytest.raises(UsageError, match=message):
        settings_from_args(args)


def test_bad_flags_exit_with_usage_error_before_running(two_stage, tmp_path):
    done = two_stage("--executor", "local", "--partition", "debug")
    assert done.returncode == 2
    assert "--partition only applies to --executor slurm" in done.stderr  # as spec 06 quotes it
    assert not (tmp_path / "out").exists()  # nothing ran, nothing was written


def test_sbatch_args_and_venv_resolution(tmp_path):
    assert parse_sbatch_args(["account=proj", "--constraint=fast", "exclusive"]) == {
        "account": "proj",
        "constraint": "fast",
        "exclusive": "",
    }
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "activate").write_text("")
    assert resolve_venv_activate(str(venv)) == str(venv / "bin" / "activate")
    assert resolve_venv_activate(str(venv / "bin" / "activate")) == str(venv / "bin" / "activate")


def test_script_settings_leave_out_where_it_runs():
    args = parser_with_flags().parse_args(["--executor", "slurm", "--workers", "3", "--tasks", "4"])
    assert script_settings(args) == {"output": "out", "tasks": 4}


# ------------------------------------------------------------------------------------------- local


def test_local_two_stages_run_in_order(two_stage, tmp_path):
    done = two_stage("--workers", "2")
    assert done.returncode == 0, done.stderr[-3000:]
    assert len(read_ids(tmp_path / "out" / "made")) == 15
    assert read_ids(tmp_path / "out" / "counted") == read_ids(tmp_path / "out" / "made")
    assert "local run: ok" in done.stdout
    assert "3/3 tasks done in" in done.stderr and "ETA" in done.stderr  # progress of a local stage


def test_local_failed_rank_is_named_with_its_log(two_stage, tmp_path):
    done = two_stage("--fail-rank", "1", "--workers", "1")
    assert done.returncode == 1
    log = tmp_path / "out" / "logs" / "make" / "logs" / "task_00001.log"
    assert "FAILED" in done.stdout and "[1]" in done.stdout and str(log) in done.stdout
    assert "deliberate failure on rank 1" in log.read_text()
    assert "stage count: NOT RUN (stage make failed)" in done.stdout
    assert "1/3 tasks done" in done.stderr and "2/3 tasks done" not in done.stderr  # the failed rank is not done
    assert not (tmp_path / "out" / "counted").exists()


def test_an_error_pickle_cannot_rebuild_ends_the_run_instead_of_hanging_it(two_stage, tmp_path):
    done = two_stage("--fail-rank", "1", "--unpicklable", "--workers", "2", timeout=120)
    assert done.returncode == 1 and "FAILED" in done.stdout
    log = (tmp_path / "out" / "logs" / "make" / "logs" / "task_00001.log").read_text()
    assert "deliberate failure that pickle cannot rebuild" in log


def test_a_killed_worker_fails_the_stage_and_the_resume_counts_every_rank(two_stage, tmp_path):
    killed = two_stage("--kill-rank", "1", "--workers", "2", timeout=120)
    assert killed.returncode == 1 and "FAILED" in killed.stdout and "[1]" in killed.stdout
    assert "a worker process died" in killed.stderr
    kept = {path.name: path.stat().st_mtime_ns for path in (tmp_path / "out" / "made").glob("*.jsonl")}
    assert sorted(kept) == ["00000.jsonl", "00002.jsonl"]
    resumed = two_stage("--workers", "2", timeout=120)  # the killed rank runs again, the others are skipped
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert {name: (tmp_path / "out" / "made" / name).stat().st_mtime_ns for name in kept} == kept
    stats = json.loads((tmp_path / "out" / "logs" / "make" / "stats.json").read_text())
    writer = next(step for step in stats if "Jsonl" in step["name"])
    assert writer["stats"]["total"]["total"] == 15, "the stats of the 2 ranks of the first run are merged in"


def test_rerun_skips_completed_and_changed_settings_never_serve_stale_output(two_stage, tmp_path):
    assert two_stage().returncode == 0
    made = tmp_path / "out" / "made"
    first = {p.name: p.stat().st_mtime_ns for p in made.iterdir()}
    again = two_stage()
    assert again.returncode == 0
    assert {p.name: p.stat().st_mtime_ns for p in made.iterdir()} == first  # completed ranks skipped
    changed = two_stage("--docs-per-rank", "2", "--tasks", "2")
    assert changed.returncode == 0, changed.stderr[-3000:]
    assert "settings changed" in changed.stderr
    assert read_ids(made) == ["0-0", "0-1", "1-0", "1-1"]  # nothing left over from the 3-rank run
    assert read_ids(tmp_path / "out" / "counted") == read_ids(made)


def test_a_run_with_another_output_folder_leaves_the_earlier_one_alone(two_stage, tmp_path):
    first = two_stage()
    assert first.returncode == 0
    moved = subprocess.run(
        [sys.executable, str(tmp_path / "two_stage.py"), "--output", str(tmp_path / "elsewhere")]
        + ["--logging-dir", str(tmp_path / "out" / "logs"), "--tasks", "2"],  # the same logs, another output
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert moved.returncode == 0, moved.stderr[-3000:]
    assert "settings changed since its last run (output, tasks)" in moved.stderr
    assert len(read_ids(tmp_path / "out" / "made")) == 15, "the earlier run's output in its own folder stays"


def test_a_changed_input_reruns_its_stage_and_the_stages_after_it(two_stage, tmp_path):
    prefix = tmp_path / "prefix.txt"
    prefix.write_text("A ")
    assert two_stage("--prefix-file", str(prefix)).returncode == 0
    counted = tmp_path / "out" / "counted"
    first = {p.name: p.stat().st_mtime_ns for p in counted.iterdir()}
    again = two_stage("--prefix-file", str(prefix))
    assert again.returncode == 0 and "changed" not in again.stderr
    assert {p.name: p.stat().st_mtime_ns for p in counted.iterdir()} == first  # unchanged input: skipped
    prefix.write_text("BB ")
    changed = two_stage("--prefix-file", str(prefix))
    assert changed.returncode == 0, changed.stderr[-3000:]
    assert f"stage make: inputs changed since its last run ({prefix})" in changed.stderr
    assert "stage count: a stage before it starts afresh" in changed.stderr
    texts = {json.loads(line)["text"] for path in counted.glob("*.jsonl") for line in path.read_text().splitlines()}
    assert len(texts) == 15 and all(text.startswith("BB rank") for text in texts)


# ------------------------------------------------------------------------------------------- ray


@pytest.mark.ray
def test_ray_two_stages(two_stage, tmp_path):
    pytest.importorskip("ray")
    done = two_stage("--executor", "ray", "--tasks", "2")
    assert done.returncode == 0, done.stderr[-3000:]
    assert read_ids(tmp_path / "out" / "counted") == read_ids(tmp_path / "out" / "made")
    assert len(read_ids(tmp_path / "out" / "made")) == 10
    assert "ray run: ok" in done.stdout


@pytest.mark.ray
def test_ray_a_killed_rank_fails_the_stage_naming_it_instead_of_hanging(two_stage, tmp_path):
    pytest.importorskip("ray")
    # datatrove's Ray actor waited forever for the result of a rank whose process was killed: the timeout is
    # what a regression hits
    done = two_stage("--executor", "ray", "--tasks", "2", "--kill-rank", "1", timeout=120)
    assert done.returncode == 1, done.stderr[-3000:]
    log = tmp_path / "out" / "logs" / "make" / "logs" / "task_00001.log"
    assert "stage make: FAILED 1/2 ranks [1]" in done.stdout and str(log) in done.stdout
    assert "a worker process died (signal SIGKILL" in log.read_text()
    assert "stage count: NOT RUN (stage make failed)" in done.stdout
    # the stage's stats are merged only once every rank completed
    assert not (tmp_path / "out" / "logs" / "make" / "stats.json").exists()
    assert (tmp_path / "out" / "logs" / "make" / "completions" / "00000").is_file()
    resumed = two_stage("--executor", "ray", "--tasks", "2", timeout=120)  # runs rank 1 only
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    stats = json.loads((tmp_path / "out" / "logs" / "make" / "stats.json").read_text())
    writer = next(step for step in stats if "Jsonl" in step["name"])
    assert writer["stats"]["total"]["total"] == 10, "rank 0's stats from the first run are merged in"


# ------------------------------------------------------------------------------------------- slurm


@pytest.mark.slurm
def test_slurm_two_stages_chained_with_depends(slurm_cluster, two_stage, tmp_path):
    done = two_stage("--executor", "slurm", "--wait", "--tasks", "4")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert len(read_ids(tmp_path / "out" / "made")) == 20
    assert read_ids(tmp_path / "out" / "counted") == read_ids(tmp_path / "out" / "made")
    for stage in ("make", "count"):  # datatrove's merge-stats job ran before --wait returned
        assert (tmp_path / "out" / "logs" / stage / "stats.json").is_file()
    launch = (tmp_path / "out" / "logs" / "count" / "launch_script.slurm").read_text()
    assert "#SBATCH --partition=" in launch and f"source {sys.prefix}" in launch


@pytest.mark.slurm
def test_slurm_wait_fails_fast_naming_the_failed_rank(slurm_cluster, two_stage, tmp_path):
    started = time.monotonic()
    done = two_stage("--executor", "slurm", "--wait", "--tasks", "3", "--fail-rank", "2", timeout=120)
    assert time.monotonic() - started < 60
    assert done.returncode == 1, done.stdout[-3000:]
    assert "stage make: FAILED 1/3 ranks [2]" in done.stdout
    logs = tmp_path / "out" / "logs" / "make"
    assert str(logs / "logs" / "task_00002.log") in done.stdout
    slurm_log = next((logs / "slurm_logs").glob("*_2.out"))
    assert str(slurm_log) in done.stdout and "deliberate failure on rank 2" in slurm_log.read_text()
    assert "stage count: NOT RUN" in done.stdout


@pytest.mark.slurm
def test_slurm_without_wait_returns_after_submitting(slurm_cluster, two_stage, tmp_path):
    from trove_blocks.executors import wait_for_slurm_jobs

    done = two_stage("--executor", "slurm", "--tasks", "2", "--sleep-seconds", "20")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "slurm run: submitted" in done.stdout and "not waiting" in done.stdout
    job_ids = [part.split("=")[1] for part in done.stdout.split("(")[1].split(")")[0].split(", ")]
    # while they run, a re-run (other settings or not) would mix its output with theirs: refused, nothing reset
    again = two_stage("--executor", "slurm", "--tasks", "2", "--docs-per-rank", "3")
    assert again.returncode == 2 and "slurm run: REFUSED" in again.stdout, again.stdout + again.stderr
    assert "still queued or running (stage make: " in again.stdout and "scancel " in again.stdout
    wait_for_slurm_jobs(job_ids)
    assert len(read_ids(tmp_path / "out" / "made")) == 10
    records = (tmp_path / "out" / "logs").glob("*/slurm_jobs.json")  # the stages' jobs and merge-stats jobs
    wait_for_slurm_jobs([job for record in records for job in json.loads(record.read_text())["jobs"]])
    after = two_stage("--executor", "slurm", "--tasks", "2", "--wait", "--sleep-seconds", "20")
    assert after.returncode == 0 and "slurm run: ok" in after.stdout, "once they ended, nothing to run again"


@pytest.mark.slurm
def test_waiting_for_slurm_jobs_reports_progress(slurm_cluster, tmp_path):
    from datatrove.utils.logging import logger

    from trove_blocks.executors import wait_for_slurm_jobs

    submitted = subprocess.run(  # its output file in tmp_path: by default Slurm writes slurm-<id>.out in the cwd
        ["sbatch", "--parsable", "-o", str(tmp_path / "job.out"), "--wrap", "sleep 4"],
        capture_output=True,
        text=True,
        check=True,
    )
    lines = []
    sink = logger.add(lambda message: lines.append(message.record["message"]), level="INFO")
    try:
        wait_for_slurm_jobs(
            [submitted.stdout.strip().split(";")[0]], progress=lambda: "ranks done: x 0/1", progress_seconds=1
        )
    finally:
        logger.remove(sink)
    waiting = [line for line in lines if line.startswith("waiting for Slurm for ")]
    assert waiting and "1 of 1 jobs still queued or running; ranks done: x 0/1" in waiting[0]


@pytest.mark.slurm
@pytest.mark.parametrize(
    ("flags", "answer"),
    [
        (("--partition", "nope"), "invalid partition specified: nope"),
        (("--time", "banana"), "Invalid --time specification"),
        (("--mem-per-cpu-gb", "100000"), "Requested node configuration is not available"),
        (("--sbatch-arg", "bogus-opt=1"), "unrecognized option '--bogus-opt=1'"),
    ],
)
def test_slurm_flags_the_cluster_would_refuse_are_named_before_submitting(slurm_cluster, two_stage, flags, answer):
    done = two_stage("--executor", "slurm", *flags)
    assert done.returncode == 2 and "Slurm would refuse these jobs" in done.stderr and answer in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.slurm
def test_slurm_refuses_a_venv_that_cannot_import_trove_blocks(slurm_cluster, two_stage, tmp_path):
    bare = tmp_path / "bare-venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True)
    done = two_stage("--executor", "slurm", "--venv-path", str(bare))
    assert done.returncode == 2
    assert "cannot import trove_blocks" in done.stderr


@pytest.mark.skipif(sys.platform != "linux", reason="fork is only chosen on Linux")
def test_workers_fork_until_a_library_starts_threads():
    script = (
        "import threading, time\n"
        "from trove_blocks.executors import pool_start_method\n"
        "before = pool_start_method()\n"
        "threading.Thread(target=time.sleep, args=(2,), daemon=True).start()\n"
        "print(before, pool_start_method())\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["fork", "forkserver"]
