"""Benchmark: rows/s of SQLiteReader and SQLiteWriter against plain sqlite3 (fetchmany / executemany), one run.

Each contender runs in its own subprocess (fresh interpreter, its own peak RSS from ru_maxrss) on the same data,
in --repeats rounds over all contenders, each one's pass with the least CPU time counting. Rates are given per
CPU second (process_time: robust to other load on shared cores, where wall time swings 2x) and per wall second:
a ``docs`` table of --rows rows (id, ~60-word text, source, score). The blocks are called directly, rank 0 of 1,
not inside an executor, and drained by ``deque(maxlen=0)`` (no Python code per document outside the block), so
the figures are the blocks' own cost.

Contenders:
  read_floor            sqlite3: SELECT rowid, * FROM docs, fetchmany(batch), nothing per row
  read_floor_documents  the same plus one hand-built datatrove Document per row (the least a reader must do)
  reader                SQLiteReader(db, "docs")
  write_floor           sqlite3: executemany of ready (id, text, metadata JSON) tuples, one transaction per batch, WAL
  writer                SQLiteWriter (upsert by id, metadata serialised by the writer), same batch size

    python bench/sqlite/run.py
    python bench/sqlite/run.py --rows 2000000 --batch-size 10000
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sqlite3
import subprocess
import sys
import time
from collections import deque
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CONTENDERS = ("read_floor", "read_floor_documents", "reader", "write_floor", "writer")
FLOORS = {"reader": "read_floor", "writer": "write_floor"}
GOAL = 0.70


def make_source(path: Path, rows: int) -> None:
    """The benchmark table, deterministic (seeded): rowid, id, text (~60 words), source, score."""
    rng = random.Random(0)
    words = ["".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=rng.randint(2, 9))) for _ in range(5000)]
    path.unlink(missing_ok=True)
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE docs (id TEXT, text TEXT, source TEXT, score REAL)")
    conn.executemany(
        "INSERT INTO docs VALUES (?, ?, ?, ?)",
        ((f"doc-{i}", " ".join(rng.choices(words, k=60)), f"source-{i % 7}", rng.random()) for i in range(rows)),
    )
    conn.commit()
    conn.close()


def load_documents(source: Path):
    from datatrove.data import Document

    conn = sqlite3.connect(source)
    rows = conn.execute("SELECT id, text, source, score FROM docs ORDER BY rowid").fetchall()
    conn.close()
    return [
        Document(text=text, id=doc_id, metadata={"source": src, "score": score}) for doc_id, text, src, score in rows
    ]


class Timer:
    """Wall and CPU seconds of a block (CPU time: what the contender itself spent, robust to other load)."""

    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu


def read_once(name: str, source: Path, batch_size: int, timer: Timer) -> int:
    if name == "reader":
        from trove_blocks.readers.sqlite import SQLiteReader

        reader = SQLiteReader(source, "docs", batch_size=batch_size)
        with timer:
            deque(reader.run(), maxlen=0)
        return reader.stats["documents"].total
    from datatrove.data import Document

    with timer:
        conn = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
        cursor = conn.execute("SELECT rowid, * FROM docs")
        count = 0
        while batch := cursor.fetchmany(batch_size):
            if name == "read_floor_documents":
                for row in batch:
                    Document(text=row[2], id=str(row[1]), metadata={"source": row[3], "score": row[4]})
            count += len(batch)
        conn.close()
    return count


def write_once(name: str, documents: list, target: Path, batch_size: int, timer: Timer) -> int:
    for leftover in target.parent.glob(target.name + "*"):
        leftover.unlink()
    if name == "writer":
        from trove_blocks.writers.sqlite import SQLiteWriter

        writer = SQLiteWriter(target, batch_size=batch_size)
        with timer:
            deque(writer.run(iter(documents)), maxlen=0)
        return writer.stats["documents"].total
    rows = [(doc.id, doc.text, json.dumps(doc.metadata)) for doc in documents]  # the floor's input, not timed
    with timer:
        conn = sqlite3.connect(target, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("CREATE TABLE documents (id TEXT PRIMARY KEY NOT NULL, text TEXT NOT NULL, metadata TEXT)")
        for start in range(0, len(rows), batch_size):
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany("INSERT INTO documents VALUES (?, ?, ?)", rows[start : start + batch_size])
            conn.execute("COMMIT")
        conn.close()
    return len(rows)


def run_contender(name: str, source: Path, target: Path, batch_size: int) -> dict:
    """Run one contender once in this process: rows, wall and CPU seconds of the timed part, peak RSS."""
    from datatrove.utils.logging import logger

    logger.remove()
    timer = Timer()
    if name.startswith("read"):
        count = read_once(name, source, batch_size, timer)
    else:
        count = write_once(name, load_documents(source), target, batch_size, timer)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"rows": count, "wall": timer.wall, "cpu": timer.cpu, "peak_rss_mb": peak}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=200_000, help="rows in the benchmark table")
    parser.add_argument("--batch-size", type=int, default=5_000, help="rows per fetchmany / per write transaction")
    parser.add_argument("--repeats", type=int, default=3, help="rounds over all contenders; each one's best counts")
    parser.add_argument("--workdir", type=Path, default=REPO / "bench" / "output" / "sqlite", help="scratch folder")
    parser.add_argument("--contender", choices=CONTENDERS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    source, target = args.workdir / "source.db", args.workdir / "target.db"
    if args.contender:
        print(json.dumps(run_contender(args.contender, source, target, args.batch_size)))
        return 0
    if min(args.rows, args.batch_size, args.repeats) < 1:
        parser.error("--rows, --batch-size and --repeats must be >= 1")
    args.workdir.mkdir(parents=True, exist_ok=True)
    make_source(source, args.rows)
    size_mb = source.stat().st_size / 2**20
    print(f"{args.rows} rows, batch {args.batch_size}, {size_mb:.1f} MB database; blocks called directly")
    results: dict[str, dict] = {}
    for _ in range(args.repeats):  # rounds over all contenders, so a burst of load elsewhere hits them alike
        for name in CONTENDERS:
            command = [sys.executable, __file__, "--contender", name, "--workdir", str(args.workdir)]
            done = subprocess.run([*command, "--batch-size", str(args.batch_size)], capture_output=True, text=True)
            if done.returncode != 0:
                raise SystemExit(f"contender {name} failed:\n{done.stderr}")
            result = json.loads(done.stdout.strip().splitlines()[-1])
            if result["rows"] != args.rows:
                raise SystemExit(f"contender {name} handled {result['rows']} rows, expected {args.rows}")
            best = results.get(name)
            peak = max(result["peak_rss_mb"], best["peak_rss_mb"] if best else 0)
            if best is None or result["cpu"] < best["cpu"]:
                results[name] = result
            results[name]["peak_rss_mb"] = peak

    def rate(name: str, clock: str) -> float:
        return results[name]["rows"] / results[name][clock]

    print(f"{'contender':<22}{'rows/CPU-s':>12}{'vs floor':>10}{'rows/s wall':>13}{'vs floor':>10}{'peak RSS MB':>13}")
    for name in CONTENDERS:
        floor = FLOORS.get(name)
        cpu_ratio = f"{rate(name, 'cpu') / rate(floor, 'cpu'):.0%}" if floor else ""
        wall_ratio = f"{rate(name, 'wall') / rate(floor, 'wall'):.0%}" if floor else ""
        print(
            f"{name:<22}{rate(name, 'cpu'):>12,.0f}{cpu_ratio:>10}{rate(name, 'wall'):>13,.0f}{wall_ratio:>10}"
            f"{results[name]['peak_rss_mb']:>13.0f}"
        )
    for block, floor in FLOORS.items():
        ratio = rate(block, "cpu") / rate(floor, "cpu")
        print(
            f"{block}: {ratio:.0%} of {floor} in CPU time (goal >= {GOAL:.0%}): {'met' if ratio >= GOAL else 'NOT met'}"
        )
    print(f"{'reader'}: {rate('reader', 'cpu') / rate('read_floor_documents', 'cpu'):.0%} of read_floor_documents")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
