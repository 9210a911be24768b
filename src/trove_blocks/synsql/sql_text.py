"""SQL whitespace normalisation that never touches string literals, quoted identifiers or comments' meaning.

SynSQL's SQL is pretty-printed over many lines; the processed format wants it on one line. Runs of whitespace
become one space, except inside ``'string literals'``, ``"quoted"``, `` `quoted` `` and ``[quoted]``
identifiers (kept byte for byte), and a ``-- line comment`` keeps the newline that ends it (joining the next
line onto it would comment that line out).

Only the first characters of protected spans' openers (a quote, ``-``, ``/``) are searched for, with one
character-class regex; each span's end is found with ``str.find`` and the text between spans is collapsed by
``str.split``, all in C. Most queries have a literal or two, so this is a few calls per query: ~7 µs for a
670-character SynSQL query, most of it ``str.split`` (a per-token regex cost ~120 µs, one alternation regex
matching whole spans ~15 µs).
"""

from __future__ import annotations

import re

#: first characters of a protected span's opener (``-`` and ``/`` open one only as ``--`` and ``/*``)
_OPENER_START = re.compile(r"""['"`\[/-]""")
_SECOND_CHAR = {"-": "-", "/": "*"}


def normalize_sql(sql: str) -> str:
    """``sql`` on as few lines as possible: whitespace runs outside quotes become one space, ends stripped."""
    search = _OPENER_START.search
    match = search(sql)
    if match is None:
        return " ".join(sql.split())
    parts: list[str] = []
    position = 0
    while match:
        start = match.start()
        opener = sql[start]
        if opener in _SECOND_CHAR:
            if not sql.startswith(_SECOND_CHAR[opener], start + 1):
                match = search(sql, start + 1)
                continue
            opener += _SECOND_CHAR[opener]
        end = _span_end(sql, start, opener)
        _add_plain(parts, sql[position:start])
        if opener == "--":
            parts.append(sql[start:end].rstrip() + "\n")
        else:
            parts.append(sql[start:end])
        position = end
        match = search(sql, position)
    _add_plain(parts, sql[position:])
    return "".join(parts).strip()


def _span_end(sql: str, start: int, opener: str) -> int:
    """End (exclusive) of the protected span opening at ``sql[start]``; an unclosed span runs to the end.

    Quotes close at the first single quote character (a doubled one is an escaped quote); a line comment ends
    before its newline; a block comment after its ``*/``.
    """
    if opener in ("'", '"'):
        k = start + 1
        while True:
            k = sql.find(opener, k)
            if k < 0:
                return len(sql)
            if sql.startswith(opener, k + 1):
                k += 2
                continue
            return k + 1
    closer = {"`": "`", "[": "]", "--": "\n", "/*": "*/"}[opener]
    k = sql.find(closer, start + len(opener))
    if k < 0:
        return len(sql)
    return k if closer == "\n" else k + len(closer)


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
