"""Stream the records of a top-level JSON array (or a JSON-lines file) in constant memory, by byte range.

SynSQL's data.json is ONE 9.36 GB array. To spread it over many tasks, each task takes the records whose
first byte falls in its byte range ``[start, end)`` of the file, and decodes each record's bytes on its own with
orjson. Record boundaries are found in three ways:

* guessed and proven (:meth:`_Window.decode_object`): an object ends at one of the ``}`` followed by ``,`` or
  ``]``; the first such ``}`` up to which the bytes decode as one JSON value IS the object's end (a JSON object
  closes at exactly one place, so a shorter or longer slice cannot decode). The decode is the one the record needs
  anyway, so finding the end costs one ``bytes.find`` per ``}``: ~5 µs per 3.9 KB SynSQL record, decode included,
  2.4x less than the exact scan.
* told by orjson (:meth:`_Window.decode_object_before_trailing`), once a guess failed (a ``}`` of a nested object
  or inside a string): orjson, given the bytes from the object's start on, parses the first value and reports
  where the content after it begins; the bytes up to there decode, which proves the end as above. A failed guess
  and two decodes per record: ~2.5x the exact scan's speed on ShareGPT chats, whose every turn is an object.
* scanned exactly (:meth:`_Window.element_end`, a small JSON-aware scanner tracking strings, escapes and bracket
  depth; ``bytes.find`` and one regex do the work in C): for non-objects, for records cut by the end of the read
  window, and for malformed records (whose error then names the byte just as before).

A task that starts mid-file cannot know whether that byte lies inside a string. It finds its first record with
:func:`find_record_start`: the first ``{`` preceded by ``,`` or ``[`` from which two consecutive elements decode
as objects. That guess is checked: the task before it reads *through* its own end with exact state and verifies
that the guess for the next range equals the real boundary (:class:`BoundaryMismatchError` otherwise). By
induction from byte 0, every range starts exactly on a record, so the union of all tasks' records is the file's
records, each exactly once, whatever the number of tasks. Splitting inside a file needs an array of objects;
JSON lines split on newlines (exact, no guess).

Record ids are byte offsets: stable for any number of tasks, and they name the place of any error.
Offsets and sizes are in bytes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import IO

import orjson

#: bytes read from the file at a time
CHUNK_BYTES = 1 << 20
#: a guessed record start is rejected when its scan runs longer than this (bytes)
MAX_GUESS_BYTES = 64 << 20
#: ``}`` looked at, and failed decodes, while guessing where one object ends, before its end is taken from the
#: decode of the bytes after it (0 switches guessing off: the exact scan alone)
MAX_CLOSING_BRACES, MAX_END_GUESSES = 64, 1
#: bytes first given to that decode (a few records of SynSQL or ShareGPT)
TRAILING_SPAN_BYTES = 1 << 12

_STRUCTURAL = re.compile(rb'["\[\]{}]')
_NOT_WHITESPACE = re.compile(rb"[^ \t\r\n]")
_SCALAR_END = re.compile(rb"[,\]} \t\r\n]")
_QUOTE, _BACKSLASH, _COMMA = 0x22, 0x5C, 0x2C
_AFTER_OBJECT = (_COMMA, 0x5D)  # , ]
_WHITESPACE = b" \t\r\n"
_UNDECODED = object()
_OPEN = (0x7B, 0x5B)  # { [
_CLOSE = (0x7D, 0x5D)  # } ]


class JsonStreamError(ValueError):
    """Malformed or truncated input; the message names the file and the byte offset."""

    def __init__(self, path: str, offset: int, what: str, record_index: int | None = None):
        where = f"byte {offset}" + (f" (record #{record_index})" if record_index is not None else "")
        super().__init__(f"{path}: {where}: {what}")
        self.path, self.offset, self.what, self.record_index = path, offset, what, record_index

    def __reduce__(self):
        # rebuilt from the constructor's arguments: a task's error crosses to the main process pickled (datatrove's
        # worker pool), and the default (the message as the only argument) cannot rebuild it; the pool then hung
        return type(self), (self.path, self.offset, self.what, self.record_index)


class BoundaryMismatchError(JsonStreamError):
    """The guessed first record of the next byte range is not where that record really starts."""


class _Truncated(Exception):
    """The scan reached the end of the file (or the guess limit) inside an element."""


class RawRecord:
    """One element of the input: its first byte's offset in the file, its bytes, and its value once decoded (the
    scanner decodes an object when it guesses the object's end, see the module docstring)."""

    __slots__ = ("offset", "data", "_value")

    def __init__(self, offset: int, data: bytes, value: object = _UNDECODED):
        self.offset, self.data, self._value = offset, data, value

    def __repr__(self) -> str:
        return f"RawRecord(offset={self.offset}, data={self.data[:40]!r}...)"

    def decode(self, path: str, index: int | None = None):
        """The record's value; ``index`` (the record's place in the file) is named by the error if it is invalid."""
        if self._value is not _UNDECODED:
            return self._value
        try:
            return orjson.loads(self.data)
        except orjson.JSONDecodeError as error:
            what = f"invalid JSON in record: {error.msg}"
            raise JsonStreamError(path, self.offset + error.pos, what, index) from None


