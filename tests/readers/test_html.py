import shutil
from pathlib import Path

from trove_blocks.readers.html import HtmlFileReader

PAGES = Path(__file__).resolve().parents[2] / "examples_local" / "data" / "third_party" / "html"


def test_reads_each_page_as_one_document_with_its_url(tmp_path):
    shutil.copy(PAGES / "anarc.at.cdpath.html", tmp_path)
    shutil.copy(PAGES / "fouryears.eu.interning.html", tmp_path)
    reader = HtmlFileReader(str(tmp_path), urls={"anarc.at.cdpath.html": "https://anarc.at/x"})
    docs = list(reader.run())
    assert [doc.id for doc in docs] == ["anarc.at.cdpath.html", "fouryears.eu.interning.html"]
    assert docs[0].text == (PAGES / "anarc.at.cdpath.html").read_text()
    assert docs[0].metadata["url"] == "https://anarc.at/x" and "url" not in docs[1].metadata


def test_undecodable_page_is_skipped_and_counted(tmp_path):
    (tmp_path / "bad.html").write_bytes(b"<html>caf\xe9</html>")
    (tmp_path / "good.html").write_text("<html>ok</html>")
    reader = HtmlFileReader(str(tmp_path))
    assert [doc.id for doc in reader.run()] == ["good.html"]
    assert reader.stats.stats["undecodable_files"].total == 1


def test_shards_files_over_ranks(tmp_path):
    for name in ("a", "b", "c"):
        (tmp_path / f"{name}.html").write_text(f"<p>{name}</p>")
    ranks = [[doc.id for doc in HtmlFileReader(str(tmp_path)).run(rank=r, world_size=2)] for r in (0, 1)]
    assert ranks == [["a.html", "c.html"], ["b.html"]]
