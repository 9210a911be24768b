import json

SCRIPT = "examples_local/02_extraction_filtering.py"


def test_02_runs_on_real_pages_and_matches_the_spec(script, tmp_path, spec_summary, printed_summary):
    done = script(SCRIPT, "--output", tmp_path, "--logging-dir", tmp_path / "logs")
    summary = printed_summary(done)
    assert summary == spec_summary("02_extraction_filtering")
    # every page is accounted for: kept + each filter's exclusions = extracted pages
    excluded = {
        name: sum(1 for f in (tmp_path / "excluded" / name).glob("*.jsonl") for _ in f.read_text().splitlines())
        for name in ("language", "gopher_quality", "c4_quality", "fineweb_quality")
    }
    assert summary["kept"] + sum(excluded.values()) == summary["extracted"]
    assert excluded["gopher_quality"] == summary["gopher_dropped"]
    reasons = [
        json.loads(line)["metadata"]["filter_reason"]
        for f in (tmp_path / "excluded" / "gopher_quality").glob("*.jsonl")
        for line in f.read_text().splitlines()
    ]
    assert reasons and all(reason.startswith("gopher_") for reason in reasons)
    assert float(summary["recall"]) >= 0.8 and float(summary["precision"]) >= 0.9


def test_02_help_shows_defaults(script):
    done = script(SCRIPT, "--help")
    assert done.returncode == 0 and "--min-doc-words" in done.stdout and "(default: 50)" in done.stdout
