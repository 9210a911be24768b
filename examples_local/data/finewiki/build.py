"""Build finewiki_sample.parquet: a small FineWiki-shaped file (FineWiki's 14 columns) from real Wikipedia text.

Sources (tests/data/wiki, see its README): the 3 WikiText-2 test articles, turned into FineWiki's Markdown
(" = Title = " -> "# Title", " = = Section = = " -> "## Section"), and one real FineWiki row. Run from the repo root:

    python examples_local/data/finewiki/build.py
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parents[3]
SOURCE = REPO / "tests" / "data" / "wiki"
TARGET = Path(__file__).resolve().parent / "finewiki_sample.parquet"

#: FineWiki's columns, in its order (../shared/data/real/SOURCES.md)
SCHEMA = pa.schema(
    [
        ("text", pa.string()),
        ("id", pa.string()),
        ("wikiname", pa.string()),
        ("page_id", pa.int64()),
        ("title", pa.string()),
        ("url", pa.string()),
        ("date_modified", pa.string()),
        ("in_language", pa.string()),
        ("wikidata_id", pa.string()),
        ("bytes_html", pa.int64()),
        ("has_math", pa.bool_()),
        ("wikitext", pa.string()),
        ("version", pa.int64()),
        ("infoboxes", pa.string()),
    ]
)

_HEADING = re.compile(r"^ (=(?: =)*) (.*?) \1 $")


def wikitext_articles(path: Path) -> list[tuple[str, str]]:
    """``(title, markdown)`` per article of a WikiText file."""
    articles: list[tuple[str, list[str]]] = []
    for line in path.read_text(encoding="utf-8").split("\n"):
        match = _HEADING.match(line)
        if match:
            depth = match.group(1).count("=")
            if depth == 1:
                articles.append((match.group(2), [f"# {match.group(2)}"]))
            else:
                articles[-1][1].append(f"\n{'#' * depth} {match.group(2)}")
        elif line.strip() and articles:
            articles[-1][1].append(line.strip())
    return [(title, "\n".join(lines) + "\n") for title, lines in articles]


def row(text: str, page_id: int, title: str, version: int = 0) -> dict:
    return {
        "text": text,
        "id": f"enwiki/{page_id}",
        "wikiname": "enwiki",
        "page_id": page_id,
        "title": title,
        "url": "https://en.wikipedia.org/wiki/" + title.replace(" ", "_"),
        "date_modified": None,
        "in_language": "en",
        "wikidata_id": None,
        "bytes_html": len(text.encode("utf-8")),
        "has_math": False,
        "wikitext": None,
        "version": version,
        "infoboxes": "[]",
    }


def build() -> pa.Table:
    rows = []
    # WikiText-2 has no page ids: 9000000xx are placeholders, outside enwiki's range of real ids
    for number, (title, text) in enumerate(wikitext_articles(SOURCE / "wikitext2_test_first3articles.txt"), 1):
        rows.append(row(text, 900000000 + number, title))
    real = json.loads((SOURCE / "finewiki_derived_ucrel_bill_gutteron.jsonl").read_text(encoding="utf-8"))
    rows.append(
        row(f"# {real['title']}\n" + real["text"].split("\n", 2)[-1], real["page_id"], real["title"], real["version"])
    )
    return pa.Table.from_pylist(rows, schema=SCHEMA)


if __name__ == "__main__":
    pq.write_table(build(), TARGET)
    print(f"wrote {TARGET}")
