"""Download the curriculum mix into raw JSONL per dataset (the seed's Stage 1), skipping what is already there.

The registry (src/trove_blocks/curriculum/registry.yaml, or --registry) lists per category its target token share
and its datasets (hub id, config, split, source format). Each hub dataset is read through datatrove's
HuggingFaceDatasetReader, or, when the registry names its hub_files (datasets shipped as one big JSON array, which
`datasets` would read whole), those files are fetched into the Hugging Face cache and streamed. Rows are rendered
by the format's adapter, tagged with their category and written to <output>/<category>/<name>.jsonl ({"text",
"id", "source", "category", "metadata"}) with <name>.stats.json; rows that cannot be rendered go, with their
reason, to <name>.excluded.jsonl. --source NAME=PATH reads a dataset from local files in its original format
instead of the hub (runs offline): .jsonl, or .json holding a JSON array of rows (or, for SQuAD and TriviaQA, the
rows under the registry's json_field), streamed in constant memory.

    python pipelines/download_curriculum.py --status-only
    python pipelines/download_curriculum.py --dry-run --category math_reasoning
    python pipelines/download_curriculum.py --category factual_qa --source squad=squad_v2_dev.json
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from trove_blocks import Stage, add_executor_arguments, finish, parse_settings, run_stages, script_settings
from trove_blocks.curriculum.download import RawCurriculumWriter, dataset_paths, download_status
from trove_blocks.curriculum.registry import DEFAULT_REGISTRY, RegistryError, load_registry, parse_source_overrides
from trove_blocks.readers.curriculum import CurriculumFileReader, CurriculumSourceReader
from trove_blocks.taggers.curriculum import CurriculumTagger


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--output", type=Path, default=Path("data/distillation"), help="<category>/<name>.jsonl here")
    parser.add_argument("--registry", type=Path, default=DEFAULT_REGISTRY, help="registry of categories and datasets")
    parser.add_argument("--category", default=None, help="only this category (default: all)")
    parser.add_argument(
        "--dataset",
        action="append",
        default=None,
        metavar="NAME",
        help="only these datasets, repeatable (default: all)",
    )
    parser.add_argument(
        "--source",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="read dataset NAME from local .json/.jsonl files (a file or folder) instead of the hub, repeatable",
    )
    parser.add_argument(
        "--only-sources",
        action="store_true",
        help="download only the datasets given with --source (an offline run of a local mix)",
    )
    parser.add_argument("--max-samples", type=int, default=None, help="rows per dataset at most (default: registry)")
    parser.add_argument("--status-only", action="store_true", help="print what is present per category and exit")
    parser.add_argument("--dry-run", action="store_true", help="print the download plan and exit")
    parser.add_argument("--force", action="store_true", help="download again what is already present")
    add_executor_arguments(parser, logging_dir="{output}/_logs")
    return parser


def print_status(registry, selected, output: Path) -> None:
    """Per dataset: present or not, documents and characters; per category: character share against its target."""
    chars: dict[str, int] = {category: 0 for category in registry.targets}
    print(f"{'category':<17} {'dataset':<18} {'status':<34} {'documents':>10} {'chars':>14}")
    for entry in selected:
        status = download_status(output, entry.category, entry.name, check_sha256=False)
        stats = status.stats if status.present else None
        documents = f"{stats['documents']:,}" if stats else "-"
        size = f"{stats['chars']:,}" if stats else "-"
        chars[entry.category] += stats["chars"] if stats else 0
        print(f"{entry.category:<17} {entry.name:<18} {status.reason:<34} {documents:>10} {size:>14}")
    total = sum(chars.values())
    print(f"\n{'category':<17} {'chars':>14} {'share':>7} {'target':>7}")
    for category, count in chars.items():
        share = f"{count / total:.1%}" if total else "-"
        print(f"{category:<17} {count:>14,} {share:>7} {registry.targets[category]:>7.0%}")


def origin_of(entry, overrides: dict[str, Path]) -> str:
    """Where a dataset is read from, as the plan and its stats.json say it."""
    if entry.name in overrides:
        return f"local {overrides[entry.name]}"
    return f"hub {entry.hub_id}" + (f" ({entry.hub_files})" if entry.hub_files else "")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, settings = parse_settings(parser, argv)
    try:
        registry = load_registry(args.registry)
        overrides = parse_source_overrides(args.source, registry)
        selected = registry.in_category(args.category)
    except RegistryError as error:
        parser.error(str(error))
    if args.dataset:
        unknown = sorted(set(args.dataset) - set(registry.datasets))
        if unknown:
            parser.error(f"--dataset {', '.join(unknown)}: not in the registry ({', '.join(registry.datasets)})")
        selected = [entry for entry in selected if entry.name in args.dataset]
    if args.only_sources:
        selected = [entry for entry in selected if entry.name in overrides]
    if args.status_only:
        print_status(registry, selected, args.output)
        return 0

    plan, present = [], []
    settings_of = {}
    for entry in selected:
        limit = args.max_samples if args.max_samples is not None else entry.max_samples
        settings_of[entry.name] = entry.download_settings(overrides.get(entry.name), limit)
        status = download_status(args.output, entry.category, entry.name, settings=settings_of[entry.name])
        if status.present and not args.force:
            present.append(entry)
        else:
            plan.append((entry, status.reason))
    for entry in present:
        print(f"skip     {entry.category}/{entry.name}: present ({entry.name}.stats.json verifies)")
    for entry, reason in plan:
        print(f"download {entry.category}/{entry.name} from {origin_of(entry, overrides)} ({reason})")
    if args.dry_run or not plan:
        print("dry run: nothing downloaded" if args.dry_run else "nothing to download")
        return 0

    stages = []
    for entry, _ in plan:
        # planned = missing or damaged: a completion mark of an earlier run must not make datatrove skip it
        shutil.rmtree(Path(args.logging_dir) / f"download_{entry.name}" / "completions", ignore_errors=True)
        limit = settings_of[entry.name]["limit"]
        if entry.name in overrides or entry.hub_files:
            if entry.name in overrides:
                folder, pattern = entry.local_files(overrides[entry.name])
            else:
                try:
                    folder, pattern = entry.fetch_hub_files()
                except RegistryError as error:  # nothing has been written yet
                    print(f"error: {error}", file=sys.stderr)
                    return 1
            reader = CurriculumFileReader(
                str(folder), entry.name, entry.format, entry.text_field, entry.json_field, pattern, limit=limit
            )
        else:
            dataset, options = entry.load_options()
            reader = CurriculumSourceReader(dataset, options, entry.name, entry.format, entry.text_field, limit=limit)
        pipeline = [
            reader,
            CurriculumTagger(category=entry.category),
            RawCurriculumWriter(
                str(args.output), entry.name, entry.category, origin_of(entry, overrides), settings_of[entry.name]
            ),
        ]
        stages.append(Stage(f"download_{entry.name}", pipeline, tasks=1))
    run_settings = script_settings(args) | {"sources": {name: str(path) for name, path in overrides.items()}}
    report = run_stages(settings, stages, run_settings=run_settings, job_name="download_curriculum")

    counts = {"datasets": len(plan), "skipped_present": len(present)}
    outputs = {}
    if report.finished:
        documents = excluded = 0
        for entry, _ in plan:
            status = download_status(args.output, entry.category, entry.name, check_sha256=False)
            if status.present:
                documents += status.stats["documents"]
                excluded += status.stats["excluded"]
                outputs[entry.name] = dataset_paths(args.output, entry.category, entry.name)[0]
        counts |= {"documents": documents, "excluded": excluded}
    return finish(report, counts=counts, outputs=outputs)


if __name__ == "__main__":
    raise SystemExit(main())
