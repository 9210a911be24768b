"""Tutorial 03 (spec/03_tokenization.md): CheckedJsonlReader -> TokensCounter -> DocumentTokenizer, real tokenizer.

Counts and writes the tokens of the 230 real documents in examples_local/data/real_text/ with OpenAI's cl100k
BPE (the tokenizer of GPT-4-era models; trove_blocks ships it offline, see src/trove_blocks/tokenizers.py).
TokensCounter puts each document's count into ``metadata["token_count"]`` (written to <output>/counted/);
DocumentTokenizer writes the token ids, documents separated by <|endoftext|>, to <output>/tokens/ as datatrove's
binary ``.ds`` files (uint32 ids because cl100k has more than 65,536 tokens) with an ``.index`` of document ends.
The summary reads the files back and decodes the first document, to show nothing was lost on the way.

    python examples_local/03_tokenization.py
    python examples_local/03_tokenization.py --tokenizer path/to/tokenizer.json --tasks 4
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

import numpy as np
from datatrove.pipeline.tokens import DocumentTokenizer, TokensCounter
from datatrove.pipeline.writers import JsonlWriter

from trove_blocks import Stage, add_executor_arguments, finish, parse_settings, run_stages, script_settings
from trove_blocks.readers import CheckedJsonlReader
from trove_blocks.tokenizers import check_tokenizer_flag, load_tokenizer, tokenizer_file

REPO = Path(__file__).resolve().parents[1]
DEFAULT_INPUT = REPO / "examples_local" / "data" / "real_text"
DEFAULT_OUTPUT = REPO / "examples_local" / "output" / "03_tokenization"
EOS = "<|endoftext|>"


def tokenize_pipeline(tokenizer: str, tokens_dir: Path, counted_dir: Path | None = None) -> list:
    """TokensCounter (+ a writer of the counted documents) -> DocumentTokenizer, in input order (no shuffling).

    Tutorial 08 reuses it as its last stage.
    """
    path = str(tokenizer_file(tokenizer))  # DocumentTokenizer takes a tokenizer.json FILE (a folder means a hub id)
    steps: list = [TokensCounter(tokenizer_name_or_path=path, count_eos_token=True)]
    if counted_dir is not None:
        steps.append(JsonlWriter(str(counted_dir), output_filename="${rank}.jsonl", compression=None))
    steps.append(
        DocumentTokenizer(
            output_folder=str(tokens_dir),
            tokenizer_name_or_path=path,
            eos_token=EOS,
            shuffle_documents=False,  # keep input order: the same input gives byte-identical .ds files
        )
    )
    return steps


def read_token_files(tokens_dir: Path) -> list[np.ndarray]:
    """Every document's token ids from the ``.ds`` files (uint32) and their ``.index`` (uint64 end offsets)."""
    documents = []
    for ds_file in sorted(tokens_dir.glob("*.ds")):
        ids = np.fromfile(ds_file, dtype="<u4")
        ends = np.fromfile(ds_file.with_name(ds_file.name + ".index"), dtype="<u8")
        starts = [0, *ends[:-1].tolist()]
        documents += [ids[start:end] for start, end in zip(starts, ends.tolist())]
    return documents


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--input", type=Path, default=DEFAULT_INPUT, help="folder of JSONL files ({text, id, ...})")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="counted/ and tokens/ are written here")
    parser.add_argument(
        "--tokenizer", default="cl100k_base", help="cl100k_base (bundled), a tokenizer.json, a folder or a hub id"
    )
    add_executor_arguments(parser, logging_dir="{output}/logs")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, settings = parse_settings(parser, argv)
    if not sorted(args.input.glob("*.jsonl")):
        parser.error(f"--input {args.input}: no *.jsonl files there")
    check_tokenizer_flag(parser, args.tokenizer)
    counted, tokens = args.output / "counted", args.output / "tokens"
    pipeline = [
        CheckedJsonlReader(str(args.input), glob_pattern="*.jsonl"),
        *tokenize_pipeline(args.tokenizer, tokens, counted),
    ]
    report = run_stages(
        settings,
        [Stage("tokenize", pipeline, outputs=[counted, tokens], inputs=[args.input])],
        run_settings=script_settings(args),
        job_name="03_tokenization",
    )
    counts: dict[str, int | float] = {}
    if report.ok:
        steps = report.stages[0].counters()
        docs = [json.loads(line) for path in sorted(counted.glob("*.jsonl")) for line in path.read_text().splitlines()]
        written = read_token_files(tokens)
        by_source: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for doc in docs:
            by_source[doc["metadata"]["source"]].append((doc["metadata"]["token_count"], len(doc["text"].split())))
        print("\ntokens per source (cl100k, <|endoftext|> included):")
        print(f"  {'source':<20}{'docs':>6}{'tokens':>9}{'mean':>8}{'max':>7}{'tokens/word':>13}")
        for source, rows in sorted(by_source.items()):
            n_tokens = sum(t for t, _ in rows)
            print(
                f"  {source:<20}{len(rows):>6}{n_tokens:>9}{n_tokens / len(rows):>8.1f}"
                f"{max(t for t, _ in rows):>7}{n_tokens / sum(w for _, w in rows):>13.2f}"
            )
        tokenizer = load_tokenizer(args.tokenizer)
        first = written[0]
        print(f"\nfirst document in {tokens.name}/: {len(first)} ids, starts {first[:8].tolist()}")
        print(f"  decoded: {tokenizer.decode(first[:-1].tolist())[:100]!r}...")
        first_input = next(doc for doc in docs if doc["id"] == docs[0]["id"])
        counts = {
            "documents": len(docs),
            "tokens_counted": int(sum(s.get("tokens", 0) for n, s in steps.items() if "Counter" in n)),
            "tokens_written": int(sum(len(ids) for ids in written)),
            "documents_written": len(written),
            "words": sum(len(doc["text"].split()) for doc in docs),
            "first_document_roundtrip": tokenizer.decode(first[:-1].tolist()) == first_input["text"],
        }
        print("SUMMARY " + json.dumps(counts, sort_keys=True))
    return finish(report, counts=counts, outputs={"counted": counted, "tokens": tokens})


if __name__ == "__main__":
    raise SystemExit(main())
