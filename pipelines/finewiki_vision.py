"""FineWiki vision-text compression: filter long articles, chunk them, render contexts as pages, split, Arrow.

The seed's phases 2-4 (+ its optional Arrow conversion) as stages of one script; phase 1 (download) is
pipelines/finewiki_download.py. Stages, each depending on the one before:

1. filter:       FineWiki parquet -> articles with >= --min-tokens tokens, in the seed's format
                 {id, title, text, tokens, total_tokens} (<output>/filtered/<rank>.jsonl.gz, one gzipped JSONL
                 per task, where the seed wrote one finewiki_filtered.jsonl); the others, with their reason, to
                 <output>/excluded/filter/
2. chunk_render: windows of --context-tokens + --continuation-tokens tokens (ids sample_<page id>_chunk_<k>), the
                 context rendered per --modes; --layout files: <output>/images/<mode>/<id>.png + samples/*.jsonl;
                 --layout parquet: <output>/parquet/*.parquet with an image_<mode> column per mode
3. report:       <output>/report/{report.json, report.md, contact_sheet.png}: text vs vision tokens per mode
4. splits:       <output>/splits/{train, val}.{jsonl|parquet} + split_manifest.json (--max-samples --val-size --seed)
5. arrow:        <output>/arrow/{train, val}.arrow, memory-mapped by readers

    python pipelines/finewiki_vision.py --input data/finewiki/data/enwiki --output data/finewiki_vision
    python pipelines/finewiki_vision.py --input examples_local/data/finewiki --tokenizer cl100k_base \\
        --output /tmp/fw --modes tiny,base --layout parquet --tasks 2
"""

from __future__ import annotations

import argparse
import struct
from pathlib import Path

from datatrove.pipeline.writers import JsonlWriter

from trove_blocks import Stage, add_executor_arguments, finish, parse_settings, run_stages, script_settings
from trove_blocks.filters.token_length import TokenLengthFilter
from trove_blocks.finewiki.records import excluded_record, filtered_article, filtered_article_record
from trove_blocks.formatters.context_chunks import ContextChunker
from trove_blocks.readers.finewiki import FineWikiReader
from trove_blocks.readers.stage_output import StageOutputJsonlReader
from trove_blocks.render import GRAY_BITS, MODES, VISION_TOKEN_COUNTS, PageStyle, font_characters
from trove_blocks.taggers.page_render import OVERFLOW_POLICIES, PageRenderer
from trove_blocks.tokenizers import check_tokenizer_flag, tokenizer_inputs
from trove_blocks.writers.images import ImageFilesWriter, ImageParquetWriter
from trove_blocks.writers.vision_samples import ArrowConverter, CompressionReportWriter, SplitWriter

DEFAULT_TOKENIZER = "deepseek-ai/DeepSeek-OCR"


def parse_modes(value: str) -> tuple[str, ...]:
    modes = tuple(mode.strip() for mode in value.split(",") if mode.strip())
    unknown = [mode for mode in modes if mode not in MODES]
    if unknown or not modes or len(set(modes)) != len(modes):
        raise argparse.ArgumentTypeError(f"modes: a comma list of distinct {', '.join(MODES)}; got {value!r}")
    return modes