class _Window:
    """A sliding window over a binary file: ``buf[i]`` is file byte ``base + i``."""

    def __init__(self, handle: IO[bytes], base: int, limit: int | None = None):
        self.handle, self.base, self.buf, self.eof = handle, base, b"", False
        self.limit = limit  # stop growing past this many bytes (guess scans only)
        self.more()

    def more(self) -> bool:
        """Append the next chunk; False at end of file (or past the limit)."""
        if self.eof or (self.limit is not None and len(self.buf) > self.limit):
            return False
        self.handle.seek(self.base + len(self.buf))  # windows may share the handle
        chunk = self.handle.read(CHUNK_BYTES)
        if not chunk:
            self.eof = True
            return False
        self.buf += chunk
        return True

    def drop_before(self, i: int) -> int:
        """Forget bytes before ``buf[i]`` once they fill a chunk; returns ``i``'s new index."""
        if i >= CHUNK_BYTES:
            self.buf = self.buf[i:]
            self.base += i
            return 0
        return i

    def skip_whitespace(self, i: int) -> int:
        """Index of the first non-whitespace byte at or after ``i``; ``len(buf)`` at end of file."""
        while True:
            match = _NOT_WHITESPACE.search(self.buf, i)
            if match:
                return match.start()
            i = len(self.buf)
            if not self.more():
                return i

    def string_end(self, i: int) -> int:
        """``buf[i]`` is an opening quote: index just after its closing quote."""
        k = i + 1
        while True:
            q = self.buf.find(b'"', k)
            if q < 0:
                k = max(len(self.buf) - 1, i + 1)  # keep a trailing backslash in view
                if not self.more():
                    raise _Truncated(f"unterminated string starting at byte {self.base + i}")
                continue
            b = q - 1
            while self.buf[b] == _BACKSLASH:
                b -= 1
            if (q - 1 - b) % 2 == 0:
                return q + 1
            k = q + 1

    def decode_object(self, i: int) -> RawRecord | None:
        """``buf[i]`` is ``{``: the object as a record (bytes and value, offset in the file), its end guessed and proven
        by decoding (module docstring); None when the object runs past the window or does not decode (the caller
        then scans exactly)."""
        if not MAX_CLOSING_BRACES:  # guessing switched off: the exact scan alone
            return None
        buf, k, wrong = self.buf, i, 0
        for _ in range(MAX_CLOSING_BRACES):
            stop = buf.find(b"}", k) + 1
            if stop == 0 or stop >= len(buf):
                return None
            k = stop
            follow = buf[stop]
            if follow not in _AFTER_OBJECT:
                if follow not in _WHITESPACE:
                    continue
                after = _NOT_WHITESPACE.search(buf, stop)
                if after is None or buf[after.start()] not in _AFTER_OBJECT:
                    continue
            data = buf[i:stop]
            try:
                return RawRecord(self.base + i, data, orjson.loads(data))
            except orjson.JSONDecodeError:
                wrong += 1
                if wrong == MAX_END_GUESSES:
                    break
        return self.decode_object_before_trailing(i)

    def decode_object_before_trailing(self, i: int) -> RawRecord | None:
        """``buf[i]`` is ``{``: decode the bytes from ``i`` on; orjson parses the first value and then reports where
        the content after it starts, which (whitespace aside) is the object's end once the bytes up to it decode.

        For objects with many ``}`` before their end (nested objects: chats, SQuAD articles). orjson is given
        :data:`TRAILING_SPAN_BYTES` bytes, 4x more while that cuts the object (it copies and checks all it is given).
        None when the object runs past the window or does not decode.
        """
        buf = self.buf
        view = memoryview(buf)
        span = TRAILING_SPAN_BYTES
        while True:
            stop = min(len(buf), i + span)
            try:
                value = orjson.loads(view[i:stop])
                end = stop  # nothing but whitespace after the object
            except orjson.JSONDecodeError as error:
                value, end = _UNDECODED, i + _utf8_length(buf, i, error.pos)  # the position is in characters
            while end > i and buf[end - 1] in _WHITESPACE:
                end -= 1
            data = buf[i:end]
            if value is _UNDECODED:
                try:
                    value = orjson.loads(data)
                except orjson.JSONDecodeError:
                    pass
            if value is not _UNDECODED:
                return RawRecord(self.base + i, data, value)
            if stop == len(buf):  # runs past the window, or malformed: the exact scan decides
                return None
            span *= 4  # the object, or a character, was cut by the span's end

    def element_end(self, i: int) -> int:
        """``buf[i]`` starts a JSON value: index just after it (brackets are matched by depth only)."""
        first = self.buf[i]
        if first == _QUOTE:
            return self.string_end(i)
        if first not in _OPEN:
            while True:
                match = _SCALAR_END.search(self.buf, i)
                if match:
                    return match.start()
                if not self.more():
                    return len(self.buf)
        depth, k = 0, i
        while True:
            match = _STRUCTURAL.search(self.buf, k)
            if match is None:
                k = len(self.buf)
                if not self.more():
                    raise _Truncated(f"unterminated value starting at byte {self.base + i}")
                continue
            j = match.start()
            byte = self.buf[j]
            if byte == _QUOTE:
                k = self.string_end(j)
                continue
            if byte in _OPEN:
                depth += 1
            else:
                depth -= 1
                if depth == 0:
                    return j + 1
            k = j + 1


