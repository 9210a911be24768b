"""Tutorial 02 (spec/02_extraction_filtering.md): web pages -> Trafilatura -> LanguageFilter -> quality filters.

Reads real web pages from two kinds of source: WARC files (warcio's test captures, read by datatrove's WarcReader)
and saved HTML pages (trafilatura's benchmark pages, read by trove_blocks' HtmlFileReader). Trafilatura extracts
the main text; every extracted page is also written to <output>/extracted/ so its quality can be scored against
the benchmark's gold segments. Then fastText language ID (the real lid.176 model, shipped in
examples_local/data/langid/, no download) keeps English, and the Gopher, C4 and FineWeb quality filters each
drop what they judge low quality into their own <output>/excluded/<filter>/ folder, with the reason.

    python examples_local/02_extraction_filtering.py
    python examples_local/02_extraction_filtering.py --min-doc-words 100
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from datatrove.pipeline.extractors import Trafilatura
from datatrove.pipeline.filters import C4QualityFilter, FineWebQualityFilter, GopherQualityFilter, LanguageFilter
from datatrove.pipeline.readers import WarcReader
from datatrove.pipeline.writers import JsonlWriter

from trove_blocks import Stage, add_executor_arguments, finish, parse_settings, run_stages, script_settings
from trove_blocks.extraction_eval import SegmentScore, score_extraction
from trove_blocks.readers.html import HtmlFileReader

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "examples_local" / "data"
DEFAULT_OUTPUT = REPO / "examples_local" / "output" / "02_extraction_filtering"
#: fastText LID-176, compressed (938 KB, 176 languages), CC BY-SA 3.0; see examples_local/data/langid/README.md
LANGID_MODEL = DATA / "langid" / "lid.176.ftz"
#: the quality filters in pipeline order: (name of its exclusion folder, datatrove step name)
QUALITY_FILTERS = ("gopher_quality", "c4_quality", "fineweb_quality")


def language_filter(languages: list[str], exclusion_writer: JsonlWriter, model: Path = LANGID_MODEL) -> LanguageFilter:
    """datatrove's LanguageFilter with a local fastText model.

    The filter has no model-path argument and would download lid.176.bin (131 MB) on first use; its model
    object takes the path it "downloads" from in MODEL_URL, and a local path works (it is copied into
    datatrove's asset cache once).
    """
    if not model.is_file():
        raise FileNotFoundError(f"language ID model {model} is missing (see examples_local/data/langid/README.md)")
    lang_filter = LanguageFilter(languages=languages, exclusion_writer=exclusion_writer)
    lang_filter.model.MODEL_URL = str(model)
    return lang_filter


def gold_pages(html_dir: Path) -> dict[str, dict]:
    """The benchmark's gold data {url: {"file", "with", "without", ...}} (empty when the folder has none)."""
    gold_file = html_dir / "evaldata_subset.json"
    return json.loads(gold_file.read_text()) if gold_file.is_file() else {}


def extract_and_filter_pipeline(
    warc_dir: Path | None,
    html_dir: Path | None,
    output: Path,
    *,
    min_doc_words: int = 50,
    languages: tuple[str, ...] = ("en",),
) -> list:
    """Readers -> Trafilatura -> language ID -> Gopher -> C4 -> FineWeb -> kept.

    Writes <output>/extracted/ (every extracted page), <output>/excluded/<filter>/ and <output>/kept/.
    Tutorial 08 reuses this pipeline as its first stage.
    """

    def writer(folder: str) -> JsonlWriter:
        return JsonlWriter(str(output / folder), output_filename="${rank}.jsonl", compression=None)

    pipeline: list = []
    if warc_dir is not None:
        pipeline.append(WarcReader(str(warc_dir), glob_pattern="*.warc*"))
    if html_dir is not None:
        urls = {page["file"]: url for url, page in gold_pages(html_dir).items()}
        pipeline.append(HtmlFileReader(str(html_dir), urls=urls))
    pipeline += [
        Trafilatura(favour_precision=True, timeout=10.0),
        writer("extracted"),
        language_filter(list(languages), writer("excluded/language")),
        GopherQualityFilter(min_doc_words=min_doc_words, exclusion_writer=writer("excluded/gopher_quality")),
        C4QualityFilter(filter_no_terminal_punct=False, exclusion_writer=writer("excluded/c4_quality")),
        FineWebQualityFilter(exclusion_writer=writer("excluded/fineweb_quality")),
        writer("kept"),
    ]
    return pipeline


def read_jsonl_folder(folder: Path) -> list[dict]:
    return [json.loads(line) for path in sorted(folder.glob("*.jsonl")) for line in path.read_text().splitlines()]


def extraction_scores(extracted: list[dict], html_dir: Path) -> dict[str, SegmentScore]:
    """Per benchmark page, its extracted text scored against the gold segments (a page with no text scores 0)."""
    texts = {doc["metadata"].get("url"): doc["text"] for doc in extracted}
    return {
        url: score_extraction(texts.get(url), page["with"], page["without"])
        for url, page in gold_pages(html_dir).items()
    }


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--warc", type=Path, default=DATA / "warc", help="folder of WARC files (*.warc, *.warc.gz)")
    parser.add_argument(
        "--html",
        type=Path,
        default=DATA / "third_party" / "html",
        help="folder of *.html pages (+ evaldata_subset.json gold)",
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="extracted/, excluded/, kept/ go here")
    parser.add_argument("--language", action="append", default=None, help="language(s) to keep (default: en)")
    parser.add_argument("--min-doc-words", type=int, default=50, help="Gopher: drop pages with fewer words")
    add_executor_arguments(parser, logging_dir="{output}/logs")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, settings = parse_settings(parser, argv)
    args.language = args.language or ["en"]
    for flag, folder in (("--warc", args.warc), ("--html", args.html)):
        if not folder.is_dir():
            parser.error(f"{flag} {folder}: no such folder")
    pipeline = extract_and_filter_pipeline(
        args.warc, args.html, args.output, min_doc_words=args.min_doc_words, languages=tuple(args.language)
    )
    outputs = [args.output / sub for sub in ("extracted", "excluded", "kept")]
    report = run_stages(
        settings,
        [Stage("extract_filter", pipeline, outputs=outputs, inputs=[args.warc, args.html])],
        run_settings=script_settings(args),
        job_name="02_extraction_filtering",
    )
    counts: dict[str, int | str] = {}
    if report.ok:
        steps = report.stages[0].counters()

        def stat(prefix: str, key: str) -> int:
            return int(sum(s.get(key, 0) for name, s in steps.items() if prefix in name))

        counts = {
            "pages": stat("READER", "documents"),
            "extracted": stat("Trafilatura", "extracted"),
            "language_dropped": stat("Language ID", "dropped"),
            "gopher_dropped": stat("Gopher Quality", "dropped"),
            "c4_dropped": stat("C4 Quality", "dropped"),
            "fineweb_dropped": stat("FineWeb Quality", "dropped"),
            "kept": len(read_jsonl_folder(args.output / "kept")),
        }
        extracted = read_jsonl_folder(args.output / "extracted")
        scores = extraction_scores(extracted, args.html)
        print("\nextraction quality against the gold segments (trafilatura's benchmark scoring):")
        for url, score in scores.items():
            print(
                f"  {url}: {score.true_positives}/{score.true_positives + score.false_negatives} wanted segments "
                f"found, {score.false_positives}/{score.false_positives + score.true_negatives} unwanted found"
            )
        total = sum(scores.values(), SegmentScore())
        counts |= {"precision": f"{total.precision:.3f}", "recall": f"{total.recall:.3f}"}
        for doc in read_jsonl_folder(args.output / "kept"):
            print(f"  kept: {doc['metadata'].get('url')} ({len(doc['text'].split())} words)")
        for name in ("language", *QUALITY_FILTERS):
            for doc in read_jsonl_folder(args.output / "excluded" / name):
                reason = doc["metadata"].get("filter_reason", doc["metadata"].get("language"))
                print(f"  excluded by {name}: {doc['metadata'].get('url')} ({reason})")
        print("SUMMARY " + json.dumps(counts, sort_keys=True))
    return finish(
        report,
        counts=counts,
        outputs={
            "extracted": args.output / "extracted",
            "excluded": args.output / "excluded",
            "kept": args.output / "kept",
        },
    )


if __name__ == "__main__":
    raise SystemExit(main())
