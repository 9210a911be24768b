"""Tutorial 09 packs the real text with the preprocess pipeline and trains a tiny MLX model whose loss goes down."""

import json
import re


def test_training_on_packed_real_text_lowers_the_loss(script, tmp_path):
    done = script("examples_local/09_mlx_training.py", "--output", tmp_path, "--steps", "30", "--log-every", "5")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    losses = [float(value) for value in re.findall(r"^step +\d+ +epoch \d+ +loss ([\d.]+)$", done.stdout, re.M)]
    assert len(losses) == 6
    assert losses[-1] < losses[0] - 0.3, losses
    manifest = json.loads((tmp_path / "packed" / "manifest.json").read_text())
    rows = sum(split["sequences"] for split in manifest["splits"].values())
    assert manifest["max_seq_length"] == 256 and f"data: {rows} rows of 256 tokens" in done.stdout
    assert re.search(r"loss [\d.]+ -> [\d.]+", done.stdout)


def test_help_shows_defaults(script):
    done = script("examples_local/09_mlx_training.py", "--help")
    assert done.returncode == 0
    text = " ".join(done.stdout.split())
    assert "--max-seq-length MAX_SEQ_LENGTH tokens per packed row (default: 256)" in text


def test_bad_flags_are_named_before_training(script, tmp_path):
    for flags, message in (
        (("--steps", "0"), "--steps must be >= 1, got 0"),
        (("--heads", "3"), "--dim 64 must be a multiple of --heads 3"),
        (("--batch-size", "1000"), "--batch-size 1000: the packed data has"),
    ):
        done = script("examples_local/09_mlx_training.py", "--output", tmp_path, *flags)
        assert done.returncode == 2 and message in done.stderr, done.stderr[-2000:]
