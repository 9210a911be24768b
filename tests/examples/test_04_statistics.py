from PIL import Image

SCRIPT = "examples_local/04_statistics.py"


def test_04_merges_stats_draws_a_report_and_matches_the_spec(script, tmp_path, spec_summary, printed_summary):
    done = script(SCRIPT, "--output", tmp_path, "--logging-dir", tmp_path / "logs", "--tasks", "2")
    summary = printed_summary(done)
    assert summary == spec_summary("04_statistics")  # the merged numbers do not depend on the task count
    assert (tmp_path / "merged" / "summary" / "n_words" / "metric.json").is_file()
    with Image.open(tmp_path / "report.png") as picture:
        assert picture.format == "PNG" and picture.width >= 800
        assert len(set(picture.convert("RGB").getdata())) > 3  # bars, axes and text were drawn
