"""Tutorial 04 (spec/04_statistics.md): DocStats, WordStats, LineStats per task -> StatsMerger -> a PNG report.

Stage 1 computes per-document statistics of the 230 real documents in examples_local/data/real_text/ in
parallel tasks (one per input file): each task writes partial histograms and summaries under <output>/partial/.
Stage 2 (one task) is datatrove's StatsMerger, which adds the tasks' partial results into <output>/merged/.
The script then draws the main distributions into <output>/report.png (trove_blocks.report, Pillow only).

    python examples_local/04_statistics.py
    python examples_local/04_statistics.py --tasks 2 --input other/jsonl/folder
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from datatrove.pipeline.stats import DocStats, LineStats, StatsMerger, WordStats

from trove_blocks import Stage, add_executor_arguments, finish, parse_settings, run_stages, script_settings
from trove_blocks.readers import CheckedJsonlReader
from trove_blocks.report import read_histogram, read_summary, render_histograms

REPO = Path(__file__).resolve().parents[1]
DEFAULT_INPUT = REPO / "examples_local" / "data" / "real_text"
DEFAULT_OUTPUT = REPO / "examples_local" / "output" / "04_statistics"
#: summary + histogram only: the "fqdn" and "suffix" groups need URLs (and tldextract's suffix list)
GROUPS = ["summary", "histogram"]
#: the distributions drawn in the report, in reading order; the long-tailed counts get log bins
REPORT_STATS = ("length", "n_words", "n_lines", "avg_word_length", "stop_word_ratio", "digit_ratio")
LOG_BINS = frozenset({"length", "n_words"})


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--input", type=Path, default=DEFAULT_INPUT, help="folder of JSONL files ({text, id, ...})")
    parser.add_argument(
        "--output", type=Path, default=DEFAULT_OUTPUT, help="partial/, merged/ and report.png are written here"
    )
    add_executor_arguments(parser, logging_dir="{output}/logs", tasks=4)
    return parser


def build_stages(args: argparse.Namespace) -> list[Stage]:
    partial, merged = args.output / "partial", args.output / "merged"
    collect = [
        CheckedJsonlReader(str(args.input), glob_pattern="*.jsonl"),
        DocStats(str(partial), groups_to_compute=GROUPS),  # characters: length, ratios of digits, punctuation, ...
        WordStats(str(partial), groups_to_compute=GROUPS),  # spaCy words: counts, lengths, stop words, ...
        LineStats(str(partial), groups_to_compute=GROUPS),  # lines: counts, duplicates, bullets, ...
    ]
    merge = [StatsMerger(str(partial), str(merged))]
    return [
        Stage("collect", collect, outputs=[partial], inputs=[args.input]),
        Stage("merge", merge, tasks=1, outputs=[merged]),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, settings = parse_settings(parser, argv)
    if not sorted(args.input.glob("*.jsonl")):
        parser.error(f"--input {args.input}: no *.jsonl files there")
    report = run_stages(settings, build_stages(args), run_settings=script_settings(args), job_name="04_statistics")
    merged, picture = args.output / "merged", args.output / "report.png"
    counts: dict[str, float] = {}
    if report.ok:
        names = sorted(p.name for p in (merged / "summary").iterdir())
        print(f"\n{len(names)} statistics merged from {report.stages[0].tasks} tasks; the main ones:")
        print(f"  {'statistic':<24}{'docs':>6}{'mean':>10}{'min':>9}{'max':>9}")
        for name in REPORT_STATS:
            s = read_summary(merged, name)
            print(f"  {name:<24}{s['n']:>6}{s['mean']:>10.3f}{s['min']:>9.3g}{s['max']:>9.3g}")
            counts[f"{name}_mean"] = round(s["mean"], 3)
        counts["documents"] = read_summary(merged, "length")["n"]
        counts["statistics"] = len(names)
        histograms = [read_histogram(merged, name) for name in REPORT_STATS]
        render_histograms(
            histograms,
            picture,
            title=f"{args.input.name}: {int(counts['documents'])} documents (red line: mean)",
            log_scale=LOG_BINS,
        )
        print("SUMMARY " + json.dumps(counts, sort_keys=True))
    return finish(report, counts=counts, outputs={"merged stats": merged, "report": picture})


if __name__ == "__main__":
    raise SystemExit(main())
