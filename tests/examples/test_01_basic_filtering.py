"""Tutorial 01 runs on the shipped real text, loses no document, and prints the numbers its spec quotes."""

import json
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SPEC = REPO / "spec" / "01_basic_filtering.md"


def read_docs(folder: Path) -> dict[str, dict]:
    return {
        row["id"]: row
        for path in sorted(folder.glob("*.jsonl"))
        for row in map(json.loads, path.read_text(encoding="utf-8").splitlines())
    }


def summary_counts(stdout: str) -> dict[str, int]:
    match = re.search(r"read: (\d+), kept: (\d+), excluded: (\d+)", stdout)
    assert match, stdout
    return dict(zip(("read", "kept", "excluded"), map(int, match.groups())))


def test_basic_filtering_keeps_long_documents_and_accounts_for_every_one(script, tmp_path):
    done = script("examples_local/01_basic_filtering.py", "--output", tmp_path, "--tasks", "4", "--workers", "2")
    assert done.returncode == 0, done.stderr[-3000:]
    counts = summary_counts(done.stdout)
    source = read_docs(REPO / "examples_local" / "data" / "real_text")
    kept, excluded = read_docs(tmp_path / "kept"), read_docs(tmp_path / "excluded")
    assert counts == {"read": len(source), "kept": len(kept), "excluded": len(excluded)}
    assert kept.keys() | excluded.keys() == source.keys() and not kept.keys() & excluded.keys()
    assert all(len(doc["text"].split()) >= 50 for doc in kept.values())
    assert all(len(doc["text"].split()) < 50 for doc in excluded.values())
    assert {doc["metadata"]["filter_reason"] for doc in excluded.values()} == {"fewer_than_50_words"}
    assert all(kept[i]["text"] == source[i]["text"] for i in kept)


def test_spec_quotes_what_the_example_prints(script, tmp_path):
    done = script("examples_local/01_basic_filtering.py", "--output", tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    printed = summary_counts(done.stdout)
    quoted = summary_counts(SPEC.read_text())
    assert quoted == printed
    stricter = script("examples_local/01_basic_filtering.py", "--output", tmp_path, "--min-words", "100")
    quoted_100 = re.search(r"--min-words 100.*?read: (\d+), kept: (\d+), excluded: (\d+)", SPEC.read_text(), re.S)
    assert quoted_100 and summary_counts(stricter.stdout) == dict(
        zip(("read", "kept", "excluded"), map(int, quoted_100.groups()))
    )
    assert "settings changed" in stricter.stderr  # the re-run with another threshold started afresh


def test_help_shows_defaults(script):
    done = script("examples_local/01_basic_filtering.py", "--help")
    assert done.returncode == 0
    text = " ".join(done.stdout.split())  # argparse wraps lines at the terminal width
    assert "--min-words MIN_WORDS keep documents with at least this many words (default: 50)" in text
    assert "(default: local)" in text and "(default: {output}/logs)" in text
