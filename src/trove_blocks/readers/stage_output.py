"""Reading what an earlier stage of the same run wrote, where "no file" is a result and not a wrong path.

datatrove's writers create a file only when a document reaches it, so a stage that keeps nothing (every article
too short, an empty input) leaves an empty folder, and datatrove's readers raise "No files found" on it: the run
then failed at the next stage instead of ending with its counts (read = kept 0 + excluded).
"""

from __future__ import annotations

from datatrove.data import DocumentsPipeline
from datatrove.utils.logging import logger

from trove_blocks.readers.jsonl import CheckedJsonlReader


class StageOutputJsonlReader(CheckedJsonlReader):
    """:class:`CheckedJsonlReader` over an earlier stage's output folder: no file there gives no document."""

    name = "🐿 Jsonl (stage output)"

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        if not self.data_folder.list_files(recursive=self.recursive, glob_pattern=self.glob_pattern):
            logger.info(f"{self.data_folder.path}: no file, so the stage before kept no document")
            if data:
                yield from data
            return
        yield from super().run(data, rank, world_size)
