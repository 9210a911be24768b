"""JSON-lines writer whose files appear only when complete, with per-rank tallies for later merging.

datatrove's JsonlWriter writes its files in place: a killed task leaves a truncated file that looks final.
Here every file is written to a temporary name beside its target and renamed when the task's writer closes
without error (``trove_blocks.io.atomic_output``); a killed or failed task leaves only ``.<name>.tmp-*`` files,
which the next run of that rank removes.

``tally_keys`` counts written documents by metadata values (e.g. ``("split", "difficulty")`` ->
``{"train/Simple": 12}``) and writes ``<tally_folder>/<rank>.json`` on close, so a final one-task stage can
merge exact counts without reading the data again. Local filesystems only (rename is the commit).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import IO

from datatrove.data import Document
from datatrove.pipeline.writers import JsonlWriter
from datatrove.pipeline.writers.disk_base import DiskWriter

from trove_blocks.io import atomic_output, write_json_atomic

#: write buffer per open file (bytes): with the default 8 KB, 2 KB lines cost a system call every few records
WRITE_BUFFER_BYTES = 1 << 20


def open_replacing(stack: ExitStack, target: Path) -> IO[bytes]:
    """``atomic_output(target, "wb")`` entered on ``stack``, after removing temporary files a killed run left there."""
    for stale in target.parent.glob(f".{target.name}.tmp-*"):
        stale.unlink(missing_ok=True)
    return stack.enter_context(atomic_output(target, "wb", buffering=WRITE_BUFFER_BYTES))


class AtomicJsonlWriter(DiskWriter):
    """Uncompressed JSON lines, committed atomically per file on close; optional per-rank tallies.

    Lines are serialised by datatrove's ``JsonlWriter._write``; the class does not derive from ``JsonlWriter``
    because its ``_requires_dependencies = ["orjson"]`` makes every process that builds one read the metadata of
    every installed distribution (~0.1 s, a twentieth of a 2-task SynSQL run), to check for a library that
    trove_blocks itself depends on.

    Args:
        output_folder: local folder for the files
        output_filename: template with ``${rank}`` and metadata keys (e.g. ``${split}/${rank}.jsonl``)
        adapter: document -> dict to write (default: datatrove's, ``{text, id, metadata}``)
        tally_keys: metadata keys whose values (joined by "/") are counted per written document
        tally_folder: where ``<rank>.json`` with ``{"documents": n, "by": {...}}`` goes (needs tally_keys)
    """

    name = "🐿 Jsonl (atomic)"
    _write = JsonlWriter._write

    def __init__(
        self,
        output_folder: str,
        output_filename: str = "${rank}.jsonl",
        adapter: Callable | None = None,
        tally_keys: Sequence[str] = (),
        tally_folder: str | None = None,
    ):
        super().__init__(output_folder, output_filename=output_filename, compression=None, adapter=adapter, mode="wb")
        if not self.output_folder.is_local():
            raise ValueError(f"{type(self).__name__} writes local folders only, got {output_folder}")
        self.tally_keys = tuple(tally_keys)
        self.tally_folder = tally_folder
        self._files: dict[str, IO] = {}
        self._stack: ExitStack | None = None
        self._tally: Counter = Counter()
        self._rank: int | None = None

    def _get_output_file_with_retry(self, output_filename: str) -> IO:
        handle = self._files.get(output_filename)
        if handle is None:
            if self._stack is None:
                self._stack = ExitStack()
            target = Path(self.output_folder.resolve_paths(output_filename))
            handle = self._files[output_filename] = open_replacing(self._stack, target)
        return handle

    def write(self, document: Document, rank: int = 0, **kwargs):
        self._rank = rank
        super().write(document, rank, **kwargs)
        if self.tally_keys:
            self._tally["/".join(str(document.metadata.get(key)) for key in self.tally_keys)] += 1

    def run(self, data, rank: int = 0, world_size: int = 1):
        self._rank = rank
        yield from super().run(data, rank, world_size)

    def __exit__(self, exc_type, exc_val, exc_tb):
        """Commit every file (and the tally) on success; discard them when the task failed or was stopped."""
        stack, self._stack, self._files = self._stack, None, {}
        if exc_type is not None:
            if stack is not None:
                stack.__exit__(exc_type, exc_val, exc_tb)
            return False
        if stack is not None:
            stack.close()
        if self.tally_folder and self._rank is not None:
            tally = {"documents": sum(self._tally.values()), "by": dict(sorted(self._tally.items()))}
            write_json_atomic(Path(self.tally_folder) / f"{self._rank:05d}.json", tally)
        return False

    def close(self):
        self.__exit__(None, None, None)
