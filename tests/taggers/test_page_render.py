"""PageRenderer (trove_blocks.taggers.page_render) on real text: one PNG page per mode in ``doc.media`` with its
layout in the metadata; text too long for a page flagged or excluded (``overflow_<mode>``), text the font cannot
show (a real Japanese page title) excluded or flagged (``missing_glyphs``); documents = rendered + excluded."""

from __future__ import annotations

import html
import io
import json
import re
from pathlib import Path

import pytest
from datatrove.data import Document, MediaType
from PIL import Image

from trove_blocks.finewiki.records import excluded_record
from trove_blocks.render import MODES
from trove_blocks.taggers.page_render import PageRenderer
from trove_blocks.writers.atomic_jsonl import AtomicJsonlWriter

REPO = Path(__file__).resolve().parents[2]
WIKI = (REPO / "tests" / "data" / "wiki" / "wikitext2_test_first3articles.txt").read_text(encoding="utf-8")
TOFUGU = REPO / "examples_local" / "data" / "third_party" / "html" / "tofugu.com.dezuka-suisan.html"


def page_description() -> str:
    """The real page's description: English text with the shop's Japanese name, which DejaVu Sans Mono lacks."""
    found = re.search(r"<meta content='([^']*)' name='description'>", TOFUGU.read_text(encoding="utf-8"))
    return html.unescape(found.group(1))


def short() -> Document:
    return Document(text=WIKI[:1200], id="enwiki/1", metadata={"title": "Robert Boulter"})


def too_long() -> Document:
    return Document(text=WIKI[:20000], id="enwiki/2", metadata={})


def excluded_lines(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "00000.jsonl").read_text().splitlines()]


def test_each_mode_gives_one_page_with_its_layout_and_the_text_is_untouched():
    modes = ("tiny", "small")
    step = PageRenderer(modes)
    (doc,) = step.run(iter([short()]))
    assert doc.text == WIKI[:1200]
    assert [m.metadata["mode"] for m in doc.media] == list(modes)
    assert [m.id for m in doc.media] == ["enwiki/1/tiny", "enwiki/1/small"]
    for media in doc.media:
        mode = media.metadata["mode"]
        render = doc.metadata["render"][mode]
        image = Image.open(io.BytesIO(media.media_bytes))
        assert media.type == MediaType.IMAGE and image.format == "PNG"
        assert image.size == (MODES[mode], MODES[mode])
        assert render["png_bytes"] == len(media.media_bytes) == media.length
        assert render["overflow"] is False and render["lines"] == render["total_lines"] > 1
    assert doc.metadata["render"]["small"]["font_size"] >= doc.metadata["render"]["tiny"]["font_size"]
    assert step.stats["documents"].total == step.stats["rendered"].total == 1
    assert "missing_glyphs" not in doc.metadata


def test_pages_are_identical_run_after_run():
    first = next(PageRenderer(("tiny",)).run(iter([short()])))
    again = next(PageRenderer(("tiny",)).run(iter([short()])))
    assert first.media[0].media_bytes == again.media[0].media_bytes


def test_overflow_is_flagged_with_the_lines_that_fit_by_default():
    step = PageRenderer(("tiny",))
    (doc,) = step.run(iter([too_long()]))
    render = doc.metadata["render"]["tiny"]
    assert render["overflow"] is True and 0 < render["lines"] < render["total_lines"]
    assert step.stats["overflow_tiny"].total == 1 and step.stats["rendered"].total == 1


def test_overflow_excluded_goes_to_the_exclusion_writer_with_its_mode(tmp_path):
    writer = AtomicJsonlWriter(str(tmp_path / "excluded"), adapter=excluded_record)
    step = PageRenderer(("tiny",), on_overflow="exclude", exclusion_writer=writer)
    kept = list(step.run(iter([short(), too_long()])))
    assert [doc.id for doc in kept] == ["enwiki/1"]
    assert [(r["id"], r["metadata"]["filter_reason"]) for r in excluded_lines(tmp_path / "excluded")] == [
        ("enwiki/2", "overflow_tiny")
    ]
    documents, rendered, excluded = (step.stats[k].total for k in ("documents", "rendered", "excluded"))
    assert documents == 2 == rendered + excluded and step.stats["excluded_overflow_tiny"].total == 1


def test_text_without_glyphs_is_excluded_before_rendering_by_default(tmp_path):
    text = page_description()
    doc = Document(text=text, id="tofugu/1", metadata={})
    writer = AtomicJsonlWriter(str(tmp_path / "excluded"), adapter=excluded_record)
    step = PageRenderer(("tiny",), exclusion_writer=writer)
    kept = list(step.run(iter([short(), doc])))
    assert [d.id for d in kept] == ["enwiki/1"]
    (line,) = excluded_lines(tmp_path / "excluded")
    assert line["id"] == "tofugu/1" and line["metadata"]["filter_reason"] == "missing_glyphs"
    assert line["metadata"]["missing_glyphs"] == "".join(sorted(set("出塚水産"))) and "Dezuka Suisan" in text
    assert doc.media == [] and "render" not in doc.metadata
    assert step.stats["missing_glyphs"].total == step.stats["excluded_missing_glyphs"].total == 1


def test_text_without_glyphs_is_rendered_and_marked_when_flagged():
    step = PageRenderer(("tiny",), on_missing_glyphs="flag")
    (doc,) = step.run(iter([Document(text=page_description(), id="tofugu/1", metadata={})]))
    assert doc.metadata["missing_glyphs"] == "".join(sorted(set("出塚水産")))
    assert len(doc.media) == 1 and doc.metadata["render"]["tiny"]["png_bytes"] > 0
    assert step.stats["missing_glyphs"].total == 1 and step.stats["rendered"].total == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"modes": ("huge",)}, "modes must be a non-empty subset"),
        ({"modes": ()}, "modes must be a non-empty subset"),
        ({"on_overflow": "truncate"}, "on_overflow must be one of"),
        ({"on_missing_glyphs": "ignore"}, "on_missing_glyphs must be one of"),
    ],
)
def test_settings_are_checked(kwargs, message):
    with pytest.raises(ValueError, match=message):
        PageRenderer(**kwargs)
