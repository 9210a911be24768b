"""FineWiki samples: text and vision regimes from the PNG + JSONL layout, Parquet, and Arrow (both kinds)."""

from __future__ import annotations

import io
import json
from collections import Counter

import numpy as np
import pytest

from trove_blocks.loaders.finewiki import FineWikiDataset

CONTEXT, CONTINUATION = 24, 16


@pytest.fixture(scope="module")
def samples(tmp_path_factory, real_token_ids):
    """Real text cut into context/continuation windows, pages rendered at ``tiny``, written in every layout."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from trove_blocks.finewiki.arrow import convert_to_arrow
    from trove_blocks.render import render_page
    from trove_blocks.tokenizers import load_tokenizer
    from trove_blocks.writers.images import sample_parquet_schema

    tokenizer = load_tokenizer("cl100k_base")
    root = tmp_path_factory.mktemp("finewiki")
    (root / "samples").mkdir()
    (root / "images" / "tiny").mkdir(parents=True)
    records, rows = [], []
    window = CONTEXT + CONTINUATION
    for article, ids in enumerate(real_token_ids[:40:4]):
        for chunk in range(len(ids) // window)[:2]:
            tokens = ids[chunk * window : (chunk + 1) * window]
            sample = f"sample_{article:06d}_chunk_{chunk}"
            text = tokenizer.decode(tokens[:CONTEXT])
            png = render_page(text, "tiny").png
            (root / "images" / "tiny" / f"{sample}.png").write_bytes(png)
            record = {
                "id": sample,
                "context_tokens": tokens[:CONTEXT],
                "continuation_tokens": tokens[CONTEXT:],
                "context_text": text,
                "images": {"tiny": f"images/tiny/{sample}.png"},
            }
            records.append(record)
            rows.append(
                {key: record[key] for key in ("id", "context_tokens", "continuation_tokens", "context_text")}
                | {"image_tiny": png, "png_bytes_tiny": len(png)}
            )
    (root / "samples" / "00000.jsonl").write_text("".join(json.dumps(record) + "\n" for record in records))
    (root / "parquet").mkdir()
    table = pa.Table.from_pylist(rows, schema=sample_parquet_schema(("tiny",)))
    pq.write_table(table, root / "parquet" / "00000.parquet", row_group_size=3)
    convert_to_arrow(root / "parquet" / "00000.parquet", root / "arrow" / "from_parquet.arrow", ("tiny",), 4)
    convert_to_arrow(root / "samples" / "00000.jsonl", root / "arrow_paths" / "from_jsonl.arrow", ("tiny",), 4)
    return root, {record["id"]: record for record in records}


LAYOUTS = ["samples", "parquet", "arrow/from_parquet.arrow", "arrow_paths/from_jsonl.arrow"]


@pytest.mark.parametrize("layout", LAYOUTS)
def test_text_regime_gives_every_sample_once_per_epoch(samples, layout):
    root, records = samples
    dataset = FineWikiDataset(root / layout, "text", batch_size=4, seed=1, lines_per_group=3)
    for _epoch in range(2):
        seen = []
        for batch in dataset:
            context, continuation = np.asarray(batch["context_tokens"]), np.asarray(batch["continuation_tokens"])
            assert context.shape == (len(batch["ids"]), CONTEXT) and continuation.shape[1] == CONTINUATION
            assert np.asarray(batch["context_mask"]).all() and "images" not in batch
            for row, sample in enumerate(batch["ids"]):
                assert context[row].tolist() == records[sample]["context_tokens"]
                assert continuation[row].tolist() == records[sample]["continuation_tokens"]
            seen += batch["ids"]
        assert Counter(seen) == Counter(list(records))


@pytest.mark.parametrize("layout", LAYOUTS)
def test_vision_regime_gives_the_rendered_page(samples, layout):
    from PIL import Image

    root, records = samples
    dataset = FineWikiDataset(root / layout, "vision", "tiny", batch_size=5, seed=2)
    seen = []
    for batch in dataset:
        images = np.asarray(batch["images"])
        assert images.dtype == np.uint8 and images.shape == (len(batch["ids"]), 512, 512)
        assert "context_tokens" not in batch
        for row, sample in enumerate(batch["ids"]):
            png = (root / records[sample]["images"]["tiny"]).read_bytes()
            assert (images[row] == np.asarray(Image.open(io.BytesIO(png)).convert("L"))).all()
            assert np.asarray(batch["continuation_tokens"])[row].tolist() == records[sample]["continuation_tokens"]
        seen += batch["ids"]
    assert Counter(seen) == Counter(list(records))
    assert images.min() < 128 < images.max()  # text on a page, not a blank


def test_ranks_split_the_samples_and_resume_exactly(samples):
    root, records = samples
    ranks = [FineWikiDataset(root / "samples", batch_size=3, lines_per_group=2, rank=r, world_size=2) for r in (0, 1)]
    assert Counter(sample for dataset in ranks for batch in dataset for sample in batch["ids"]) == Counter(
        list(records)
    )

    def run(dataset, steps):
        out = []
        while len(out) < steps:
            out += [batch["ids"] for batch in dataset][: steps - len(out)]
        return out

    reference = run(FineWikiDataset(root / "parquet", batch_size=3, seed=7), 12)
    first = FineWikiDataset(root / "parquet", batch_size=3, seed=7)
    head = [batch["ids"] for _, batch in zip(range(5), first)]
    resumed = FineWikiDataset(root / "parquet", batch_size=3, seed=7)
    resumed.load_state_dict(json.loads(json.dumps(first.state_dict())))
    assert head + run(resumed, 7) == reference


def test_resume_refuses_other_samples_with_the_same_row_counts(samples, tmp_path):
    root, _ = samples
    lines = (root / "samples" / "00000.jsonl").read_text().splitlines(keepends=True)
    data = tmp_path / "train.jsonl"
    data.write_text("".join(lines[:6]))
    saved = FineWikiDataset(data, batch_size=2, lines_per_group=3)
    next(iter(saved))
    state = json.loads(json.dumps(saved.state_dict()))
    data.write_text("".join(lines[6:12]))  # the splits made again with another seed: other samples, same counts
    with pytest.raises(ValueError, match="cannot resume: files saved"):
        FineWikiDataset(data, batch_size=2, lines_per_group=3).load_state_dict(state)


def test_errors_say_what_is_missing(samples, tmp_path):
    root, _ = samples
    with pytest.raises(ValueError, match="the vision regime needs mode="):
        FineWikiDataset(root / "parquet", "vision", batch_size=2)
    with pytest.raises(FileNotFoundError, match="no \\*.jsonl, \\*.parquet or \\*.arrow samples"):
        FineWikiDataset(tmp_path, batch_size=2)
    with pytest.raises(ValueError, match="batch_size must be >= 1, got 0"):
        FineWikiDataset(root / "parquet", batch_size=0)
    shrinking = tmp_path / "shrinking.jsonl"
    shrinking.write_bytes((root / "samples" / "00000.jsonl").read_bytes())
    dataset = iter(FineWikiDataset(shrinking, batch_size=2, shuffle=False, lines_per_group=4, window_groups=1))
    next(dataset)
    shrinking.write_text("".join(shrinking.read_text().splitlines(keepends=True)[:5]))  # splits re-run meanwhile
    with pytest.raises(
        ValueError,
        match=r"shrinking.jsonl: ends within the group of 4 samples from line \d+ \(found \d\): the file is shorter",
    ):
        list(dataset)
    broken = tmp_path / "broken.jsonl"
    broken.write_text((root / "samples" / "00000.jsonl").read_text().splitlines()[0] + "\n{not json\n")
    with pytest.raises(ValueError, match="broken.jsonl:2: not a sample record"):
        list(FineWikiDataset(broken, batch_size=2, shuffle=False))
