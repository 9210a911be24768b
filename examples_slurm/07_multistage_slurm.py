"""Tutorial 07 (spec/07_multistage_slurm.md): MinHash near-duplicate removal as 4 dependent Slurm jobs.

datatrove's MinHash dedup is four stages, each a Slurm job array that starts only when the one before it
succeeded (sbatch --dependency=afterok):

1. signatures (--tasks tasks): each document's text -> word 3-gram shingles -> 32 minhashes, cut into 8 bands of 4;
2. buckets (one task per band): documents whose band is identical are candidate pairs;
3. cluster (one task): candidate pairs -> connected clusters; all but one member of each is marked for removal;
4. filter (--tasks tasks, the same reading order as stage 1): removed documents -> <output>/removed/, the rest
   -> <output>/kept/, each with its ``minhash_cluster_id``.

The input, examples_local/data/real_text/, holds real near-duplicates: the first 5 GSM8K test problems in both
their "main" and "socratic" releases (same question, answers reworded as sub-questions) and FastChat's
templated identity conversations. Re-running the same command resubmits nothing that already completed.

    scripts/local-slurm up
    python examples_slurm/07_multistage_slurm.py --wait
    python examples_slurm/07_multistage_slurm.py --executor local          # the same stages without Slurm
"""

from __future__ import annotations

import argparse
import json
from collections import Counter, defaultdict
from pathlib import Path

from datatrove.pipeline.dedup import (
    MinhashConfig,
    MinhashDedupBuckets,
    MinhashDedupCluster,
    MinhashDedupFilter,
    MinhashDedupSignature,
)
from datatrove.pipeline.writers import JsonlWriter

from trove_blocks import Stage, add_executor_arguments, finish, parse_settings, run_stages, script_settings
from trove_blocks.readers import CheckedJsonlReader

REPO = Path(__file__).resolve().parents[1]
DEFAULT_INPUT = REPO / "examples_local" / "data" / "real_text"
DEFAULT_OUTPUT = REPO / "examples_slurm" / "output" / "07_multistage_slurm"
#: 3-word shingles, 8 bands x 4 hashes: pairs above ~(1/8)^(1/4) = 0.59 Jaccard similarity are found with high
#: probability (datatrove's default, 5-grams and 14 x 8, finds ~0.72 and up: too strict for the GSM8K pairs)
#: members of a cluster printed by name
SHOWN_PER_CLUSTER = 3

MINHASH = MinhashConfig(n_grams=3, num_buckets=8, hashes_per_bucket=4)


def minhash_stages(
    reader_steps, work: Path, kept: Path, removed: Path, config: MinhashConfig = MINHASH, inputs: tuple = ()
) -> list[Stage]:
    """The 4 MinHash stages over the documents ``reader_steps`` produce (built twice: stages 1 and 4 read them).

    ``reader_steps()`` returns a fresh list of steps; stages 1 and 4 must see the documents in the same order.
    ``inputs``: the folders they read, when they come from outside the run. Tutorial 08 reuses these stages.
    """
    signatures, buckets, clusters = work / "signatures", work / "buckets", work / "clusters"
    return [
        Stage(
            "minhash_signatures",
            [*reader_steps(), MinhashDedupSignature(output_folder=str(signatures), config=config)],
            outputs=[signatures],
            inputs=inputs,
        ),
        Stage(
            "minhash_buckets",
            [MinhashDedupBuckets(input_folder=str(signatures), output_folder=str(buckets), config=config)],
            tasks=config.num_buckets,
            outputs=[buckets],
        ),
        Stage(
            "minhash_cluster",
            [
                MinhashDedupCluster(
                    input_folder=str(buckets), output_folder=str(clusters), config=config, save_cluster_id=True
                )
            ],
            tasks=1,
            outputs=[clusters],
        ),
        Stage(
            "minhash_filter",
            [
                *reader_steps(),
                MinhashDedupFilter(
                    input_folder=str(clusters),
                    exclusion_writer=JsonlWriter(str(removed), output_filename="${rank}.jsonl", compression=None),
                    load_cluster_ids=True,
                ),
                JsonlWriter(str(kept), output_filename="${rank}.jsonl", compression=None),
            ],
            outputs=[kept, removed],
        ),
    ]


def read_jsonl_folder(folder: Path) -> list[dict]:
    return [json.loads(line) for path in sorted(folder.glob("*.jsonl")) for line in path.read_text().splitlines()]


def describe_clusters(kept: list[dict], removed: list[dict]) -> dict[str, int]:
    """Print each cluster (kept member first) and return how many documents were removed per source."""
    members: dict[int, list[tuple[str, dict]]] = defaultdict(list)
    for state, docs in (("kept", kept), ("removed", removed)):
        for doc in docs:
            cluster = doc["metadata"].get("minhash_cluster_id", -1)
            if cluster != -1:
                members[cluster].append((state, doc))
    print(f"\n{len(members)} clusters of near-duplicates:")
    for docs in sorted(members.values(), key=lambda cluster: sorted(d["id"] for _, d in cluster)):
        ordered = sorted(docs, key=lambda x: x[0])  # the kept one first
        shown = [f"{doc['id']}{'' if state == 'kept' else ' (removed)'}" for state, doc in ordered[:SHOWN_PER_CLUSTER]]
        if len(ordered) > SHOWN_PER_CLUSTER:  # a large cluster: its first members and how many were removed
            shown.append(f"... ({sum(state == 'removed' for state, _ in ordered)} removed)")
        print(f"  {', '.join(shown)}")
    return dict(sorted(Counter(doc["metadata"].get("source", "?") for doc in removed).items()))


def build_parser(output: Path = DEFAULT_OUTPUT) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--input", type=Path, default=DEFAULT_INPUT, help="folder of JSONL files ({text, id, ...})")
    parser.add_argument("--output", type=Path, default=output, help="work/, kept/ and removed/ are written here")
    add_executor_arguments(parser, logging_dir="{output}/logs", tasks=4, executor="slurm")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, settings = parse_settings(parser, argv)
    if not sorted(args.input.glob("*.jsonl")):
        parser.error(f"--input {args.input}: no *.jsonl files there")
    input_dir = str(args.input)

    def reader_steps() -> list:
        return [CheckedJsonlReader(input_dir, glob_pattern="*.jsonl")]

    kept, removed = args.output / "kept", args.output / "removed"
    stages = minhash_stages(reader_steps, args.output / "work", kept, removed, inputs=(args.input,))
    report = run_stages(settings, stages, run_settings=script_settings(args), job_name="07_minhash")
    counts: dict[str, object] = {}
    if report.finished and report.ok:
        kept_docs, removed_docs = read_jsonl_folder(kept), read_jsonl_folder(removed)
        removed_by_source = describe_clusters(kept_docs, removed_docs)
        counts = {
            "documents_in": len(kept_docs) + len(removed_docs),
            "kept": len(kept_docs),
            "removed": len(removed_docs),
            "removed_by_source": removed_by_source,
        }
        print("SUMMARY " + json.dumps(counts, sort_keys=True))
    return finish(report, counts=counts, outputs={"kept": kept, "removed": removed})


if __name__ == "__main__":
    raise SystemExit(main())
