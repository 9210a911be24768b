"""Benchmark: the curriculum download of a local JSON-array dataset, against datatrove's reader and the parse floor.

Generates a ShareGPT-style JSON array (the 20 real FastChat conversations repeated with numbered ids, ~700 bytes
a row) at each of --sizes-mb, and runs each contender on it in its own subprocess (peak RSS from os.wait4), in
--repeats rounds (each one's fastest run counts):

  orjson whole file    orjson.loads of the whole file: the raw library's speed, with memory growing with the file
  parse-only floor     the streaming scanner + orjson decode of every row, nothing else
  file reader          CurriculumFileReader (the --source path): rows streamed and rendered by their adapter
  datasets reader      CurriculumSourceReader: datatrove's HuggingFaceDatasetReader over ``datasets``' JSON loader
                       (streaming=True), the same adapter; the --source path before the file reader
  download script      pipelines/download_curriculum.py --source sharegpt=FILE: file reader, tagger, raw JSONL
                       writer with stats (wall clock, imports included)
  hub download         the same script without --source: the registry's hub file of sharegpt, served by
                       huggingface_hub from a cache that holds FILE (HF_HUB_OFFLINE=1); before the registry named
                       hub files, this path went through ``datasets`` (the datasets reader's row)

Memory must not grow with the file: compare each contender's peak RSS across the sizes.

    python bench/curriculum/run.py                      # 25 and 100 MB
    python bench/curriculum/run.py --sizes-mb 50 200 --repeats 3
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench"))  # bench/ is not a package: its scripts run by path
import common  # noqa: E402

CHATS = REPO / "tests" / "data" / "curriculum" / "fastchat_dummy_conversation_sharegpt_format_20.json"
CONTENDERS = (
    "orjson whole file",
    "parse-only floor",
    "file reader",
    "datasets reader",
    "download script",
    "hub download",
)


def generate(path: Path, size_mb: float) -> int:
    """Write a JSON array of about ``size_mb`` MB of ShareGPT rows to ``path``; returns the row count."""
    rows = json.loads(CHATS.read_text(encoding="utf-8"))
    target, written, count = size_mb * 1e6, 0, 0
    with path.open("w", encoding="utf-8") as out:
        out.write("[")
        while written < target:
            row = dict(rows[count % len(rows)], id=f"{rows[count % len(rows)]['id']}_{count}")
            text = ("," if count else "") + json.dumps(row, ensure_ascii=False)
            out.write(text)
            written += len(text.encode("utf-8"))
            count += 1
        out.write("]")
    return count


def read_all(data: Path, reader_name: str) -> int:
    from trove_blocks.readers.curriculum import CurriculumFileReader, CurriculumSourceReader

    if reader_name == "file reader":
        reader = CurriculumFileReader(str(data.parent), "sharegpt", "conversations", glob_pattern=data.name)
    else:
        options = {"data_files": str(data), "split": "train"}
        reader = CurriculumSourceReader("json", options, "sharegpt", "conversations")
    return sum(1 for _ in reader.run())


def download(data: Path, out: Path, from_hub: bool) -> int:
    """Rows read by pipelines/download_curriculum.py of sharegpt: from ``data`` given with --source, or (from_hub) as
    the registry's hub file, from a Hugging Face cache laid out as huggingface_hub does (the file linked in)."""
    command = [sys.executable, str(REPO / "pipelines" / "download_curriculum.py"), "--output", str(out)]
    env = dict(os.environ)
    if from_hub:
        from trove_blocks.curriculum.registry import load_registry

        sharegpt = load_registry().datasets["sharegpt"]
        cache = out / "hf_cache"
        repo = cache / f"datasets--{sharegpt.hub_id.replace('/', '--')}"
        commit = "0" * 40
        (repo / "snapshots" / commit).mkdir(parents=True)
        (repo / "refs").mkdir()
        (repo / "refs" / "main").write_text(commit)
        (repo / "snapshots" / commit / sharegpt.hub_files).symlink_to(data)
        command += ["--dataset", "sharegpt"]
        env["HF_HUB_CACHE"] = str(cache)
    else:
        command += ["--only-sources", "--source", f"sharegpt={data}"]
    subprocess.run(command, check=True, capture_output=True, env=env)
    return json.loads((out / "instruction_chat" / "sharegpt.stats.json").read_text())["rows_read"]


def run_contender(name: str, data: Path, out: Path) -> None:
    """Child side: run one contender, print {"rows", "seconds"} as JSON."""
    started = time.perf_counter()
    if name == "orjson whole file":
        import orjson

        rows = len(orjson.loads(data.read_bytes()))
    elif name == "parse-only floor":
        rows = common.parse_only(data)
    elif name in ("download script", "hub download"):
        rows = download(data, out, from_hub=name == "hub download")
    else:
        rows = read_all(data, name)
    print(json.dumps({"rows": rows, "seconds": time.perf_counter() - started}))


def measure(name: str, data: Path, out: Path) -> dict:
    """Parent side: a contender in a subprocess; peak RSS of the largest process it (or a child) had."""
    shutil.rmtree(out, ignore_errors=True)
    os.sync()
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    command = [sys.executable, __file__, "--contender", name, "--data", str(data), "--out", str(out)]
    return common.run_measured(name, command, env)


def main() -> int:
    parser = common.bench_parser(__doc__, CONTENDERS)
    parser.add_argument(
        "--sizes-mb", type=common.positive_float, nargs="+", default=[25, 100], help="sizes of the generated arrays"
    )
    args = common.parse_or_run_contender(parser, run_contender)
    if args is None:
        return 0
    with common.work_folder(args.work_dir, "bench_curriculum_") as work:
        print(f"{'size MB':>8} {'contender':<16} {'rows':>9} {'seconds':>8} {'rows/s':>9} {'peak RSS MB':>12}")
        for size_mb in args.sizes_mb:
            data = work / f"sharegpt_{size_mb:g}mb.json"
            rows = generate(data, size_mb)
            best = common.best_of_rounds(CONTENDERS, args.repeats, partial(measure, data=data, out=work / "out"))
            for name, result in best.items():
                if result["rows"] != rows:
                    raise SystemExit(f"{name} read {result['rows']} rows of {rows}")
                rate = result["rows"] / result["seconds"]
                print(
                    f"{size_mb:>8g} {name:<16} {result['rows']:>9} {result['seconds']:>8.2f} {rate:>9.0f} "
                    f"{result['peak_rss_mb']:>12.0f}"
                )
            data.unlink()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
