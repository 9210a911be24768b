"""datatrove's JsonlReader, with a bad line as an error that names it instead of a warning.

datatrove's JsonlReader logs a line that is not JSON and skips it, skips a line without text after one warning per
reader, and on a byte that is not UTF-8 logs a warning and skips the REST of the file. None of it is counted, so
the run's summary cannot say what was not read. The tutorials and the stages that read an earlier stage's JSONL
read with :class:`CheckedJsonlReader` instead: such a line stops the task with a
:class:`~trove_blocks.json_stream.JsonStreamError` naming the file, the byte offset and the line's index
in the file ("record #i", from 0, blank lines counted).
"""

from __future__ import annotations

from datatrove.pipeline.readers import JsonlReader

from trove_blocks.json_stream import JsonStreamError, RawRecord, iter_json_lines


class CheckedJsonlReader(JsonlReader):
    """datatrove's JsonlReader (same arguments, same documents and ids on a good file) where a line that is not a
    JSON object, not UTF-8, or has no text under ``text_key`` is an error; blank lines are skipped."""

    name = "🐿 Jsonl (checked)"

    def read_file(self, filepath: str):
        shown = self.data_folder.resolve_paths(filepath)
        with self.data_folder.open(filepath, "rb", compression=self.compression) as handle:
            # offsets are in the decompressed bytes for a compressed file; a line's index counts blank lines too,
            # as datatrove's ids do
            for offset, number, line, data in iter_json_lines(handle):
                index = number - 1
                with self.track_time():
                    if data is None:  # invalid JSON or UTF-8 (the decode error names where), or a literal null
                        data = RawRecord(offset, line).decode(shown, index)
                    if not isinstance(data, dict):
                        what = f"a JSON {type(data).__name__}, not an object"
                        raise JsonStreamError(shown, offset, what, index)
                    document = self.get_document_from_dict(data, filepath, index)
                    if document is None:
                        raise JsonStreamError(shown, offset, f"no text (text_key {self.text_key!r})", index)
                yield document
