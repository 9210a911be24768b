"""Source-format adapters on the real curriculum samples and on rows they must refuse with a reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trove_blocks.curriculum.adapters import ADAPTERS, InvalidRow, convert_row

DATA = Path(__file__).resolve().parents[1] / "data" / "curriculum"


def jsonl(name):
    return [json.loads(line) for line in (DATA / name).read_text().splitlines()]


def test_gsm8k_removes_calculator_annotations_and_keeps_the_final_answer():
    for row in jsonl("gsm8k_test_head30.jsonl"):
        out = convert_row("gsm8k", row)
        assert "<<" not in out["text"] and row["question"] in out["text"]
        assert out["metadata"]["final_answer"] == row["answer"].rsplit("####", 1)[1].strip()


def test_qa_answers_takes_the_first_alias_and_keeps_all():
    for row in jsonl("nq_open_dev_head30.jsonl"):
        out = convert_row("qa_answers", row)
        assert out["text"] == f"Question: {row['question']}\nAnswer: {row['answer'][0]}"
        assert out["metadata"]["answers"] == row["answer"]
    assert convert_row("qa_answers", {"question": "q?", "answer": "a"})["text"].endswith("Answer: a")


def test_sharegpt_conversations_become_user_assistant_turns():
    rows = json.loads((DATA / "fastchat_dummy_conversation_sharegpt_format_20.json").read_text())
    for row in rows:
        out = convert_row("conversations", row)
        assert out["id"] == row["id"]
        assert out["text"].startswith("User: ")
        assert out["metadata"]["turns"] == len(row["conversations"])
        assert out["text"].count("\n\nAssistant: ") == sum(turn["from"] == "gpt" for turn in row["conversations"])


def test_nested_squad_article_and_flat_hub_row():
    article = json.loads((DATA / "squad_v2_dev_sample.json").read_text())["data"][0]
    out = convert_row("squad", article)
    questions = [qa for p in article["paragraphs"] for qa in p["qas"]]
    assert out["metadata"]["questions"] == len(questions)
    assert out["text"].startswith(f"# {article['title']}")
    assert out["text"].count("(no answer in the context)") == sum(qa["is_impossible"] for qa in questions)
    flat = {
        "id": "x",
        "title": "T",
        "context": "Paris is in France.",
        "question": "Where is Paris?",
        "answers": {"text": ["France"], "answer_start": [12]},
    }
    assert convert_row("squad", flat)["text"].endswith("Question: Where is Paris?\nAnswer: France")


def test_triviaqa_official_and_hub_shapes():
    row = json.loads((DATA / "triviaqa_sample.json").read_text())["Data"][0]
    out = convert_row("triviaqa", row)
    assert out["id"] == row["QuestionId"]
    assert out["text"].endswith(f"Answer: {row['Answer']['Value']}")
    hub = {"question": "Q?", "question_id": "q1", "answer": {"value": "A", "aliases": ["A", "a2"]}}
    assert convert_row("triviaqa", hub)["metadata"]["answers"] == ["A", "a2"]


def test_other_formats_render():
    assert (
        "System: be brief"
        in convert_row("openorca", {"system_prompt": "be brief", "question": "q", "response": "r"})["text"]
    )
    alpaca = convert_row("alpaca", {"instruction": "Sum", "input": "1 2", "output": "3"})["text"]
    assert alpaca == "User: Sum\n\n1 2\n\nAssistant: 3"
    assert convert_row("messages", {"messages": [{"role": "user", "content": "hi"}]})["text"] == "User: hi"
    assert convert_row("problem_solution", {"query": "1+1", "response": "2"})["text"] == "Problem: 1+1\n\nSolution: 2"
    assert convert_row("text", {"content": "print(1)"}, text_field="content")["text"] == "print(1)"
    assert convert_row("apps", {"question": "q", "solutions": json.dumps(["x=1"])})["text"].endswith("x=1")


@pytest.mark.parametrize(
    ("source_format", "row", "reason"),
    [
        ("conversations", {"conversations": []}, "empty_conversation"),
        ("conversations", {"conversations": [{"from": "human", "value": " "}]}, "empty_conversation"),
        ("qa_answers", {"question": "q", "answer": []}, "missing_answer"),
        ("gsm8k", {"question": "q"}, "missing_answer"),
        ("alpaca", {"instruction": "", "output": "x"}, "missing_instruction"),
        ("squad", {"title": "t", "paragraphs": []}, "no_paragraph_with_questions"),
        ("apps", {"question": "q", "solutions": ""}, "no_solution"),
        ("problem_solution", {"problem": "p"}, "missing_solution_or_response"),
    ],
)
def test_rows_that_cannot_be_rendered_raise_with_a_reason(source_format, row, reason):
    with pytest.raises(InvalidRow, match=f"^{reason}$"):
        convert_row(source_format, row)


def test_unknown_format_is_named():
    with pytest.raises(ValueError, match="unknown source format 'xml'"):
        convert_row("xml", {})
    assert "squad" in ADAPTERS
