"""SynsqlRecordFilter (trove_blocks.filters.synsql_validation) on real SynSQL and Spider records: unusable records
are dropped with their reason, to the exclusion writer."""

from __future__ import annotations

import json
from pathlib import Path

from datatrove.data import Document

from trove_blocks.filters.synsql_validation import SynsqlRecordFilter
from trove_blocks.synsql.sample import sample_records
from trove_blocks.writers.atomic_jsonl import AtomicJsonlWriter

REAL_DIR = Path(__file__).resolve().parents[1] / "data" / "text2sql"


def test_validation_reasons_go_to_the_exclusion_writer(synsql_document, synsql_sample, tmp_path):
    good = sample_records(REAL_DIR)
    bad = [
        {**good[0], "db_id": "nope"},
        {**good[1], "sql_complexity": "Easy"},
        {k: v for k, v in good[2].items() if k != "sql"},
    ]
    docs = [synsql_document(r, i) for i, r in enumerate(good + bad)]
    excluded = AtomicJsonlWriter(str(tmp_path / "ex"), tally_keys=("filter_reason",), tally_folder=str(tmp_path / "c"))
    kept = list(SynsqlRecordFilter(str(synsql_sample / "schemas.jsonl"), exclusion_writer=excluded).run(iter(docs)))
    assert len(kept) == len(good)
    tally = json.loads((tmp_path / "c" / "00000.json").read_text())["by"]
    assert tally == {"unknown_db_id": 1, "unknown_sql_complexity": 1, "missing_sql": 1}
    lines = (tmp_path / "ex" / "00000.jsonl").read_text().splitlines()
    assert len(lines) == 3 and json.loads(lines[0])["metadata"]["filter_reason"] == "unknown_db_id"


def read_as_pipeline(folder: Path, records: list) -> list[Document]:
    """``records`` written as a data.json and read back as the prepare_synsql pipeline reads it."""
    from trove_blocks.readers.json_array import JsonArrayReader

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "data.json").write_text(json.dumps(records), encoding="utf-8")
    return list(JsonArrayReader(str(folder), glob_pattern="data.json", text_key="question").run(None, 0, 1))


def test_every_promised_reason_is_given_and_counted_with_input_equal_to_kept_plus_dropped(
    synsql_document, synsql_sample, tmp_path
):
    good = sample_records(REAL_DIR)
    record = good[0]
    bad = {
        "not_an_object": ["a list, not a record"],
        "missing_question": {k: v for k, v in record.items() if k != "question"},
        "wrong_type_question": {**record, "question": 42},
        "empty_question": {**record, "question": " \n\t"},
        "wrong_type_sql": {**record, "sql": ["SELECT 1"]},
        "empty_db_id": {**record, "db_id": ""},
        "missing_sql_complexity": {k: v for k, v in record.items() if k != "sql_complexity"},
        "wrong_type_external_knowledge": {**record, "external_knowledge": {"note": 1}},
        "wrong_type_cot": {**record, "cot": 3},
        "unknown_sql_complexity": {**record, "sql_complexity": "Trivial"},
        "unknown_db_id": {**record, "db_id": "no_such_database"},
    }
    docs = read_as_pipeline(tmp_path / "in", good + list(bad.values()))
    step = SynsqlRecordFilter(str(synsql_sample / "schemas.jsonl"))
    kept = list(step.run(iter(docs)))
    assert [doc.id for doc in kept] == [doc.id for doc in docs[: len(good)]]
    reasons = [doc.metadata["filter_reason"] for doc in docs[len(good) :]]
    assert reasons == list(bad)
    assert step.stats["total"].total == len(docs)
    assert step.stats["forwarded"].total == len(good) and step.stats["dropped"].total == len(bad)
    assert {reason: step.stats[f"dropped_{reason}"].total for reason in bad} == dict.fromkeys(bad, 1)


def test_require_cot_drops_exactly_the_records_without_one(synsql_document, synsql_sample):
    records = sample_records(REAL_DIR)
    docs = [synsql_document(r, i) for i, r in enumerate(records)]
    step = SynsqlRecordFilter(str(synsql_sample / "schemas.jsonl"), require_cot=True)
    kept = list(step.run(iter(docs)))
    with_cot = [f"d/{i}" for i, r in enumerate(records) if r["cot"]]
    assert 0 < len(with_cot) < len(records)  # the real SynSQL records have one, the Spider questions none
    assert [doc.id for doc in kept] == with_cot
    assert step.stats["dropped_missing_cot"].total == len(records) - len(with_cot)


def test_labels_outside_the_difficulty_map_are_unknown(synsql_document, synsql_sample):
    records = sample_records(REAL_DIR)
    docs = [synsql_document(r, i) for i, r in enumerate(records)]
    only_simple = SynsqlRecordFilter(str(synsql_sample / "schemas.jsonl"), difficulty_map={"Simple": "Easy"})
    kept = list(only_simple.run(iter(docs)))
    simple = [r for r in records if r["sql_complexity"] == "Simple"]
    assert 0 < len(simple) < len(records)
    assert {doc.metadata["sql_complexity"] for doc in kept} == {"Simple"} and len(kept) == len(simple)
    assert only_simple.stats["dropped_unknown_sql_complexity"].total == len(records) - len(simple)


def test_every_real_record_passes_with_the_default_settings(synsql_sample, tmp_path):
    records = sample_records(REAL_DIR)
    docs = read_as_pipeline(tmp_path / "in", records)
    step = SynsqlRecordFilter(str(synsql_sample / "schemas.jsonl"))
    assert len(list(step.run(iter(docs)))) == len(records)
    assert step.stats["dropped"].total == 0
