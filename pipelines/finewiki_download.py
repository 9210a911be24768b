"""Phase 1: download FineWiki's parquet files of one wiki (HF dataset HuggingFaceFW/finewiki, data/<lang>wiki/).

Files are split over --tasks (task r fetches files r, r + tasks, ...) with huggingface_hub; a file already present
with the hub's size is skipped, so a re-run resumes. --status (local files, their rows, readable or not) and
--dry-run (the plan; the remote listing when the hub answers) work offline.

    python pipelines/finewiki_download.py --lang en --output data/finewiki
    python pipelines/finewiki_download.py --status
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from datatrove.data import DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

from trove_blocks import Stage, add_executor_arguments, finish, parse_settings, run_stages, script_settings

REPO_ID = "HuggingFaceFW/finewiki"


def pattern(lang: str) -> str:
    return f"data/{lang}wiki/*.parquet"


def remote_files(lang: str) -> list[tuple[str, int]]:
    """``(path in repo, bytes)`` of the wiki's parquet files (needs the hub)."""
    from huggingface_hub import HfApi

    prefix = f"data/{lang}wiki/"
    entries = HfApi().list_repo_tree(REPO_ID, path_in_repo=prefix.rstrip("/"), repo_type="dataset")
    return sorted((e.path, e.size) for e in entries if e.path.endswith(".parquet"))


class HubDownload(PipelineStep):
    """Download this rank's share of the wiki's parquet files into ``output`` (hub layout kept)."""

    name = "⬇️ FineWiki download"
    type = "📖 - READER"
    _requires_dependencies = ["huggingface_hub"]

    def __init__(self, lang: str, output: str):
        super().__init__()
        self.lang = lang
        self.output = output

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        from huggingface_hub import hf_hub_download

        for path, size in remote_files(self.lang)[rank::world_size]:
            local = Path(self.output) / path
            if local.is_file() and local.stat().st_size == size:
                self.stat_update("files_present")
                continue
            with self.track_time():
                hf_hub_download(REPO_ID, path, repo_type="dataset", local_dir=self.output)
            self.stat_update("files_downloaded")
            self.stat_update("bytes", value=size)
        yield from data or ()


def local_status(output: Path, lang: str) -> list[str]:
    import pyarrow.parquet as pq

    lines = []
    files = sorted((output / f"data/{lang}wiki").glob("*.parquet"))
    for path in files:
        try:
            rows = pq.ParquetFile(path).metadata.num_rows
            lines.append(f"  {path}  {path.stat().st_size / 1e9:.2f} GB  {rows} rows")
        except Exception as error:  # an interrupted download: say so, do not fail the status
            lines.append(f"  {path}  {path.stat().st_size / 1e9:.2f} GB  UNREADABLE ({type(error).__name__})")
    return lines or [f"  no parquet files under {output / f'data/{lang}wiki'}"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument(
        "--lang", default="en", help="wiki language code: data/<lang>wiki/ (enwiki: 15 files, ~37.7 GB)"
    )
    parser.add_argument("--output", type=Path, default=Path("data/finewiki"), help="local copy (hub layout kept)")
    parser.add_argument("--status", action="store_true", help="list local files and their rows, then exit (offline)")
    parser.add_argument("--dry-run", action="store_true", help="print what would be fetched, then exit")
    add_executor_arguments(parser, logging_dir="{output}/logs")
    args, settings = parse_settings(parser, argv)
    if args.status:
        print(f"{REPO_ID} {pattern(args.lang)} in {args.output}:")
        print("\n".join(local_status(args.output, args.lang)))
        return 0
    if args.dry_run:
        print(f"would download {REPO_ID} (dataset) {pattern(args.lang)} into {args.output} over {args.tasks} tasks")
        if os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0"):
            print("HF_HUB_OFFLINE is set: the remote file list is not fetched")
            return 0
        try:
            files = remote_files(args.lang)
        except Exception as error:
            print(f"the hub did not answer ({type(error).__name__}): no remote file list")
            return 0
        for path, size in files:
            print(f"  {path}  {size / 1e9:.2f} GB")
        print(f"  {len(files)} files, {sum(size for _, size in files) / 1e9:.1f} GB")
        return 0
    stage = Stage("download", [HubDownload(args.lang, str(args.output))], outputs=[])
    report = run_stages(settings, [stage], run_settings=script_settings(args), job_name="finewiki_download")
    counts = {}
    if report.finished and report.ok:
        stats = next(iter(report.stages[0].counters().values()), {})
        counts = {"downloaded": int(stats.get("files_downloaded", 0)), "present": int(stats.get("files_present", 0))}
    return finish(report, counts=counts, outputs={"parquet": args.output / f"data/{args.lang}wiki"})


if __name__ == "__main__":
    raise SystemExit(main())
