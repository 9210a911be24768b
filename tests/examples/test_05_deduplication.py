import json

SCRIPT = "examples_local/05_deduplication.py"


def test_05_removes_the_real_exact_duplicates_and_matches_the_spec(script, tmp_path, spec_summary, printed_summary):
    done = script(SCRIPT, "--output", tmp_path, "--logging-dir", tmp_path / "logs")
    summary = printed_summary(done)
    assert summary == spec_summary("05_deduplication")
    assert summary["documents_in"] == summary["kept"] + summary["duplicates_removed"]
    kept = [
        json.loads(line) for f in sorted((tmp_path / "kept").glob("*.jsonl")) for line in f.read_text().splitlines()
    ]
    normalised = [" ".join(doc["text"].lower().split()) for doc in kept]
    assert len(set(normalised)) == len(normalised)  # no exact duplicate is left
    removed = [json.loads(line) for f in (tmp_path / "excluded").glob("*.jsonl") for line in f.read_text().splitlines()]
    assert {" ".join(doc["text"].lower().split()) for doc in removed} <= set(normalised)  # a copy of each was kept