def _utf8_length(buf: bytes, i: int, characters: int) -> int:
    """Bytes taken by the first ``characters`` characters of the UTF-8 text ``buf[i:]``."""
    head = buf[i : i + characters]
    if head.isascii():
        return characters
    return len(buf[i : i + 4 * characters].decode("utf-8", "ignore")[:characters].encode("utf-8"))


#: the UTF-8 byte order mark some tools write at the start of a file; JSON parsers may ignore it (RFC 8259, 8.1)
UTF8_BOM = b"\xef\xbb\xbf"


def _content_start(window: _Window) -> int:
    """Where the file's JSON text starts in a window at offset 0: after a UTF-8 byte order mark and whitespace."""
    return window.skip_whitespace(len(UTF8_BOM) if window.buf.startswith(UTF8_BOM) else 0)


def first_byte(handle: IO[bytes]) -> bytes:
    """The file's first byte of JSON text (``b"["`` for a JSON array), ``b""`` when there is none."""
    window = _Window(handle, 0)
    i = _content_start(window)
    return window.buf[i : i + 1]


def find_record_start(handle: IO[bytes], offset: int) -> int | None:
    """Best guess of the first array element (an object) starting at or after ``offset``; None if there is none.

    A candidate is a ``{`` whose previous non-whitespace byte is ``,`` or ``[`` and from which the element and
    the one after it decode as JSON objects. The caller verifies the guess (see the module docstring).
    """
    lookback = max(0, offset - 4096)
    window = _Window(handle, lookback)
    i = offset - lookback
    while True:
        j = window.buf.find(b"{", i)
        if j < 0:
            i = max(i, len(window.buf))
            if not window.more():
                return None
            continue
        if _preceded_by_separator(window.buf, j) and _two_objects_follow(handle, window.base + j):
            return window.base + j
        i = j + 1


def _preceded_by_separator(buf: bytes, j: int) -> bool:
    k = j - 1
    while k >= 0 and buf[k] in _WHITESPACE:
        k -= 1
    return k >= 0 and buf[k] in (_COMMA, 0x5B)


def _two_objects_follow(handle: IO[bytes], start: int) -> bool:
    """True when an object starts at ``start`` and is followed by ``]`` + end, or by ``,`` and another object."""
    window = _Window(handle, start, limit=MAX_GUESS_BYTES)
    i = 0
    for _ in range(2):
        try:
            end = window.element_end(i)
        except _Truncated:
            return False
        try:
            value = orjson.loads(window.buf[i:end])
        except orjson.JSONDecodeError:
            return False
        if not isinstance(value, dict):
            return False
        k = window.skip_whitespace(end)
        if k >= len(window.buf):
            return False
        if window.buf[k] == 0x5D:
            return window.skip_whitespace(k + 1) >= len(window.buf)
        if window.buf[k] != _COMMA:
            return False
        i = window.skip_whitespace(k + 1)
        if i >= len(window.buf) or window.buf[i] != 0x7B:
            return False
    return True


