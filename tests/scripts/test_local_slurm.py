"""scripts/local-slurm: idempotent up, truthful status, down stops what up started and up brings it back."""

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "local-slurm"
STATE = Path(os.environ.get("TROVE_SLURM_HOME", "/var/tmp/trove-local-slurm"))


def local_slurm(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, timeout=300)


def pids() -> dict[str, str]:
    return {d: (STATE / "run" / f"{d}.pid").read_text().strip() for d in ("slurmctld", "slurmd")}


def test_usage_error():
    done = local_slurm("sideways")
    assert done.returncode == 2 and "usage" in done.stderr


@pytest.mark.slurm
def test_up_is_idempotent_and_status_is_true(slurm_cluster):
    if not (STATE / "run" / "slurmctld.pid").is_file():
        pytest.skip("the running cluster was not started by scripts/local-slurm")
    before = pids()
    done = local_slurm("up")
    assert done.returncode == 0, done.stderr
    assert "is idle" in done.stderr or "is mixed" in done.stderr
    assert pids() == before  # nothing restarted
    status = local_slurm("status")
    assert status.returncode == 0 and "slurmctld: running" in status.stdout
    assert STATE.resolve() not in REPO.resolve().parents and not STATE.resolve().is_relative_to(REPO.resolve())


@pytest.mark.slurm
def test_down_then_up_runs_jobs_again(slurm_cluster, tmp_path):
    if not (STATE / "run" / "slurmctld.pid").is_file():
        pytest.skip("the running cluster was not started by scripts/local-slurm")
    try:
        down = local_slurm("down")
        assert down.returncode == 0, down.stderr
        status = local_slurm("status")
        assert status.returncode != 0 and "slurmctld: not started" in status.stdout
        assert not (STATE / "run" / "slurmctld.pid").exists()
    finally:
        up = local_slurm("up")
    assert up.returncode == 0, up.stderr
    marker = tmp_path / "ran"
    job = subprocess.run(
        ["sbatch", "--wait", "-o", str(tmp_path / "job.out"), "--wrap", f"hostname > {marker}"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert job.returncode == 0, job.stderr
    assert marker.read_text().strip()
