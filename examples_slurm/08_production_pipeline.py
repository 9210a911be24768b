"""Tutorial 08 (spec/08_production_pipeline.md): a FineWeb-style pipeline on Slurm that survives a killed task.

Six dependent Slurm stages, built from the blocks of tutorials 02, 07 and 03:

1. extract_filter: WARC pages + saved HTML pages -> Trafilatura -> fastText language ID -> Gopher / C4 / FineWeb
   quality filters (each with its exclusion folder)                                     [tutorial 02]
2-5. minhash_signatures, minhash_buckets, minhash_cluster, minhash_filter: near-duplicate removal over the kept
   web pages together with a curated source (the real text corpus, not quality-filtered)  [tutorial 07]
6. tokenize: TokensCounter + DocumentTokenizer with cl100k into .ds files                [tutorial 03]

Error handling, for real: ``--kill-rank-once 1`` makes rank 1 of stage 1 kill itself (SIGKILL, as the OOM killer
or a lost node would) after its first page, once. The run then fails, names the killed rank and its logs,
and Slurm cancels every stage that depended on it. Re-running the same command resubmits only what did not
complete (that one rank, then the stages after it) and ends with output identical to an uninterrupted run:
the summary prints a digest of the final documents and token files to compare.

    python examples_slurm/08_production_pipeline.py --wait --kill-rank-once 1   # fails: rank 1 killed
    python examples_slurm/08_production_pipeline.py --wait --kill-rank-once 1   # resumes, same output
"""

from __future__ import annotations

import argparse
import hashlib
import json
import runpy
from pathlib import Path

from datatrove.data import DocumentsPipeline
from datatrove.pipeline.base import PipelineStep
from datatrove.pipeline.filters import LanguageFilter

from trove_blocks import Stage, add_executor_arguments, finish, parse_settings, run_stages, script_settings
from trove_blocks.readers import CheckedJsonlReader
from trove_blocks.tokenizers import check_tokenizer_flag

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "examples_local" / "data"
DEFAULT_OUTPUT = REPO / "examples_slurm" / "output" / "08_production_pipeline"
# the tutorials' building blocks, loaded as tutorial 06 loads tutorial 01 (pickled by value into the jobs)
TUTORIAL_02 = runpy.run_path(str(REPO / "examples_local" / "02_extraction_filtering.py"))
TUTORIAL_03 = runpy.run_path(str(REPO / "examples_local" / "03_tokenization.py"))
TUTORIAL_07 = runpy.run_path(str(REPO / "examples_slurm" / "07_multistage_slurm.py"))
#: documents a rank passes on before --kill-rank-once kills it
KILL_AFTER_DOCUMENTS = 1


class KillRankOnce(PipelineStep):
    """Passes documents through; on rank ``rank``, the first time only, SIGKILLs its own process mid-stream.

    "The first time" is remembered by a marker file written just before the kill, so the re-run goes through.
    It stands for what kills tasks in production (out of memory, a lost node, a pre-empted job): no Python
    exception handler runs, datatrove writes no completion mark, output files are left half written.
    """

    name = "💥 Kill rank once"
    type = "🧪 - TEST"

    def __init__(self, rank: int, marker: str, after_documents: int = KILL_AFTER_DOCUMENTS):
        super().__init__()
        self.kill_rank = rank
        self.marker = marker
        self.after_documents = after_documents

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        # imported here: the class travels to the Slurm job by value (it lives in a script), its module's imports do not
        import os
        import signal
        from pathlib import Path

        armed = rank == self.kill_rank and not os.path.exists(self.marker)
        for n, doc in enumerate(data, start=1):
            yield doc
            if armed and n == self.after_documents:
                Path(self.marker).parent.mkdir(parents=True, exist_ok=True)
                Path(self.marker).write_text(f"rank {rank} killed itself after {n} documents\n")
                os.kill(os.getpid(), signal.SIGKILL)


def output_digest(kept: Path, tokens: Path) -> str:
    """sha256 over the final documents (id and text, sorted by id) and the token files' bytes (sorted by name)."""
    digest = hashlib.sha256()
    docs = sorted(
        (doc["id"], doc["text"])
        for path in sorted(kept.glob("*.jsonl"))
        for doc in map(json.loads, path.read_text().splitlines())
    )
    for doc_id, text in docs:
        digest.update(f"{doc_id}\0{text}\0".encode())
    for ds_file in sorted(tokens.glob("*.ds")):
        digest.update(ds_file.read_bytes())
    return digest.hexdigest()[:16]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--warc", type=Path, default=DATA / "warc", help="folder of WARC files")
    parser.add_argument("--html", type=Path, default=DATA / "third_party" / "html", help="folder of *.html pages")
    parser.add_argument(
        "--text", type=Path, default=DATA / "real_text", help="curated JSONL text ({text, id}) joining at dedup"
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="all stage outputs go under here")
    parser.add_argument("--tokenizer", default="cl100k_base", help="tokenizer for the last stage")
    parser.add_argument("--min-doc-words", type=int, default=50, help="Gopher: drop documents with fewer words")
    parser.add_argument(
        "--kill-rank-once",
        type=int,
        default=None,
        metavar="RANK",
        help="demo of a task killed mid-run: rank RANK of stage 1 SIGKILLs itself once (default: off)",
    )
    add_executor_arguments(parser, logging_dir="{output}/logs", tasks=4, executor="slurm")
    return parser


