import json

import pytest
from PIL import Image

from trove_blocks.report import Histogram, read_histogram, read_summary, render_histograms


def write_metric(root, group, stat, data):
    path = root / group / stat / "metric.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(data))


def test_reads_stats_merger_histograms_and_summaries(tmp_path):
    write_metric(tmp_path, "histogram", "n_words", {"3": {"total": 2, "unit": "task"}, "10": {"total": 1}})
    write_metric(tmp_path, "summary", "n_words", {"summary": {"n": 3, "mean": 5.33, "min": 3, "max": 10}})
    hist = read_histogram(tmp_path, "n_words")
    assert hist.counts == {3.0: 2, 10.0: 1} and hist.documents == 3
    assert hist.mean == pytest.approx(16 / 3) and hist.quantile(0.5) == 3.0 and hist.quantile(1.0) == 10.0
    assert read_summary(tmp_path, "n_words")["n"] == 3


def test_bad_histogram_names_file_and_entry(tmp_path):
    write_metric(tmp_path, "histogram", "x", {"1": 5})
    with pytest.raises(ValueError, match=r"metric.json: entry '1'"):
        read_histogram(tmp_path, "x")
    with pytest.raises(FileNotFoundError, match="did StatsMerger run"):
        read_histogram(tmp_path, "missing")


def test_bins_cover_all_documents_linear_and_log():
    hist = Histogram("length", {1.0: 4, 10.0: 2, 1000.0: 1})
    edges, counts = hist.bins(3)
    assert sum(counts) == 7 and counts[0] == 6 and counts[-1] == 1 and edges[0] == 1.0
    edges, counts = hist.bins(3, log=True)
    assert counts == [4, 2, 1] and edges[-1] == pytest.approx(1000.0)


def test_renders_a_png_with_one_panel_per_histogram(tmp_path):
    hists = [Histogram("a", {1.0: 3, 2.0: 1}), Histogram("b", {0.5: 2}), Histogram("c", {})]
    path = render_histograms(hists, tmp_path / "r.png", title="t", columns=2, log_scale=frozenset({"a"}))
    with Image.open(path) as image:
        assert image.size == (960, 40 + 2 * 300)
    assert [p.name for p in tmp_path.iterdir()] == ["r.png"]  # written atomically, no temp file left
