"""SQL whitespace normalisation that never touches string literals, quoted identifiers or comments' meaning.

SynSQL's SQL is pretty-printed over many lines; the processed format wants it on one line. Runs of whitespace
become one space, except inside ``'string literals'``, ``"quoted"``, `` `quoted` `` and ``[quoted]``
identifiers (kept byte for byte), and a ``-- line comment`` keeps the newline that ends it (joining the next
line onto it would comment that line out).
"""

from __future__ import annotations

import re

_TOKEN = re.compile(
    r"""
    (?P<quoted>'(?:[^']|'')*(?:'|$) | "(?:[^"]|"")*(?:"|$) | `[^`]*(?:`|$) | \[[^\]]*(?:\]|$))
    | (?P<line_comment>--[^\n]*)
    | (?P<block_comment>/\*.*?(?:\*/|$))
    | (?P<space>\s+)
    | (?P<other>[^'"`\[\s/-]+|.)
    """,
    re.VERBOSE | re.DOTALL,
)


def normalize_sql(sql: str) -> str:
    """``sql`` on as few lines as possible: whitespace runs outside quotes become one space, ends stripped."""
    parts: list[str] = []
    for match in _TOKEN.finditer(sql):
        kind = match.lastgroup
        if kind == "space":
            if parts and not parts[-1].endswith("\n"):
                parts.append(" ")
        elif kind == "line_comment":
            parts.append(match.group().rstrip() + "\n")
        else:
            parts.append(match.group())
    return "".join(parts).strip()
