"""Iterate processed SynSQL records for training, one curriculum phase (difficulty) at a time.

Reads what ``pipelines/prepare_synsql.py`` writes: ``<data_dir>/<split>/*.jsonl`` (one processed record per
line) and ``<data_dir>/stats.json``. Streams line by line; nothing is loaded up front.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

SPLITS = ("train", "val")
PREPARE_COMMAND = "python pipelines/prepare_synsql.py --synsql-dir data/synsql --output-dir {data_dir}"


class ProcessedDataLoader:
    """Iterator over processed records of ``split``, only those of ``difficulty_filter`` when given.

    The seed's curriculum: ``ProcessedDataLoader("data/processed", "train", difficulty_filter="Simple")``, then
    "Medium", then "Complex". Raises FileNotFoundError ("Processed data not found", with the command to run)
    when stats.json is missing, or the split has no files although stats.json counts records in it; ValueError
    for an unknown split or a difficulty the run did not produce.
    """

    def __init__(
        self, data_dir: str | Path = "data/processed", split: str = "train", difficulty_filter: str | None = None
    ):
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        self.data_dir, self.split, self.difficulty_filter = Path(data_dir), split, difficulty_filter
        self.files = sorted((self.data_dir / split).glob("*.jsonl"))
        prepare = f"Prepare it first:\n  {PREPARE_COMMAND.format(data_dir=self.data_dir)}"
        if not (self.data_dir / "stats.json").is_file():
            missing = "no stats.json" if self.files else f"no {self.data_dir / split}/*.jsonl"
            raise FileNotFoundError(f"Processed data not found in {self.data_dir}: {missing}. {prepare}")
        stats = self.stats()
        if not self.files and stats.get(f"{split}_examples"):
            raise FileNotFoundError(
                f"Processed data not found: no {self.data_dir / split}/*.jsonl, although its stats.json counts "
                f"{stats[f'{split}_examples']} {split} records. {prepare}"
            )
        known = stats.get("difficulty_distribution", {})
        if difficulty_filter is not None and difficulty_filter not in known:
            raise ValueError(
                f"difficulty {difficulty_filter!r} is not one of this run's ({', '.join(known) or 'none'}): "
                f"{self.data_dir / 'stats.json'}"
            )

    def stats(self) -> dict:
        """The run's stats.json (totals, difficulty distribution, exclusions)."""
        return json.loads((self.data_dir / "stats.json").read_text(encoding="utf-8"))

    def __len__(self) -> int:
        """Records this loader yields, from stats.json (no pass over the data)."""
        stats = self.stats()
        if self.difficulty_filter is None:
            return stats[f"{self.split}_examples"]
        return stats["difficulty_distribution"].get(self.difficulty_filter, {}).get(self.split, 0)

    def __iter__(self) -> Iterator[dict]:
        return (record for _, record in self.positioned())

    def positioned(self, start: tuple[int, int] = (0, 0)) -> Iterator[tuple[tuple[int, int], dict]]:
        """``(position after it, record)`` of each record from ``start``, a ``(file index, byte offset)`` such a
        position: a reader that saved one goes on from there without reading the records before it again."""
        first_file, first_offset = start
        for file_index in range(first_file, len(self.files)):
            path = self.files[file_index]
            with path.open("rb") as handle:
                offset = first_offset if file_index == first_file else 0
                handle.seek(offset)
                for line in handle:
                    record_at, offset = offset, offset + len(line)
                    if not line.strip():
                        continue
                    try:
                        record = json.loads(line)
                    except (json.JSONDecodeError, UnicodeDecodeError) as error:
                        raise ValueError(f"{path}: byte {record_at}: not a JSON record ({error})") from None
                    if self.difficulty_filter is None or record.get("difficulty") == self.difficulty_filter:
                        yield (file_index, offset), record
