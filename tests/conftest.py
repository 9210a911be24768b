"""Shared fixtures: offline hub, a real Slurm cluster when one answers, running scripts as a user would."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
REAL_DATA = REPO / "tests" / "data"

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")


def slurm_unavailable_reason() -> str | None:
    """Why Slurm tests cannot run here, or None when a cluster answers with an idle or mixed node."""
    if shutil.which("sbatch") is None:
        return "Slurm is not installed (scripts/local-slurm up installs it on Debian as root)"
    try:
        done = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, timeout=20)
    except subprocess.TimeoutExpired:
        return "sinfo timed out: the Slurm controller does not answer"
    states = done.stdout.split()
    if done.returncode != 0 or not states:
        return f"no Slurm controller answers ({done.stderr.strip() or 'no nodes'}); run scripts/local-slurm up"
    if not any(state.startswith(("idle", "mix", "alloc")) for state in states):
        return f"no usable Slurm node (states: {' '.join(states)})"
    return None


@pytest.fixture(scope="session")
def slurm_cluster() -> None:
    """Skip (with the reason) unless a real Slurm cluster is reachable."""
    reason = slurm_unavailable_reason()
    if reason:
        pytest.skip(reason)


def run_script(script: str | Path, *args: str, cwd: Path = REPO, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run a repo script with this interpreter as a user would; output is captured as text.

    The script runs in its own process group, and on ``timeout`` the whole group is killed: subprocess.run would
    kill the script alone, leaving its workers (a pool's, Ray's agents) running into the next tests.
    """
    command = [sys.executable, str(REPO / script), *map(str, args)]
    with subprocess.Popen(
        command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    ) as process:
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


@pytest.fixture
def hub_cache(tmp_path, monkeypatch):
    """``hub_cache(hub_id, {repo path: file to copy})`` puts one snapshot of a hub dataset into a Hugging Face cache
    laid out as ``huggingface_hub`` lays it out (what an offline ``snapshot_download`` serves) and returns the
    snapshot folder; ``HF_HUB_CACHE`` points at that cache for this test and the scripts it runs."""
    from huggingface_hub import constants

    cache = tmp_path / "hf_cache"
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))  # read from the environment when first imported

    def add(hub_id: str, files: dict[str, Path]) -> Path:
        repo = cache / f"datasets--{hub_id.replace('/', '--')}"
        commit = "0123456789abcdef0123456789abcdef01234567"
        (repo / "refs").mkdir(parents=True)
        (repo / "refs" / "main").write_text(commit)
        snapshot = repo / "snapshots" / commit
        for name, source in files.items():
            (snapshot / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, snapshot / name)
        return snapshot

    return add


@pytest.fixture
def script():
    """``script(path, *args)`` runs a repo script in a subprocess (see :func:`run_script`)."""
    return run_script