def build_parser(output: Path = Path("data/finewiki_vision")) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument(
        "--input",
        type=Path,
        default=Path("data/finewiki/data/enwiki"),
        help="folder of FineWiki *.parquet (subfolders too: data/finewiki/data reads every wiki downloaded)",
    )
    parser.add_argument("--output", type=Path, default=output, help="every stage writes under this folder")
    parser.add_argument(
        "--tokenizer",
        default=DEFAULT_TOKENIZER,
        help="hub id, local folder, tokenizer.json, or cl100k_base (bundled, offline)",
    )
    parser.add_argument("--min-tokens", type=int, default=2000, help="keep articles with at least this many tokens")
    parser.add_argument("--context-tokens", type=int, default=1000, help="tokens rendered as the image")
    parser.add_argument("--continuation-tokens", type=int, default=1000, help="tokens the model must continue")
    parser.add_argument("--modes", type=parse_modes, default=tuple(MODES), help="comma list of " + ",".join(MODES))
    parser.add_argument("--layout", choices=("files", "parquet"), default="files", help="PNG files or Parquet")
    parser.add_argument(
        "--on-overflow",
        choices=OVERFLOW_POLICIES,
        default="flag",
        help="a context that does not fit a page at --min-font-size: keep with overflow flag, or exclude",
    )
    parser.add_argument(
        "--on-missing-glyphs",
        choices=OVERFLOW_POLICIES,
        default="exclude",
        help="a context with characters the font has no glyph for (shown as empty boxes): keep it, their list in "
        "its metadata, or exclude it",
    )
    parser.add_argument(
        "--font",
        type=Path,
        default=None,
        help="TrueType/OpenType font to render with, e.g. a Noto CJK font for zh/ja/ko wikis (default: the bundled "
        "DejaVu Sans Mono: Latin, Greek, Cyrillic and more, no CJK)",
    )
    parser.add_argument("--min-font-size", type=int, default=PageStyle.min_font_size, help="pixels")
    parser.add_argument("--gray-bits", type=int, choices=GRAY_BITS, default=PageStyle.gray_bits, help="PNG grey depth")
    parser.add_argument(
        "--vision-tokens",
        choices=VISION_TOKEN_COUNTS,
        default="code",
        help="DeepSeek-OCR vision tokens per mode: code 73/111/273/421, readme 64/100/256/400",
    )
    parser.add_argument("--max-samples", type=int, default=510000, help="samples kept for train+val")
    parser.add_argument("--val-size", type=int, default=10000, help="validation samples among them")
    parser.add_argument("--seed", type=int, default=42, help="split seed")
    parser.add_argument("--sheet-samples", type=int, default=3, help="samples on the contact sheet")
    parser.add_argument("--limit", type=int, default=-1, help="articles read per task (-1: all), for trial runs")
    add_executor_arguments(parser, logging_dir="{output}/logs")
    return parser


def build_stages(args: argparse.Namespace) -> list[Stage]:
    out = args.output
    filtered, excluded = out / "filtered", out / "excluded"
    samples = [out / "images", out / "samples"] if args.layout == "files" else [out / "parquet"]
    style = PageStyle(
        min_font_size=args.min_font_size, gray_bits=args.gray_bits, font_file=str(args.font) if args.font else None
    )

    def exclusions(name: str) -> JsonlWriter:
        return JsonlWriter(
            str(excluded / name), output_filename="${rank}.jsonl", compression=None, adapter=excluded_record
        )

    writer = (
        ImageFilesWriter(str(out), args.modes, args.vision_tokens)
        if args.layout == "files"
        else ImageParquetWriter(str(out / "parquet"), args.modes)
    )
    return [
        Stage(
            "filter",
            [
                FineWikiReader(str(args.input), limit=args.limit),
                TokenLengthFilter(args.tokenizer, args.min_tokens, exclusion_writer=exclusions("filter")),
                JsonlWriter(str(filtered), output_filename="${rank}.jsonl.gz", adapter=filtered_article_record),
            ],
            outputs=[filtered, excluded / "filter"],
            inputs=[args.input, *tokenizer_inputs(args.tokenizer)],
        ),
        Stage(
            "chunk_render",
            [
                StageOutputJsonlReader(str(filtered), glob_pattern="*.jsonl.gz", adapter=filtered_article),
                ContextChunker(
                    args.tokenizer, args.context_tokens, args.continuation_tokens, exclusion_writer=exclusions("chunk")
                ),
                PageRenderer(
                    args.modes,
                    style,
                    args.on_overflow,
                    exclusion_writer=exclusions("render"),
                    on_missing_glyphs=args.on_missing_glyphs,
                ),
                writer,
            ],
            outputs=[*samples, excluded / "chunk", excluded / "render"],
            inputs=[args.font] if args.font else [],
        ),
        Stage(
            "report",
            [CompressionReportWriter(str(out), args.layout, args.modes, args.vision_tokens, args.sheet_samples)],
            tasks=1,
            outputs=[out / "report"],
        ),
        Stage(
            "splits",
            [SplitWriter(str(out), args.layout, args.modes, args.max_samples, args.val_size, args.seed)],
            tasks=1,
            outputs=[out / "splits"],
        ),
        Stage("arrow", [ArrowConverter(str(out), args.layout, args.modes)], tasks=1, outputs=[out / "arrow"]),
    ]


