"""Readers of curriculum data: hub (or local) datasets through format adapters, and raw curriculum JSONL.

Neither reader drops a bad record silently. A record that cannot be used comes out as a Document whose
``metadata["invalid_reason"]`` says why (``invalid_json``, ``missing_text``, or the adapter's reason such as
``missing_answer``) and whose ``metadata["record"]`` says where (``file:line`` or ``dataset/index``); its text
is the raw record. :func:`valid_record` (for datatrove's ``LambdaFilter`` with an exclusion writer) then drops it
with that reason, so input count = kept + excluded.

Metadata keys of the documents: ``source`` (dataset name), ``record``; from raw JSONL also the row's own
``category``, ``source`` and ``metadata`` fields, and ``file_path``.
"""

from __future__ import annotations

import json
from typing import Any

from datatrove.data import Document
from datatrove.pipeline.readers import HuggingFaceDatasetReader, JsonlReader

from trove_blocks.curriculum.adapters import InvalidRow, convert_row

INVALID_REASON = "invalid_reason"


def valid_record(doc: Document) -> bool | tuple[bool, str]:
    """LambdaFilter function: keep a usable record, drop an invalid one with its reason."""
    reason = doc.metadata.get(INVALID_REASON)
    return (False, reason) if reason else True


def _adapt_source_row(self: CurriculumSourceReader, data: dict, path: str, id_in_file: int | str) -> dict[str, Any]:
    index = str(id_in_file)
    record = f"{self.source_name}/{index}"
    try:
        converted = convert_row(self.source_format, data, self.text_field)
    except InvalidRow as reason:
        self.stat_update(f"invalid_{reason}")
        return {
            "text": json.dumps(data, ensure_ascii=False, default=str),
            "id": record,
            "metadata": {INVALID_REASON: str(reason), "record": record, "source": self.source_name},
        }
    return {
        "text": converted["text"],
        "id": converted["id"] or record,
        "metadata": converted["metadata"] | {"source": self.source_name, "record": record},
    }


class CurriculumSourceReader(HuggingFaceDatasetReader):
    """Read one curriculum dataset with datatrove's HuggingFaceDatasetReader and render rows with its adapter.

    ``dataset``/``dataset_options`` go to ``datasets.load_dataset`` as given (a hub id, or ``"json"`` with
    ``data_files`` for a local override); ``source_format`` names the adapter (see
    :mod:`trove_blocks.curriculum.adapters`). Streaming by default: rows are fetched as they are read (a
    ``limit`` then downloads only what it keeps, and nothing is copied into the datasets cache).
    """

    name = "📚 Curriculum source"

    def __init__(
        self,
        dataset: str,
        dataset_options: dict,
        source_name: str,
        source_format: str,
        text_field: str | None = None,
        limit: int = -1,
        streaming: bool = True,
    ):
        super().__init__(
            dataset, dataset_options=dataset_options, streaming=streaming, limit=limit, adapter=_adapt_source_row
        )
        self.source_name = source_name
        self.source_format = source_format
        self.text_field = text_field


class CurriculumJsonlReader(JsonlReader):
    """JsonlReader that turns a line that is not a JSON object, or has no non-empty ``text``, into an invalid record.

    (datatrove's JsonlReader logs such lines and skips them uncounted.)
    """

    name = "📚 Curriculum JSONL"

    def __init__(self, data_folder, paths_file=None, glob_pattern: str | None = "*.jsonl", recursive: bool = False):
        super().__init__(
            data_folder,
            paths_file=paths_file,
            glob_pattern=glob_pattern,
            recursive=recursive,
            compression=None,
            add_file_path=False,  # set below once per file, not resolved again for every line
        )

    def read_file(self, filepath: str):
        import orjson

        resolved = self.data_folder.resolve_paths(filepath)
        with self.data_folder.open(filepath, "r", encoding="utf-8") as handle:
            for index, line in enumerate(handle):
                if line.isspace() or not line:
                    continue
                record = f"{filepath}:{index + 1}"
                try:
                    data = orjson.loads(line)
                    reason = None if isinstance(data, dict) else "invalid_json"
                except orjson.JSONDecodeError:
                    data, reason = None, "invalid_json"
                text = data.get("text") if reason is None else None
                if reason is None and not (isinstance(text, str) and text and not text.isspace()):
                    reason = "missing_text"
                if reason:
                    self.stat_update(reason)
                    yield Document(
                        text=line.rstrip("\n"),
                        id=record,
                        metadata={INVALID_REASON: reason, "record": record, "file_path": resolved},
                    )
                    continue
                document = self.get_document_from_dict(data, filepath, index)
                document.metadata["file_path"] = resolved  # the split; never taken from the row
                document.metadata["record"] = record
                yield document