def iter_array(handle: IO[bytes], path: str, start: int, end: int, size: int) -> Iterator[RawRecord]:
    """Records of the top-level array in ``handle`` whose first byte lies in ``[start, end)``.

    ``size`` is the file size. Raises :class:`JsonStreamError` naming the byte offset on malformed or truncated
    input, and :class:`BoundaryMismatchError` when the next range's guessed start is wrong.
    """
    if start >= end:
        return
    if start == 0:
        window = _Window(handle, 0)
        i = _content_start(window)
        if i >= len(window.buf) or window.buf[i] != 0x5B:
            raise JsonStreamError(path, i, "expected a JSON array ('[') at the start of the file")
        i, closed = yield from _elements(window, i + 1, path, end, 0)
    else:
        first = find_record_start(handle, start)
        if first is None:
            return
        window = _Window(handle, first)
        i, closed = yield from _elements(window, 0, path, end, None)
    if not closed:
        _verify_next_start(handle, path, end, window.base + i)
        return
    _expect_end(window, i, path)
    if end < size:
        _verify_next_start(handle, path, end, None)


def iter_field_array(handle: IO[bytes], path: str, field: str) -> Iterator[RawRecord]:
    """Elements of the array held by key ``field`` of the top-level object in ``handle`` (SQuAD's ``data``,
    TriviaQA's ``Data``), streamed like a top-level array; the object's other values are skipped by the exact scan
    (each held in memory while it is skipped: they are small in such files) and nothing after the array is read.
    """
    window = _Window(handle, 0)
    i = _content_start(window)
    if i >= len(window.buf) or window.buf[i] != 0x7B:
        raise JsonStreamError(path, i, f"expected a JSON object ('{{') holding the field {field!r}")
    i = window.skip_whitespace(i + 1)
    while True:
        i = window.drop_before(i)
        if i >= len(window.buf):
            raise JsonStreamError(path, window.base + i, "truncated: the object is not closed")
        if window.buf[i] == 0x7D:
            raise JsonStreamError(path, window.base + i, f"the top-level object has no field {field!r}")
        if window.buf[i] != _QUOTE:
            raise JsonStreamError(path, window.base + i, "expected a key (a string) in the top-level object")
        try:
            key_end = window.string_end(i)
        except _Truncated as truncated:
            raise JsonStreamError(path, window.base + i, f"truncated key ({truncated})") from None
        key = orjson.loads(window.buf[i:key_end])
        i = window.skip_whitespace(key_end)
        if i >= len(window.buf) or window.buf[i] != 0x3A:
            raise JsonStreamError(path, window.base + i, f"expected ':' after the key {key!r}")
        i = window.skip_whitespace(i + 1)
        if key == field:
            if i >= len(window.buf) or window.buf[i] != 0x5B:
                raise JsonStreamError(path, window.base + i, f"the field {field!r} does not hold an array")
            yield from _elements(window, i + 1, path, None, 0)
            return
        try:
            i = window.skip_whitespace(window.element_end(i))
        except _Truncated as truncated:
            raise JsonStreamError(path, window.base + i, f"truncated value of {key!r} ({truncated})") from None
        if i < len(window.buf) and window.buf[i] == _COMMA:
            i = window.skip_whitespace(i + 1)
        elif i < len(window.buf) and window.buf[i] != 0x7D:
            raise JsonStreamError(path, window.base + i, f"expected ',' or '}}' after the value of {key!r}")


