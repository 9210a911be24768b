SCRIPT = "examples_local/03_tokenization.py"


def test_03_tokenizes_real_text_and_matches_the_spec(script, tmp_path, spec_summary, printed_summary):
    done = script(SCRIPT, "--output", tmp_path, "--logging-dir", tmp_path / "logs")
    summary = printed_summary(done)
    assert summary == spec_summary("03_tokenization")
    assert summary["tokens_written"] == summary["tokens_counted"]
    assert summary["documents_written"] == summary["documents"] == 230
    assert summary["first_document_roundtrip"] is True
    assert (tmp_path / "tokens" / "00000_unshuffled.ds").stat().st_size == 4 * summary["tokens_written"]


def test_03_rejects_an_empty_input(script, tmp_path):
    done = script(SCRIPT, "--input", tmp_path, "--output", tmp_path / "out")
    assert done.returncode == 2 and "no *.jsonl files" in done.stderr