def build_stages(args: argparse.Namespace) -> list[Stage]:
    out = args.output
    filtered = out / "filtered"
    extract_filter = TUTORIAL_02["extract_and_filter_pipeline"](
        args.warc, args.html, filtered, min_doc_words=args.min_doc_words
    )
    if args.kill_rank_once is not None:
        marker = out / "kill_markers" / f"extract_filter_rank{args.kill_rank_once}"
        after_extraction = next(i for i, step in enumerate(extract_filter) if isinstance(step, LanguageFilter))
        extract_filter.insert(after_extraction, KillRankOnce(args.kill_rank_once, str(marker)))
    kept_dir, curated_dir = str(filtered / "kept"), str(args.text)

    def filtered_documents() -> list:
        """The web pages that passed the filters, then the curated text: dedup runs over both together."""
        return [
            CheckedJsonlReader(kept_dir, glob_pattern="*.jsonl"),
            CheckedJsonlReader(curated_dir, glob_pattern="*.jsonl"),
        ]

    deduped, tokens = out / "deduped", out / "tokens"
    # the curated text is read first by the minhash stages: an edit of it re-runs them, not the web extraction
    minhash = TUTORIAL_07["minhash_stages"](
        filtered_documents, out / "minhash", deduped, out / "minhash_removed", inputs=(args.text,)
    )
    tokenize = [
        CheckedJsonlReader(str(deduped), glob_pattern="*.jsonl"),
        *TUTORIAL_03["tokenize_pipeline"](args.tokenizer, tokens),
    ]
    return [
        Stage(
            "extract_filter",
            extract_filter,
            outputs=[filtered / sub for sub in ("extracted", "excluded", "kept")],
            inputs=[args.warc, args.html],
        ),
        *minhash,
        Stage("tokenize", tokenize, outputs=[tokens]),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, settings = parse_settings(parser, argv)
    for flag, folder in (("--warc", args.warc), ("--html", args.html), ("--text", args.text)):
        if not folder.is_dir():
            parser.error(f"{flag} {folder}: no such folder")
    check_tokenizer_flag(parser, args.tokenizer)
    if args.kill_rank_once is not None and not 0 <= args.kill_rank_once < args.tasks:
        parser.error(f"--kill-rank-once {args.kill_rank_once}: ranks are 0..{args.tasks - 1}")
    # the kill switch is a demo of a failure, not a setting of the output: a re-run without it must resume
    run_settings = {k: v for k, v in script_settings(args).items() if k != "kill_rank_once"}
    report = run_stages(settings, build_stages(args), run_settings=run_settings, job_name="08_production")
    counts: dict[str, object] = {}
    if report.finished and report.ok:
        stage_stats = {stage.name: stage.counters() for stage in report.stages}

        def stat(stage: str, step: str, key: str) -> int:
            return int(sum(s.get(key, 0) for name, s in stage_stats[stage].items() if step in name))

        counts = {
            "read": stat("extract_filter", "READER", "documents"),
            "extracted": stat("extract_filter", "Trafilatura", "extracted"),
            "language_dropped": stat("extract_filter", "Language ID", "dropped"),
            "gopher_dropped": stat("extract_filter", "Gopher Quality", "dropped"),
            "c4_dropped": stat("extract_filter", "C4 Quality", "dropped"),
            "fineweb_dropped": stat("extract_filter", "FineWeb Quality", "dropped"),
            "web_pages_kept": len(TUTORIAL_02["read_jsonl_folder"](args.output / "filtered" / "kept")),
            "dedup_input": stat("minhash_filter", "MinHash stage 4", "total"),
            "near_duplicates_removed": stat("minhash_filter", "MinHash stage 4", "dropped"),
            "documents_tokenized": stat("tokenize", "READER", "documents"),
            "tokens": stat("tokenize", "Writer", "tokens"),
            "output_digest": output_digest(args.output / "deduped", args.output / "tokens"),
        }
        print("SUMMARY " + json.dumps(counts, sort_keys=True))
    return finish(
        report,
        counts=counts,
        outputs={"documents": args.output / "deduped", "tokens": args.output / "tokens"},
    )


if __name__ == "__main__":
    raise SystemExit(main())