def check_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    for flag in ("min_tokens", "continuation_tokens", "max_samples", "val_size"):
        if getattr(args, flag) < 0:
            parser.error(f"--{flag.replace('_', '-')} must be >= 0, got {getattr(args, flag)}")
    if args.context_tokens < 1:
        parser.error(f"--context-tokens must be >= 1, got {args.context_tokens}")
    if args.min_font_size < 1:
        parser.error(f"--min-font-size must be >= 1, got {args.min_font_size}")
    if args.font is not None:
        from PIL import ImageFont

        try:
            ImageFont.truetype(str(args.font), args.min_font_size)  # FreeType checks the file before its cmap is read
            font_characters(str(args.font))
        except (OSError, ValueError, struct.error) as error:
            parser.error(f"--font {args.font}: not a usable TrueType/OpenType font ({error})")
    if not args.input.is_dir() or not sorted(args.input.rglob("*.parquet")):
        parser.error(f"--input {args.input}: no *.parquet files there (download: pipelines/finewiki_download.py)")
    if args.output.resolve().is_relative_to(args.input.resolve()):
        parser.error(f"--output {args.output} is inside --input {args.input}: its Parquet would be read as input")
    # last, as it may fetch a hub tokenizer; unchecked, an unusable one failed the first stage's task with a
    # traceback (on Slurm, after every stage was submitted)
    check_tokenizer_flag(parser, args.tokenizer)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, settings = parse_settings(parser, argv)
    check_args(parser, args)
    report = run_stages(settings, build_stages(args), run_settings=script_settings(args), job_name="finewiki_vision")
    counts = {}
    if report.finished and report.ok:
        filter_stats = report.stages[0].counters()
        chunk_stats = report.stages[1].counters()
        split_stats = report.stages[3].counters()

        def step(stats: dict, word: str) -> dict:
            return next((values for name, values in stats.items() if word in name), {})

        token_filter = step(filter_stats, "Token length")
        chunker = step(chunk_stats, "Context chunks")
        renderer = step(chunk_stats, "Page renderer")
        splitter = step(split_stats, "Train/val split")
        counts = {
            "articles read": int(step(filter_stats, "READER").get("documents", 0)),
            "kept (>= min tokens)": int(token_filter.get("forwarded", 0)),
            "excluded (short)": int(token_filter.get("dropped", 0)),
            "articles chunked": int(chunker.get("chunked", 0)),
            "articles excluded by chunker": int(chunker.get("excluded", 0)),
            "samples rendered": int(renderer.get("rendered", 0)),
            "samples excluded (missing glyphs)": int(renderer.get("excluded_missing_glyphs", 0)),
            "samples excluded (overflow)": int(
                renderer.get("excluded", 0) - renderer.get("excluded_missing_glyphs", 0)
            ),
            "train": int(splitter.get("train", 0)),
            "val": int(splitter.get("val", 0)),
            "not selected (--max-samples)": int(splitter.get("not_selected", 0)),
        }
    out = args.output
    return finish(
        report,
        counts=counts,
        outputs={
            "filtered": out / "filtered",
            "samples": out / ("samples" if args.layout == "files" else "parquet"),
            "report": out / "report" / "report.md",
            "contact sheet": out / "report" / "contact_sheet.png",
            "splits": out / "splits",
            "arrow": out / "arrow",
            "excluded": out / "excluded",
        },
    )


if __name__ == "__main__":
    raise SystemExit(main())
