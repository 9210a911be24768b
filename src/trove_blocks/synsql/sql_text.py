"""SQL whitespace normalisation that never touches string literals, quoted identifiers or comments' meaning.

SynSQL's SQL is pretty-printed over many lines; the processed format wants it on one line. Runs of whitespace
become one space, except inside ``'string literals'``, ``"quoted"``, `` `quoted` `` and ``[quoted]``
identifiers (kept byte for byte), and a ``-- line comment`` keeps the newline that ends it (joining the next
line onto it would comment that line out).

Only the protected spans (quotes, comments) are matched by a regex; the text between them is collapsed by
``str.split`` in C. Most queries have a literal or two, so this is a few regex matches per query, not one per
token (the per-token version cost ~120 µs per SynSQL query, more than parsing the record).
"""

from __future__ import annotations

import re

_PROTECTED = re.compile(
    r"""'(?:[^']|'')*(?:'|$) | "(?:[^"]|"")*(?:"|$) | `[^`]*(?:`|$) | \[[^\]]*(?:\]|$)
    | (?P<line_comment>--[^\n]*)
    | /\*.*?(?:\*/|$)""",
    re.VERBOSE | re.DOTALL,
)
_NEEDS_CARE = re.compile(r"""['"`\[]|--|/\*""")


def normalize_sql(sql: str) -> str:
    """``sql`` on as few lines as possible: whitespace runs outside quotes become one space, ends stripped."""
    if not _NEEDS_CARE.search(sql):
        return " ".join(sql.split())
    parts: list[str] = []
    position = 0
    for match in _PROTECTED.finditer(sql):
        _add_plain(parts, sql[position : match.start()])
        if match.lastgroup == "line_comment":
            parts.append(match.group().rstrip() + "\n")
        else:
            parts.append(match.group())
        position = match.end()
    _add_plain(parts, sql[position:])
    return "".join(parts).strip()


def _add_plain(parts: list[str], text: str) -> None:
    """Append unprotected ``text`` with whitespace runs as single spaces (none right after a comment's newline)."""
    if not text:
        return
    words = text.split()
    after_newline = not parts or parts[-1].endswith("\n")
    if text[0].isspace() and not after_newline:
        parts.append(" ")
    parts.append(" ".join(words))
    if words and text[-1].isspace():
        parts.append(" ")