def _elements(window: _Window, i: int, path: str, end: int | None, index: int | None):
    """Generator of the array elements from ``buf[i]`` on (just after ``[``, or a record's first byte), whose first
    byte lies before file offset ``end`` (None: all). ``index`` is the first element's index in the array (None
    when unknown: named in errors). Returns ``(i, closed)``: just after the closing ``]`` when ``closed``, else the
    first element at or after ``end``.
    """
    i = window.skip_whitespace(i)
    if i < len(window.buf) and window.buf[i] == 0x5D:
        return i + 1, True
    while True:
        i = window.drop_before(i)
        offset = window.base + i
        if i >= len(window.buf):
            raise JsonStreamError(path, offset, "truncated: the array is not closed", index)
        if end is not None and offset >= end:
            return i, False
        record = window.decode_object(i) if window.buf[i] == 0x7B else None
        if record is None:
            try:
                stop = window.element_end(i)
            except _Truncated as truncated:
                raise JsonStreamError(path, offset, f"truncated record ({truncated})", index) from None
            record = RawRecord(offset, window.buf[i:stop])
        else:
            stop = i + len(record.data)
        yield record
        if index is not None:
            index += 1
        k = window.skip_whitespace(stop)
        if k >= len(window.buf):
            raise JsonStreamError(path, window.base + k, "truncated: the array is not closed", index)
        if window.buf[k] == 0x5D:
            return k + 1, True
        if window.buf[k] != _COMMA:
            found = window.buf[k : k + 20].decode("utf-8", "replace")
            raise JsonStreamError(path, window.base + k, f"expected ',' or ']' after a record, found {found!r}", index)
        i = window.skip_whitespace(k + 1)
        if i < len(window.buf) and window.buf[i] == 0x5D:
            raise JsonStreamError(path, window.base + i, "trailing comma before ']'", index)


def _expect_end(window: _Window, i: int, path: str) -> None:
    k = window.skip_whitespace(i)
    if k < len(window.buf):
        raise JsonStreamError(path, window.base + k, "data after the end of the top-level array")


def _verify_next_start(handle: IO[bytes], path: str, end: int, real_start: int | None) -> None:
    guess = find_record_start(handle, end)
    if guess != real_start:
        raise BoundaryMismatchError(
            path,
            end,
            f"cannot split this file here: the record after this byte starts at {real_start}, but a task starting "
            f"here would begin at {guess} (records nested in arrays of objects, or strings that look like records); "
            "run with fewer tasks or convert the file to JSON lines",
        )


def iter_lines(handle: IO[bytes], path: str, start: int, end: int) -> Iterator[RawRecord]:
    """Non-blank lines of a JSON-lines file whose first byte lies in ``[start, end)``."""
    if start >= end:
        return
    offset = start
    handle.seek(max(0, start - 1))
    if start > 0 and handle.read(1) != b"\n":
        handle.readline()  # the line that starts before ``start`` belongs to the previous range
        offset = handle.tell()
    while offset < end:
        line = handle.readline()
        if not line:
            return
        if offset == 0 and line.startswith(UTF8_BOM):
            line, offset = line[len(UTF8_BOM) :], len(UTF8_BOM)
        if line.strip():
            yield RawRecord(offset, line)
        offset += len(line)


def iter_json_lines(handle: IO[bytes]) -> Iterator[tuple[int, int, bytes, object]]:
    """``(byte offset, line number, line, value)`` of each non-blank line of a whole binary JSON-lines ``handle``
    (a UTF-8 byte order mark before the first is left out); line numbers count blank lines too, from 1. The value
    is None when the line does not decode (invalid JSON or UTF-8), as for ``null``."""
    offset = 0
    for number, line in enumerate(handle, 1):
        if number == 1 and line.startswith(UTF8_BOM):
            line, offset = line[len(UTF8_BOM) :], len(UTF8_BOM)
        if not line.isspace():
            try:
                data = orjson.loads(line)
            except orjson.JSONDecodeError:
                data = None
            yield offset, number, line, data
        offset += len(line)


def iter_records(handle: IO[bytes], path: str, start: int, end: int, size: int) -> Iterator[RawRecord]:
    """Records in ``[start, end)`` of a JSON array or JSON-lines file (sniffed from its first byte)."""
    if first_byte(handle) == b"[":
        yield from iter_array(handle, path, start, end, size)
    else:
        yield from iter_lines(handle, path, start, end)


def byte_range_shard(sizes: list[int], rank: int, world_size: int) -> list[tuple[int, int, int]]:
    """Split the files (sizes in bytes, in order) into ``world_size`` contiguous byte ranges of near-equal size.

    Returns rank ``rank``'s pieces as ``(file index, start, end)``; the files are laid end to end, so one huge
    file spreads over all ranks and many small files spread as whole runs of files.
    """
    total = sum(sizes)
    lo, hi = total * rank // world_size, total * (rank + 1) // world_size
    pieces, file_start = [], 0
    for index, size in enumerate(sizes):
        file_end = file_start + size
        start, end = max(lo, file_start), min(hi, file_end)
        if start < end:
            pieces.append((index, start - file_start, end - file_start))
        file_start = file_end
    return pieces
