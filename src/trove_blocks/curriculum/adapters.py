"""Source-format adapters: one row of a curriculum dataset -> ``{"text", "id", "metadata"}`` (no datatrove import).

Each adapter renders a row as plain training text. Chats become ``User: ...`` / ``Assistant: ...`` turns separated
by blank lines; question/answer sets become ``Question: ...`` / ``Answer: ...``. ``id`` is the row's own id when
it has one, else None (the reader then names the row by its position). A row that cannot be rendered (missing
field, empty conversation) raises :class:`InvalidRow` with a short reason; the reader turns that into a counted
exclusion, never a silent drop.

Formats (names used in registry.yaml):

- ``conversations``: ShareGPT / OpenHermes ``{"conversations": [{"from", "value"}]}``
- ``messages``: UltraChat / NuminaMath ``{"messages": [{"role", "content"}]}``
- ``openorca``: ``{"id", "system_prompt", "question", "response"}``
- ``alpaca``: CodeAlpaca / MathInstruct ``{"instruction", "input", "output"}``
- ``qa_answers``: NQ-open / HotpotQA ``{"question", "answer": str | [aliases]}``
- ``gsm8k``: ``{"question", "answer"}``, calculator annotations ``<<a*b=c>>`` removed, final ``#### N`` kept
- ``problem_solution``: NuminaMath ``{"problem", "solution"}`` or MetaMathQA ``{"query", "response"}``
- ``text``: one text column (``text_field``), e.g. code files
- ``apps``: ``{"question", "solutions": JSON list of programs}``
- ``squad``: the hub's flat rows ``{"id", "title", "context", "question", "answers": {"text": [...]}}`` or one
  article of the official nested JSON ``{"title", "paragraphs": [{"context", "qas": [...]}]}`` (one document per
  article: each paragraph followed by its questions; unanswerable ones say so)
- ``triviaqa``: the official format ``{"Question", "QuestionId", "Answer": {"Value", "Aliases"}}`` or the hub's
  ``{"question", "question_id", "answer": {"value", "aliases"}}``
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

ROLE_NAMES = {
    "human": "User",
    "user": "User",
    "gpt": "Assistant",
    "assistant": "Assistant",
    "chatgpt": "Assistant",
    "bing": "Assistant",
    "bard": "Assistant",
    "system": "System",
    "tool": "Tool",
    "function": "Tool",
}
GSM8K_ANNOTATION = re.compile(r"<<[^<>]*>>")
UNANSWERABLE = "(no answer in the context)"


class InvalidRow(ValueError):
    """A row that cannot be rendered as text; the message is the exclusion reason."""


def _field(row: dict[str, Any], *names: str) -> str:
    """The first of ``names`` that holds a non-empty string; raises InvalidRow naming them when none does."""
    for name in names:
        value = row.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()
    raise InvalidRow(f"missing_{'_or_'.join(names)}")


def _row_id(row: dict[str, Any], *names: str) -> str | None:
    for name in names:
        if row.get(name) not in (None, ""):
            return str(row[name])
    return None


def _turns(turns: Any, role_key: str, text_key: str) -> tuple[str, int]:
    if not isinstance(turns, list) or not turns:
        raise InvalidRow("empty_conversation")
    parts = []
    for turn in turns:
        if not isinstance(turn, dict):
            raise InvalidRow("malformed_turn")
        text = turn.get(text_key)
        if not isinstance(text, str) or not text.strip():
            continue
        role = str(turn.get(role_key, "")).lower()
        parts.append(f"{ROLE_NAMES.get(role, role.capitalize() or 'User')}: {text.strip()}")
    if not parts:
        raise InvalidRow("empty_conversation")
    return "\n\n".join(parts), len(parts)


def conversations(row: dict[str, Any]) -> dict[str, Any]:
    text, turns = _turns(row.get("conversations"), "from", "value")
    metadata = {"turns": turns}
    for key in ("source", "category"):
        if isinstance(row.get(key), str):
            metadata[f"upstream_{key}"] = row[key]
    return {"text": text, "id": _row_id(row, "id"), "metadata": metadata}


def messages(row: dict[str, Any]) -> dict[str, Any]:
    text, turns = _turns(row.get("messages"), "role", "content")
    return {"text": text, "id": _row_id(row, "prompt_id", "id"), "metadata": {"turns": turns}}


def openorca(row: dict[str, Any]) -> dict[str, Any]:
    parts = []
    if isinstance(row.get("system_prompt"), str) and row["system_prompt"].strip():
        parts.append(f"System: {row['system_prompt'].strip()}")
    parts.append(f"User: {_field(row, 'question')}")
    parts.append(f"Assistant: {_field(row, 'response')}")
    return {"text": "\n\n".join(parts), "id": _row_id(row, "id"), "metadata": {}}


def alpaca(row: dict[str, Any]) -> dict[str, Any]:
    instruction = _field(row, "instruction")
    extra = row.get("input")
    prompt = f"{instruction}\n\n{extra.strip()}" if isinstance(extra, str) and extra.strip() else instruction
    return {"text": f"User: {prompt}\n\nAssistant: {_field(row, 'output')}", "id": _row_id(row, "id"), "metadata": {}}


def _answers(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value.strip()] if value.strip() else []
    if isinstance(value, list):
        return [str(item).strip() for item in value if str(item).strip()]
    return []


def qa_answers(row: dict[str, Any]) -> dict[str, Any]:
    question = _field(row, "question")
    answers = _answers(row.get("answer", row.get("answers")))
    if not answers:
        raise InvalidRow("missing_answer")
    return {
        "text": f"Question: {question}\nAnswer: {answers[0]}",
        "id": _row_id(row, "id"),
        "metadata": {"answers": answers},
    }


def gsm8k(row: dict[str, Any]) -> dict[str, Any]:
    question = _field(row, "question")
    answer = GSM8K_ANNOTATION.sub("", _field(row, "answer"))
    final = answer.rsplit("####", 1)[1].strip() if "####" in answer else None
    metadata = {"final_answer": final} if final is not None else {}
    return {"text": f"Question: {question}\nAnswer: {answer}", "id": _row_id(row, "id"), "metadata": metadata}


def problem_solution(row: dict[str, Any]) -> dict[str, Any]:
    problem = _field(row, "problem", "query")
    solution = _field(row, "solution", "response")
    metadata = {"upstream_source": row["source"]} if isinstance(row.get("source"), str) else {}
    return {"text": f"Problem: {problem}\n\nSolution: {solution}", "id": _row_id(row, "id"), "metadata": metadata}


def text_column(row: dict[str, Any], text_field: str = "text") -> dict[str, Any]:
    metadata = {key: row[key] for key in ("lang", "language", "path", "max_stars_repo_name") if key in row}
    return {"text": _field(row, text_field), "id": _row_id(row, "id"), "metadata": metadata}


def apps(row: dict[str, Any]) -> dict[str, Any]:
    question = _field(row, "question")
    try:
        solutions = json.loads(row.get("solutions") or "[]")
    except json.JSONDecodeError as error:
        raise InvalidRow("solutions_not_json") from error
    if not solutions:
        raise InvalidRow("no_solution")
    return {
        "text": f"Problem: {question}\n\nSolution:\n{solutions[0]}",
        "id": _row_id(row, "problem_id", "id"),
        "metadata": {"difficulty": row.get("difficulty")},
    }


def _squad_qa(question: str, answers: list[str]) -> str:
    return f"Question: {question}\nAnswer: {answers[0] if answers else UNANSWERABLE}"


def squad(row: dict[str, Any]) -> dict[str, Any]:
    if "paragraphs" in row:  # one article of the official nested JSON
        title = str(row.get("title") or "").strip()
        blocks = [f"# {title}"] if title else []
        questions = 0
        for paragraph in row.get("paragraphs") or []:
            context = str(paragraph.get("context") or "").strip()
            qas = [
                _squad_qa(qa["question"].strip(), [answer["text"] for answer in qa.get("answers") or []])
                for qa in paragraph.get("qas") or []
                if str(qa.get("question") or "").strip()
            ]
            if context and qas:
                blocks.append("\n\n".join([context, *qas]))
                questions += len(qas)
        if not questions:
            raise InvalidRow("no_paragraph_with_questions")
        return {"text": "\n\n".join(blocks), "id": None, "metadata": {"title": title, "questions": questions}}
    context = _field(row, "context")
    question = _field(row, "question")
    answers = row.get("answers") or {}
    texts = answers.get("text", []) if isinstance(answers, dict) else [answer["text"] for answer in answers]
    return {
        "text": f"{context}\n\n{_squad_qa(question, texts)}",
        "id": _row_id(row, "id"),
        "metadata": {"title": row.get("title"), "answerable": bool(texts)},
    }


def triviaqa(row: dict[str, Any]) -> dict[str, Any]:
    question = _field(row, "Question", "question")
    answer = row.get("Answer") or row.get("answer") or {}
    value = answer.get("Value") or answer.get("value") if isinstance(answer, dict) else None
    if not value:
        raise InvalidRow("missing_answer")
    aliases = answer.get("Aliases") or answer.get("aliases") or []
    return {
        "text": f"Question: {question}\nAnswer: {value}",
        "id": _row_id(row, "QuestionId", "question_id"),
        "metadata": {"answers": [value, *[alias for alias in aliases if alias != value]]},
    }


ADAPTERS: dict[str, Callable[..., dict[str, Any]]] = {
    "conversations": conversations,
    "messages": messages,
    "openorca": openorca,
    "alpaca": alpaca,
    "qa_answers": qa_answers,
    "gsm8k": gsm8k,
    "problem_solution": problem_solution,
    "text": text_column,
    "apps": apps,
    "squad": squad,
    "triviaqa": triviaqa,
}


def convert_row(source_format: str, row: dict[str, Any], text_field: str | None = None) -> dict[str, Any]:
    """Render ``row`` with the adapter of ``source_format``; raises InvalidRow for a row it cannot render."""
    if source_format not in ADAPTERS:
        raise ValueError(f"unknown source format {source_format!r}; known: {', '.join(sorted(ADAPTERS))}")
    if source_format == "text":
        return text_column(row, text_field or "text")
    return ADAPTERS[source_format](row)
