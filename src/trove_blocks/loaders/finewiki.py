"""MLX batches of FineWiki samples (seed 002) for its two training regimes, from any of the layouts on disk.

A sample is ``{id, context_tokens, continuation_tokens, context_text, images{mode: ...}}`` (see
:mod:`trove_blocks.finewiki.records`). Regimes:

- ``text``: ``context_tokens`` ``(batch, C)`` and ``continuation_tokens`` ``(batch, T)``, int32, padded with
  ``pad_id`` to the longest in the batch, with ``context_mask`` / ``continuation_mask`` (1 = real token);
- ``vision``: ``images`` ``(batch, side, side)`` uint8 (the page of one ``mode``, grayscale, 0 = black), and the
  continuation as above. PNGs are decoded per batch, so a window holds compressed pages only.

Every batch also has ``ids`` (a list of sample ids). Layouts (``path`` is a file or a folder of them):

- JSONL sample records (``samples/*.jsonl``, the seed's ``samples.jsonl`` / ``train.jsonl``) with image paths
  relative to ``image_root`` (default: the nearest folder above the file that holds ``images/``);
- Parquet with a binary ``image_<mode>`` column per mode (``parquet/*.parquet``, ``splits/train.parquet``);
- Arrow IPC files (``arrow/train.arrow``), memory-mapped; ``image_<mode>`` holds PNG bytes or relative paths.

Shuffling, data-parallel sharding and resuming work as for packed data (:mod:`trove_blocks.loaders.order`): the
groups are JSONL blocks of ``lines_per_group`` lines (found by one scan of line offsets, no parsing), Parquet row
groups, or Arrow record batches.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from trove_blocks.finewiki.paths import inside
from trove_blocks.loaders.order import RowStream, Segment

REGIMES = ("text", "vision")
SUFFIXES = {".jsonl": "jsonl", ".parquet": "parquet", ".arrow": "arrow"}


@dataclass(frozen=True)
class SampleGroup:
    """One group of samples: a block of JSONL lines (``offset`` = byte offset of its first line, ``first_line``
    1-based), a Parquet row group or an Arrow record batch (``index``)."""

    path: Path
    kind: str
    index: int
    rows: int
    offset: int = 0
    first_line: int = 1


@dataclass
class SampleRows:
    """Samples in memory: ids, token arrays, and per sample its page (PNG bytes, or a path relative to the image
    root) when the regime is vision."""

    ids: list[str]
    context: list[np.ndarray]
    continuation: list[np.ndarray]
    images: list[Any] | None

    def __len__(self) -> int:
        return len(self.ids)

    def slice(self, start: int, stop: int) -> SampleRows:
        images = self.images[start:stop] if self.images is not None else None
        return SampleRows(self.ids[start:stop], self.context[start:stop], self.continuation[start:stop], images)

    def take(self, rows: Sequence[int]) -> SampleRows:
        images = [self.images[row] for row in rows] if self.images is not None else None
        return SampleRows(
            [self.ids[row] for row in rows],
            [self.context[row] for row in rows],
            [self.continuation[row] for row in rows],
            images,
        )

    @staticmethod
    def concat(parts: Sequence[SampleRows]) -> SampleRows:
        images = None if parts[0].images is None else [image for part in parts for image in part.images]
        return SampleRows(
            [sample for part in parts for sample in part.ids],
            [tokens for part in parts for tokens in part.context],
            [tokens for part in parts for tokens in part.continuation],
            images,
        )


def sample_sources(path: str | os.PathLike) -> list[Path]:
    """The sample files at ``path``: the file itself, or the JSONL / Parquet / Arrow files of a folder (also of its
    ``samples/``, ``parquet/`` or ``arrow/`` sub-folder), sorted; one kind only."""
    path = Path(path)
    if path.is_file():
        if path.suffix not in SUFFIXES:
            raise ValueError(f"{path}: not a sample file (expected {', '.join(SUFFIXES)})")
        return [path]
    if not path.is_dir():
        raise FileNotFoundError(f"{path}: no such file or folder of FineWiki samples")
    for folder in (path, path / "samples", path / "parquet", path / "arrow"):
        found = sorted(file for file in folder.glob("*") if file.suffix in SUFFIXES and file.is_file())
        if found:
            kinds = {file.suffix for file in found}
            if len(kinds) > 1:
                raise ValueError(
                    f"{folder}: samples in several layouts ({', '.join(sorted(kinds))}); point at one file"
                )
            return found
    raise FileNotFoundError(
        f"{path}: no *.jsonl, *.parquet or *.arrow samples (nor in samples/, parquet/, arrow/); "
        "write them with python pipelines/finewiki_vision.py"
    )


def jsonl_groups(path: Path, lines_per_group: int) -> list[SampleGroup]:
    """Blocks of ``lines_per_group`` non-empty lines of a JSONL file, from one scan of its line offsets."""
    groups = []
    offset, start, start_line, count = 0, 0, 1, 0
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                if count == 0:
                    start, start_line = offset, number
                count += 1
                if count == lines_per_group:
                    groups.append(SampleGroup(path, "jsonl", len(groups), count, start, start_line))
                    count = 0
            offset += len(line)
    if count:
        groups.append(SampleGroup(path, "jsonl", len(groups), count, start, start_line))
    return groups


def file_groups(path: Path, lines_per_group: int) -> list[SampleGroup]:
    kind = SUFFIXES[path.suffix]
    if kind == "jsonl":
        return jsonl_groups(path, lines_per_group)
    import pyarrow as pa
    import pyarrow.parquet as pq

    if kind == "parquet":
        metadata = pq.ParquetFile(path).metadata
        return [SampleGroup(path, kind, i, metadata.row_group(i).num_rows) for i in range(metadata.num_row_groups)]
    reader = pa.ipc.open_file(pa.memory_map(str(path), "r"))
    return [SampleGroup(path, kind, i, reader.get_batch(i).num_rows) for i in range(reader.num_record_batches)]


def _token_lists(column) -> list[np.ndarray]:
    """A ``list<int>`` Arrow column as one int32 array per row (views of one buffer)."""
    offsets = column.offsets.to_numpy()
    values = column.values.to_numpy(zero_copy_only=False).astype(np.int32, copy=False)
    return [values[offsets[i] : offsets[i + 1]] for i in range(len(offsets) - 1)]


class SampleWindowLoader:
    """Reads the groups of a window: the token columns, and the pages of ``mode`` when ``vision``."""

    def __init__(self, groups: list[SampleGroup], mode: str | None):
        self.groups = groups
        self.mode = mode

    def read_group(self, group: SampleGroup) -> SampleRows:
        if group.kind == "jsonl":
            return self._read_jsonl(group)
        import pyarrow as pa
        import pyarrow.parquet as pq

        columns = ["id", "context_tokens", "continuation_tokens"] + ([f"image_{self.mode}"] if self.mode else [])
        if group.kind == "parquet":
            table = pq.ParquetFile(group.path).read_row_group(group.index, columns=columns)
            data = {name: table.column(name).combine_chunks() for name in columns}
        else:
            batch = pa.ipc.open_file(pa.memory_map(str(group.path), "r")).get_batch(group.index)
            missing = [name for name in columns if name not in batch.schema.names]
            if missing:
                raise ValueError(f"{group.path}: columns {missing} missing (modes: {batch.schema.names})")
            data = {name: batch.column(name) for name in columns}
        images = data[f"image_{self.mode}"].to_pylist() if self.mode else None
        return SampleRows(
            data["id"].to_pylist(),
            _token_lists(data["context_tokens"]),
            _token_lists(data["continuation_tokens"]),
            images,
        )

    def _read_jsonl(self, group: SampleGroup) -> SampleRows:
        ids, context, continuation, images = [], [], [], []
        with open(group.path, "rb") as handle:
            handle.seek(group.offset)
            number = group.first_line - 1
            while len(ids) < group.rows:
                line = handle.readline()
                number += 1
                if not line:
                    raise ValueError(
                        f"{group.path}: ends within the group of {group.rows} samples from line {group.first_line} "
                        f"(found {len(ids)}): the file is shorter than when the loader indexed it"
                    )
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                    ids.append(record["id"])
                    context.append(np.asarray(record["context_tokens"], dtype=np.int32))
                    continuation.append(np.asarray(record["continuation_tokens"], dtype=np.int32))
                    if self.mode:
                        images.append(record["images"][self.mode])
                except (json.JSONDecodeError, KeyError, TypeError) as error:
                    raise ValueError(f"{group.path}:{number}: not a sample record ({error!r})") from None
        return SampleRows(ids, context, continuation, images if self.mode else None)

    def __call__(self, segments: list[Segment], permutation: np.ndarray) -> SampleRows:
        parts = [self.read_group(self.groups[segment.group]).slice(segment.start, segment.stop) for segment in segments]
        return SampleRows.concat(parts).take(permutation.tolist())


def _padded(arrays: list[np.ndarray], pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    width = max(len(array) for array in arrays)
    tokens = np.full((len(arrays), width), pad_id, dtype=np.int32)
    mask = np.zeros((len(arrays), width), dtype=np.int32)
    for row, array in enumerate(arrays):
        tokens[row, : len(array)] = array
        mask[row, : len(array)] = 1
    return tokens, mask


class FineWikiDataset:
    """Batches of FineWiki samples for the ``text`` or ``vision`` regime (module docstring).

    Iterating gives the rest of the current epoch, then moves to the next one (a new shuffle); ``state_dict()``
    / ``load_state_dict()`` resume exactly, as for :class:`~trove_blocks.loaders.packed.PackedDataset`.

    Args:
        path: a sample file (.jsonl, .parquet, .arrow) or a folder of them
        regime: ``text`` or ``vision``
        mode: the page resolution for ``vision`` (tiny, small, base, large)
        image_root: folder that JSONL / Arrow image paths are relative to (default: found from ``path``)
        batch_size, seed, shuffle, rank, world_size, drop_last, window_groups: as for PackedDataset
        pad_id: token id of padding (masks say which positions are real)
        lines_per_group: JSONL lines per group (the unit of shuffling and sharding)
    """

    def __init__(
        self,
        path: str | os.PathLike,
        regime: str = "text",
        mode: str | None = None,
        *,
        batch_size: int,
        image_root: str | os.PathLike | None = None,
        seed: int = 0,
        shuffle: bool = True,
        rank: int = 0,
        world_size: int = 1,
        drop_last: bool = False,
        window_groups: int = 4,
        pad_id: int = 0,
        lines_per_group: int = 256,
    ):
        if regime not in REGIMES:
            raise ValueError(f"regime must be one of {REGIMES}, got {regime!r}")
        if regime == "vision" and not mode:
            raise ValueError("the vision regime needs mode= (tiny, small, base or large)")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.regime = regime
        self.mode = mode if regime == "vision" else None
        self.files = sample_sources(path)
        self.groups = [group for file in self.files for group in file_groups(file, lines_per_group)]
        self.image_root = Path(image_root) if image_root else self._find_image_root()
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.pad_id = pad_id
        self.stream = RowStream(
            [group.rows for group in self.groups],
            SampleWindowLoader(self.groups, self.mode),
            seed=seed,
            shuffle=shuffle,
            rank=rank,
            world_size=world_size,
            window_groups=window_groups,
        )

    def _find_image_root(self) -> Path | None:
        for folder in self.files[0].resolve().parents:
            if (folder / "images").is_dir():
                return folder
        return None

    def __len__(self) -> int:
        return self.stream.batches_per_epoch(self.batch_size, self.drop_last)

    def _epoch_rows(self) -> int:
        return self.stream.rows_used_per_epoch(self.batch_size, self.drop_last)

    def _page(self, image: Any, sample: str) -> np.ndarray:
        from PIL import Image

        if isinstance(image, str):
            if self.image_root is None:
                raise FileNotFoundError(
                    f"sample {sample}: image {image!r} is a relative path and no folder above {self.files[0]} holds "
                    "images/; pass image_root="
                )
            image = inside(self.image_root, image).read_bytes()
        if not image:
            raise ValueError(f"sample {sample}: no {self.mode} page")
        with Image.open(io.BytesIO(image)) as page:
            return np.asarray(page.convert("L"))

    def to_batch(self, rows: SampleRows) -> dict[str, Any]:
        """The batch dict (module docstring) of ``rows``."""
        import mlx.core as mx

        batch: dict[str, Any] = {"ids": rows.ids}
        continuation, continuation_mask = _padded(rows.continuation, self.pad_id)
        if self.regime == "text":
            context, context_mask = _padded(rows.context, self.pad_id)
            batch["context_tokens"], batch["context_mask"] = mx.array(context), mx.array(context_mask)
        else:
            pages = [self._page(image, sample) for image, sample in zip(rows.images, rows.ids)]
            sizes = {page.shape for page in pages}
            if len(sizes) > 1:
                raise ValueError(f"pages of mode {self.mode} differ in size ({sorted(sizes)}) in batch {rows.ids}")
            batch["images"] = mx.array(np.stack(pages))
        batch["continuation_tokens"], batch["continuation_mask"] = mx.array(continuation), mx.array(continuation_mask)
        return batch

    def __iter__(self) -> Iterator[dict[str, Any]]:
        while True:
            remaining = self._epoch_rows() - self.stream.position
            if remaining <= 0:
                self.stream.next_epoch()
                return
            yield self.to_batch(SampleRows.concat(self.stream.take(min(self.batch_size, remaining))))

    def state_dict(self) -> dict[str, Any]:
        return self.stream.checkpoint(self._settings(), self._epoch_rows())

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.stream.restore(self._settings(), state)

    def _settings(self) -> dict[str, Any]:
        """What a checkpoint must have been saved with: the batching, and the sample files by name and size (the
        group row counts alone do not change when the splits are made again with another seed)."""
        files = [[file.name, file.stat().st_size] for file in self.files]
        return {"batch_size": self.batch_size, "regime": self.regime, "mode": self.mode, "files": files}
