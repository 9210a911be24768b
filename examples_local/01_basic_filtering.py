"""Tutorial 01 (spec/01_basic_filtering.md): CheckedJsonlReader -> LambdaFilter -> JsonlWriter on real text.

Reads the 230 real documents in examples_local/data/real_text/ (Wikipedia paragraphs, GSM8K problems, chat
transcripts, one-line questions), keeps those with at least --min-words words, writes them to <output>/kept/
and every dropped document, with its reason, to <output>/excluded/. Same flags as every trove_blocks script:
--executor slurm runs it on a cluster (that is tutorial 06).

    python examples_local/01_basic_filtering.py
    python examples_local/01_basic_filtering.py --min-words 100 --tasks 4 --workers 2
"""

from __future__ import annotations

import argparse
from functools import partial
from pathlib import Path

from datatrove.data import Document
from datatrove.pipeline.filters import LambdaFilter
from datatrove.pipeline.writers import JsonlWriter

from trove_blocks import Stage, add_executor_arguments, finish, parse_settings, run_stages, script_settings
from trove_blocks.readers import CheckedJsonlReader

REPO = Path(__file__).resolve().parents[1]
DEFAULT_INPUT = REPO / "examples_local" / "data" / "real_text"
DEFAULT_OUTPUT = REPO / "examples_local" / "output" / "01_basic_filtering"


def long_enough(doc: Document, min_words: int) -> bool | tuple[bool, str]:
    """Keep a document of at least ``min_words`` whitespace-separated words; else drop it with a reason.

    A filter function of a script reaches Slurm jobs and worker processes pickled by value, WITHOUT the script's
    globals: it may use only its arguments, builtins and what it imports itself. Hence ``partial`` below rather
    than a lambda that calls a global.
    """
    if len(doc.text.split()) >= min_words:
        return True
    return False, f"fewer_than_{min_words}_words"


def build_parser(output: Path = DEFAULT_OUTPUT, executor: str = "local", tasks: int = 1) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--input", type=Path, default=DEFAULT_INPUT, help="folder of JSONL files ({text, id, ...})")
    parser.add_argument("--output", type=Path, default=output, help="kept/ and excluded/ are written here")
    parser.add_argument("--min-words", type=int, default=50, help="keep documents with at least this many words")
    add_executor_arguments(parser, logging_dir="{output}/logs", executor=executor, tasks=tasks)
    return parser


def build_stages(args: argparse.Namespace) -> list[Stage]:
    kept, excluded = args.output / "kept", args.output / "excluded"
    pipeline = [
        CheckedJsonlReader(str(args.input), glob_pattern="*.jsonl"),
        LambdaFilter(
            partial(long_enough, min_words=args.min_words),
            exclusion_writer=JsonlWriter(str(excluded), output_filename="${rank}.jsonl", compression=None),
        ),
        JsonlWriter(str(kept), output_filename="${rank}.jsonl", compression=None),
    ]
    return [Stage("filter", pipeline, outputs=[kept, excluded], inputs=[args.input])]


def main(argv: list[str] | None = None, parser: argparse.ArgumentParser | None = None) -> int:
    parser = parser or build_parser()
    args, settings = parse_settings(parser, argv)
    if args.min_words < 0:
        parser.error(f"--min-words must be >= 0, got {args.min_words}")
    if not sorted(args.input.glob("*.jsonl")):
        parser.error(f"--input {args.input}: no *.jsonl files there")
    report = run_stages(settings, build_stages(args), run_settings=script_settings(args), job_name="01_basic_filtering")
    counts = {}
    if report.finished and report.ok:
        steps = report.stages[0].counters()
        reader = next(stats for name, stats in steps.items() if "READER" in name)
        kept_docs = next(stats for name, stats in steps.items() if "FILTER" in name)
        counts = {
            "read": int(reader.get("documents", 0)),
            "kept": int(kept_docs.get("forwarded", 0)),
            "excluded": int(kept_docs.get("dropped", 0)),
        }
    return finish(report, counts=counts, outputs={"kept": args.output / "kept", "excluded": args.output / "excluded"})


if __name__ == "__main__":
    raise SystemExit(main())
