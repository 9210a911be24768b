"""What the benchmarks share: the streaming-parse floor, and a contender run in a process of its own.

The scripts under bench/ run by path (``python bench/<name>/run.py``), so they put this folder on ``sys.path``.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def compile_sources() -> None:
    """Byte-compile src/ and pipelines/, as a wheel's install would: an editable install's modules are otherwise
    compiled at import in every contender's process where PYTHONDONTWRITEBYTECODE is set (as ./dev does; ~0.15 s
    of a pipeline's start-up)."""
    compileall.compile_dir(REPO / "src", quiet=1)
    compileall.compile_dir(REPO / "pipelines", quiet=1)


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def positive_float(text: str) -> float:
    """argparse type: a number > 0 (a size)."""
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {value}")
    return value


def bench_parser(doc: str, contenders: tuple[str, ...]) -> argparse.ArgumentParser:
    """The options of every benchmark (--repeats, --work-dir) and the hidden ones of a contender's own process."""
    parser = argparse.ArgumentParser(
        description=doc.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument(
        "--repeats", type=positive_int, default=2, help="rounds over all contenders; each one's fastest run counts"
    )
    parser.add_argument("--work-dir", type=Path, default=None, help="where data and outputs go (default: a temp dir)")
    parser.add_argument("--contender", choices=contenders, help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    return parser


def parse_or_run_contender(
    parser: argparse.ArgumentParser, run_contender: Callable[[str, Path, Path], None]
) -> argparse.Namespace | None:
    """The command line's options. In a contender's own process (``--contender``), runs it and returns None; in
    the benchmark's, byte-compiles the sources first (:func:`compile_sources`)."""
    args = parser.parse_args()
    if args.contender:
        run_contender(args.contender, args.data, args.out)
        return None
    compile_sources()
    return args


def parse_only(data: Path) -> int:
    """Records of a JSON array (or JSON-lines) file, each found by the streaming scanner and decoded, nothing
    else: the floor of every reader built on it."""
    from trove_blocks.json_stream import iter_records

    size, count, path = data.stat().st_size, 0, str(data)
    with data.open("rb") as handle:
        for record in iter_records(handle, path, 0, size, size):
            record.decode(path)
            count += 1
    return count


def run_measured(name: str, command: list[str], env: dict[str, str] | None = None) -> dict:
    """Run a contender's ``command``; its last stdout line is a JSON object, returned with ``peak_rss_mb`` (the
    largest single process among it and the children it waited for, from os.wait4) and ``cpu_seconds`` (user +
    system of them all)."""
    with tempfile.TemporaryFile("w+") as errors:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, env=env, text=True)
        stdout = process.stdout.read()
        _, status, usage = os.wait4(process.pid, 0)
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            errors.seek(0)
            raise SystemExit(f"{name} failed with exit code {code}:\n{errors.read()[-3000:]}")
    result = json.loads(stdout.strip().splitlines()[-1])
    result["peak_rss_mb"] = usage.ru_maxrss / 1024
    result["cpu_seconds"] = usage.ru_utime + usage.ru_stime
    return result


def best_of_rounds(contenders: tuple[str, ...], repeats: int, measure: Callable[[str], dict]) -> dict[str, dict]:
    """Each contender's fastest of ``repeats`` runs (``measure(name)``), with the highest peak RSS of all its runs.

    A round runs every contender in turn, so a burst of load from elsewhere on the machine hits them alike.
    """
    best: dict[str, dict] = {}
    for _ in range(repeats):
        for name in contenders:
            result = measure(name)
            peak = max(result["peak_rss_mb"], best[name]["peak_rss_mb"] if name in best else 0.0)
            if name not in best or result["seconds"] < best[name]["seconds"]:
                best[name] = result
            best[name]["peak_rss_mb"] = peak
    return best


@contextmanager
def work_folder(given: Path | None, prefix: str) -> Iterator[Path]:
    """``given`` (created if needed, kept afterwards), or a temporary folder removed at the end."""
    if given is not None:
        given.mkdir(parents=True, exist_ok=True)
        yield given
        return
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
