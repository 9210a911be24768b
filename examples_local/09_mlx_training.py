"""Tutorial 09: a short MLX training run of a tiny transformer language model fed by the packed-data loader.

Step 1 tokenizes and packs the real text in examples_local/data/real_text/ with the pipeline
``pipelines/preprocess_to_parquet.py`` (cl100k_base, 256-token rows, a manifest.json), unless its manifest is
already there. Step 2 trains a 2-layer transformer on batches from :class:`trove_blocks.loaders.packed.PackedDataset`:
``input_ids``, ``labels`` (already shifted, -100 = ignore) and ``segment_ids`` (attention stays inside each
packed document). The loss must go down; it is printed every ``--log-every`` steps.

cl100k has ~100k token ids; the output layer of a 100k vocabulary would be most of the compute (MLX's CPU matmul
is slow). The model's vocabulary is the ``--vocab-size - 1`` most frequent ids of the training rows (counted with
one pass of the loader) plus one bucket for all other ids; a lookup table maps cl100k ids to it on the MLX side.

    python examples_local/09_mlx_training.py
    python examples_local/09_mlx_training.py --steps 300 --dim 128
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_INPUT = REPO / "examples_local" / "data" / "real_text"
DEFAULT_OUTPUT = REPO / "examples_local" / "output" / "09_mlx_training"
IGNORE_INDEX = -100


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--input", type=Path, default=DEFAULT_INPUT, help="folder of JSONL files ({text, ...})")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="packed/ (shards + manifest) goes here")
    parser.add_argument("--max-seq-length", type=int, default=256, help="tokens per packed row")
    parser.add_argument("--steps", type=int, default=60, help="training steps")
    parser.add_argument("--batch-size", type=int, default=4, help="rows per batch")
    parser.add_argument(
        "--vocab-size", type=int, default=512, help="model vocabulary: the most frequent ids + one for all others"
    )
    parser.add_argument("--dim", type=int, default=64, help="model width")
    parser.add_argument("--layers", type=int, default=2, help="transformer blocks")
    parser.add_argument("--heads", type=int, default=4, help="attention heads")
    parser.add_argument("--learning-rate", type=float, default=3e-3, help="AdamW learning rate")
    parser.add_argument("--seed", type=int, default=0, help="seed of the data order and of the model's init")
    parser.add_argument("--log-every", type=int, default=10, help="print the mean loss of every N steps")
    return parser


def pack(args: argparse.Namespace) -> Path:
    """Run the preprocess pipeline on ``--input`` (skipped when its manifest for these settings exists)."""
    packed = args.output / "packed"
    spec = importlib.util.spec_from_file_location(
        "preprocess_to_parquet", REPO / "pipelines" / "preprocess_to_parquet.py"
    )
    pipeline = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(pipeline)
    argv = ["--input", str(args.input), "--output", str(packed), "--tokenizer", "cl100k_base"]
    argv += ["--max-seq-length", str(args.max_seq_length), "--skip-existing"]
    if pipeline.main(argv) != 0:
        raise SystemExit(f"packing {args.input} failed (see the pipeline's output above)")
    return packed / "manifest.json"


def build_model(vocab_size: int, args: argparse.Namespace):
    import mlx.core as mx
    import mlx.nn as nn

    class Block(nn.Module):
        def __init__(self, dim: int, heads: int):
            super().__init__()
            self.norm1, self.norm2 = nn.RMSNorm(dim), nn.RMSNorm(dim)
            self.qkv, self.out = nn.Linear(dim, 3 * dim, bias=False), nn.Linear(dim, dim, bias=False)
            self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))
            self.heads = heads
            self.rope = nn.RoPE(dim // heads)

        def __call__(self, x, mask):
            batch, length, dim = x.shape
            q, k, v = mx.split(self.qkv(self.norm1(x)), 3, axis=-1)
            q, k, v = (t.reshape(batch, length, self.heads, -1).transpose(0, 2, 1, 3) for t in (q, k, v))
            q, k = self.rope(q), self.rope(k)
            scale = 1 / math.sqrt(dim // self.heads)
            attended = mx.fast.scaled_dot_product_attention(q, k, v, scale=scale, mask=mask)
            x = x + self.out(attended.transpose(0, 2, 1, 3).reshape(batch, length, dim))
            return x + self.mlp(self.norm2(x))

    class TinyLM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(vocab_size, args.dim)
            self.blocks = [Block(args.dim, args.heads) for _ in range(args.layers)]
            self.norm = nn.RMSNorm(args.dim)
            self.head = nn.Linear(args.dim, vocab_size, bias=False)

        def __call__(self, ids, segment_ids):
            length = ids.shape[1]
            causal = mx.tril(mx.ones((length, length), dtype=mx.bool_))
            same_document = segment_ids[:, :, None] == segment_ids[:, None, :]
            # padding (segment 0) attends to itself only, so no row of the mask is empty
            allowed = (causal & same_document) | mx.eye(length, dtype=mx.bool_)
            mask = mx.where(allowed, 0.0, -1e9)[:, None, :, :]
            x = self.embed(ids)
            for block in self.blocks:
                x = block(x, mask)
            return self.head(self.norm(x))

    return TinyLM()


def main(argv: list[str] | None = None) -> int:
    import mlx.core as mx
    import mlx.nn as nn
    import mlx.optimizers as optim

    from trove_blocks.loaders.packed import PackedDataset

    parser = build_parser()
    args = parser.parse_args(argv)
    for flag in ("steps", "batch_size", "dim", "layers", "heads", "log_every"):
        if getattr(args, flag) < 1:
            parser.error(f"--{flag.replace('_', '-')} must be >= 1, got {getattr(args, flag)}")
    if args.vocab_size < 2:
        parser.error(f"--vocab-size must be >= 2 (one id for all rarer tokens), got {args.vocab_size}")
    if args.dim % args.heads:
        parser.error(f"--dim {args.dim} must be a multiple of --heads {args.heads} (each head gets dim / heads)")
    started = time.monotonic()
    manifest = pack(args)
    dataset = PackedDataset(manifest, batch_size=args.batch_size, seed=args.seed, drop_last=True)
    if len(dataset) == 0:
        parser.error(
            f"--batch-size {args.batch_size}: the packed data has {dataset.stream.total_rows} rows, not one full batch"
        )

    # the compact vocabulary: the most frequent ids of one epoch of the loader (then a fresh loader trains)
    ids, counts = np.unique(np.concatenate([np.asarray(b["input_ids"]).ravel() for b in dataset]), return_counts=True)
    frequent = ids[np.argsort(-counts, kind="stable")[: args.vocab_size - 1]]
    table = np.full(int(ids.max()) + 1, len(frequent), dtype=np.int32)  # the last id: every rarer token
    table[frequent] = np.arange(len(frequent), dtype=np.int32)
    to_compact = mx.array(table)
    covered = counts[np.isin(ids, frequent)].sum() / counts.sum()
    dataset = PackedDataset(manifest, batch_size=args.batch_size, seed=args.seed, drop_last=True)
    print(
        f"data: {dataset.stream.total_rows} rows of {dataset.max_seq_length} tokens in {len(dataset.splits)} splits, "
        f"{len(dataset)} batches of {args.batch_size} per epoch; {len(ids)} distinct ids, the {len(frequent)} most "
        f"frequent cover {covered:.0%} of the tokens"
    )

    mx.random.seed(args.seed)
    model = build_model(len(frequent) + 1, args)
    optimizer = optim.AdamW(learning_rate=args.learning_rate)

    def loss_fn(model, ids, labels, segment_ids):
        logits = model(ids, segment_ids)
        keep = labels != IGNORE_INDEX
        targets = mx.where(keep, to_compact[mx.maximum(labels, 0)], 0)
        losses = nn.losses.cross_entropy(logits, targets) * keep
        return losses.sum() / keep.sum()

    step_fn = nn.value_and_grad(model, loss_fn)
    losses = []
    batches = dataset.batches()
    train_started = time.monotonic()
    for step in range(1, args.steps + 1):
        batch = next(batches)
        loss, grads = step_fn(model, to_compact[batch["input_ids"]], batch["labels"], batch["segment_ids"])
        optimizer.update(model, grads)
        mx.eval(model.parameters(), optimizer.state, loss)
        losses.append(loss.item())
        if step % args.log_every == 0 or step == args.steps:
            window = losses[-args.log_every :]
            print(f"step {step:4d}  epoch {dataset.epoch}  loss {sum(window) / len(window):.3f}", flush=True)
    elapsed = time.monotonic() - train_started
    window = min(args.log_every, args.steps // 2)  # the first and last windows never share a step
    head, tail = losses[:window], losses[len(losses) - window :]
    first, last = (sum(head) / window, sum(tail) / window) if window else (losses[0], losses[-1])
    print(
        f"== training: {args.steps} steps in {elapsed:.1f} s ({args.steps / elapsed:.1f} steps/s); "
        f"loss {first:.3f} -> {last:.3f} (first and last {window} steps); "
        f"total {time.monotonic() - started:.1f} s\n   packed data: {manifest}\n"
        f"   loader state: epoch {dataset.state_dict()['epoch']}, position {dataset.state_dict()['position']}"
    )
    if window and not last < first:
        print("loss did not go down")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
