"""Shared fixtures: offline hub, a real Slurm cluster when one answers, running scripts as a user would, the SynSQL
sample."""

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


@pytest.fixture(scope="module")
def synsql_sample(tmp_path_factory) -> Path:
    """The SynSQL sample folder built from the real records in tests/data/text2sql (data.json, tables.json, an
    empty SQLite database per db_id), plus ``schemas.jsonl``: the compact schema table the blocks read."""
    from trove_blocks.synsql.sample import build_sample_dir
    from trove_blocks.synsql.schema import iter_table_entries, render_schema, schema_line

    root = tmp_path_factory.mktemp("synsql")
    build_sample_dir(REAL_DATA / "text2sql", root, with_databases=True)
    with open(root / "schemas.jsonl", "wb") as out:
        for entry in iter_table_entries(root / "tables.json"):
            out.write(schema_line(entry["db_id"], render_schema(entry, "compact")))
    return root


@pytest.fixture
def synsql_document():
    """``synsql_document(record, i)``: a SynSQL record as the pipeline's reader gives it (the question as text,
    every other field as metadata; a question that is not a string gives an empty text)."""
    from datatrove.data import Document

    def make(record: dict, i: int) -> Document:
        fields = dict(record)
        question = fields.pop("question", "")
        return Document(text=question if isinstance(question, str) else "", id=f"d/{i}", metadata=fields)

    return make
