import json

import pytest

from trove_blocks.synsql.records import (
    DEFAULT_DIFFICULTY,
    PROCESSED_FIELDS,
    invalid_reason,
    parse_difficulty_overrides,
    processed_record,
)

REAL = json.load(open("tests/data/text2sql/synsql_data_sample.json", encoding="utf-8"))
DBS = {r["db_id"] for r in REAL}


def test_real_records_are_valid_and_map_to_the_seed_format():
    for record in REAL:
        assert invalid_reason(record["question"], record, DBS, DEFAULT_DIFFICULTY) is None
        out = processed_record(record["question"], record, "t(a)", "Complex")
        assert tuple(out) == PROCESSED_FIELDS and out["schema"] == "t(a)"
        assert out["sql_complexity"] == record["sql_complexity"] and out["question"] == record["question"]
        assert "cot" not in out
    assert processed_record(REAL[0]["question"], REAL[0], "t(a)", "Complex", include_cot=True)["cot"] == REAL[0]["cot"]


@pytest.mark.parametrize(
    "change, reason",
    [
        ({"sql": None}, "missing_sql"),
        ({"question": 3}, "wrong_type_question"),
        ({"db_id": "  "}, "empty_db_id"),
        ({"external_knowledge": ["x"]}, "wrong_type_external_knowledge"),
        ({"sql_complexity": "Trivial"}, "unknown_sql_complexity"),
        ({"db_id": "nope"}, "unknown_db_id"),
    ],
)
def test_invalid_records_get_their_reason(change, reason):
    record = {**REAL[0], **change}
    assert invalid_reason(record["question"], record, DBS, DEFAULT_DIFFICULTY) == reason


def test_missing_cot_only_when_required():
    record = {**REAL[0], "cot": ""}
    assert invalid_reason(record["question"], record, DBS, DEFAULT_DIFFICULTY) is None
    assert invalid_reason(record["question"], record, DBS, DEFAULT_DIFFICULTY, require_cot=True) == "missing_cot"


def test_difficulty_map_defaults_and_overrides():
    assert DEFAULT_DIFFICULTY["Moderate"] == "Medium" and DEFAULT_DIFFICULTY["Highly Complex"] == "Complex"
    mapping = parse_difficulty_overrides(["Highly Complex=Hard"])
    assert mapping["Highly Complex"] == "Hard" and mapping["Simple"] == "Simple"
    with pytest.raises(ValueError, match="SQL_COMPLEXITY=DIFFICULTY"):
        parse_difficulty_overrides(["Hard"])
