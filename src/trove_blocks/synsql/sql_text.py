"""SQL whitespace normalisation that never touches string literals, quoted identifiers or comments' meaning.

SynSQL's SQL is pretty-printed over many lines; the processed format wants it on one line. Runs of whitespace
become one space, except inside ``'string literals'``, ``"quoted"``, `` `quoted` `` and ``[quoted]``
identifiers (kept byte for byte), and a ``-- line comment`` keeps the newline that ends it (joining the next
line onto it would comment that line out).

``str.split`` + ``join`` (~3 µs for a 670-character SynSQL query) is the floor; a per-token regex costs
~120 µs, one alternation regex matching whole spans ~15 µs. Two paths reach that floor or near it:

* Queries whose only protected spans are quoted with ONE kind of quote, ``'...'`` literals or ``"..."``
  (most of SynSQL: about half have no span at all, most others only ``'...'`` literals; Spider quotes its
  literals with ``"``) are cut at every quote: with every span closed, the pieces at odd positions are exactly
  the spans' contents (an escaped ``''`` adds an empty piece and keeps the parity). When no span holds a
  whitespace run that ``split`` would change (anything but a lone space, which sits between two non-space
  characters), collapsing the whole query at once gives the same result; otherwise only the even pieces are
  collapsed. ~3.5 µs.
* Queries that also hold ``--`` comments are cut at each comment (a ``--`` after an even number of quotes since
  the last comment), and the text between comments is collapsed the same way. ~4-8 µs.
* Anything else (both kinds of quote, backticks, brackets, block comments, an unclosed span) takes the general
  scan: the first characters of openers (a quote, ``[``, ``-``, ``/``) are searched with one character-class
  regex, each span's end is found with ``str.find`` and the text between spans is collapsed by ``str.split``.
  ~7 µs.
"""

from __future__ import annotations

import re

#: first characters of a protected span's opener (``-`` and ``/`` open one only as ``--`` and ``/*``)
_OPENER_START = re.compile(r"""['"`\[/-]""")
_SECOND_CHAR = {"-": "-", "/": "*"}


def normalize_sql(sql: str) -> str:
    """``sql`` on as few lines as possible: whitespace runs outside quotes become one space, ends stripped."""
    # openers other than one kind of quote and line comments need the general scan; one-character tests first
    # (memchr: ~0.02 µs each, a two-character search ~0.5 µs)
    if "`" in sql or "[" in sql or ("/" in sql and "/*" in sql):
        return _normalize_spans(sql)
    quote = "'" if "'" in sql else '"'
    if quote == "'" and '"' in sql:
        return _normalize_spans(sql)
    if _next_line_comment(sql, 0) >= 0:
        return _normalize_line_comments(sql, quote)
    if quote not in sql:
        return " ".join(sql.split())
    if sql.count(quote) % 2:  # an unclosed span runs to the end: the general scan keeps it whole
        return _normalize_spans(sql)
    quoted = "".join(sql.split(quote)[1::2])
    if quoted.isprintable() and "  " not in quoted:
        # every whitespace character but the space is unprintable: no span holds a run that split() changes
        return " ".join(sql.split())
    return _collapse_outside_quotes(sql, quote).strip()


def _normalize_line_comments(sql: str, quote: str) -> str:
    """:func:`normalize_sql` of a query with ``--`` comments and no other openers than ``quote`` (``'`` or ``"``).

    A ``--`` opens a comment when an even number of quotes lies between the end of the previous comment and it
    (quotes inside comments do not count); the comment keeps its text and the newline that ends it, the text
    between comments is collapsed around its quoted spans.
    """
    parts: list[str] = []
    position = search = 0  # start of the text after the last comment; where to look for the next "--"
    while (dash := _next_line_comment(sql, search)) >= 0:
        if sql.count(quote, position, dash) % 2:  # inside a quoted span
            search = dash + 1
            continue
        end = sql.find("\n", dash)
        end = len(sql) if end < 0 else end
        _append_collapsed(parts, _collapse_outside_quotes(sql[position:dash], quote))
        parts.append(sql[dash:end].rstrip() + "\n")
        position = search = end
    if sql.count(quote, position) % 2:  # an unclosed span after the last comment: the general scan keeps it whole
        return _normalize_spans(sql)
    _append_collapsed(parts, _collapse_outside_quotes(sql[position:], quote))
    return "".join(parts).strip()


def _next_line_comment(sql: str, start: int) -> int:
    """Index of the next ``--`` at or after ``start``, -1 if none (found by its first dash: a one-character
    search runs at memchr speed, ``str.find("--")`` ~10x slower)."""
    while (dash := sql.find("-", start)) >= 0:
        if sql.startswith("-", dash + 1):
            return dash
        start = dash + 1
    return -1


def _collapse_outside_quotes(text: str, quote: str) -> str:
    """``text`` (every span closed) with whitespace runs outside ``quote``-quoted spans as single spaces, a run at
    either end kept as one space.

    Cut at every quote, the pieces at odd positions are exactly the spans' contents (an escaped ``''`` adds an
    empty piece and keeps the parity).
    """
    pieces = text.split(quote)
    for index in range(0, len(pieces), 2):
        pieces[index] = _collapse_keeping_edges(pieces[index])
    return quote.join(pieces)


def _collapse_keeping_edges(text: str) -> str:
    """``text`` with whitespace runs as single spaces, a leading or trailing run kept as one space."""
    words = text.split()
    if not words:
        return " " if text else ""
    middle = " ".join(words)
    return (" " if text[0].isspace() else "") + middle + (" " if text[-1].isspace() else "")


def _normalize_spans(sql: str) -> str:
    """:func:`normalize_sql` by the general scan over every kind of protected span."""
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
    if text:
        _append_collapsed(parts, _collapse_keeping_edges(text))


def _append_collapsed(parts: list[str], collapsed: str) -> None:
    """Append collapsed text, without its leading space at the start or right after a comment's newline."""
    parts.append(collapsed.lstrip(" ") if not parts or parts[-1].endswith("\n") else collapsed)
