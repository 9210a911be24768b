"""Rebuild examples_local/data/real_text/part-0000{0..3}.jsonl from the real public slices in ../shared/data/real.

The tutorials need real text of mixed lengths: Wikipedia paragraphs (WikiText-2, FineWiki), math word problems
with worked answers (GSM8K), chat transcripts (ShareGPT), and one-line questions (Natural Questions, TriviaQA,
SynSQL, Spider), dealt round-robin into 4 shards so that up to 4 tasks have a file each. Each line is
{"text", "id", "source", "licence"}; sources and licences are in examples_local/data/README.md.
Usage: python scripts/build_tutorial_text.py [--real ../shared/data/real]
"""

import argparse
import json
from pathlib import Path


def wikitext_paragraphs(path: Path):
    title = None
    count = 0
    for line in path.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("= ") and not stripped.startswith("= = "):
            title, count = stripped.strip("= ").strip(), 0
            continue
        if stripped.startswith("= = "):
            continue
        yield {"text": stripped, "id": f"wikitext2/{title}/{count}", "source": "wikitext-2", "licence": "CC BY-SA 3.0"}
        count += 1


def records(real: Path):
    yield from wikitext_paragraphs(real / "wiki" / "wikitext2_test_first3articles.txt")
    for line in (real / "wiki" / "finewiki_derived_ucrel_bill_gutteron.jsonl").read_text().splitlines():
        row = json.loads(line)
        yield {"text": row["text"], "id": row["id"], "source": "finewiki", "licence": "CC BY-SA 4.0"}
    for name in ("gsm8k_test_head30.jsonl", "gsm8k_test_socratic_head5.jsonl"):
        for i, line in enumerate((real / "curriculum" / name).read_text().splitlines()):
            row = json.loads(line)
            text = f"{row['question']}\n{row['answer']}"
            yield {"text": text, "id": f"{Path(name).stem}/{i}", "source": "gsm8k", "licence": "MIT"}
    for i, line in enumerate((real / "curriculum" / "nq_open_dev_head30.jsonl").read_text().splitlines()):
        row = json.loads(line)
        yield {"text": row["question"], "id": f"nq_open/{i}", "source": "natural-questions", "licence": "CC BY-SA 3.0"}
    squad = json.loads((real / "curriculum" / "squad_v2_dev_sample.json").read_text())
    for article in squad["data"]:
        for j, paragraph in enumerate(article["paragraphs"]):
            yield {
                "text": paragraph["context"],
                "id": f"squad_v2/{article['title']}/{j}",
                "source": "squad-v2",
                "licence": "CC BY-SA 4.0",
            }
    for row in json.loads((real / "curriculum" / "fastchat_dummy_conversation_sharegpt_format_20.json").read_text()):
        text = "\n".join(f"{turn['from']}: {turn['value']}" for turn in row["conversations"])
        yield {"text": text, "id": f"sharegpt/{row['id']}", "source": "fastchat-sharegpt", "licence": "Apache-2.0"}
    for i, row in enumerate(json.loads((real / "text2sql" / "synsql_data_sample.json").read_text())):
        yield {"text": row["question"], "id": f"synsql/{i}", "source": "synsql-2.5m", "licence": "Apache-2.0"}
    for i, row in enumerate(json.loads((real / "text2sql" / "spider_dev_slice.json").read_text())):
        yield {"text": row["question"], "id": f"spider/{i}", "source": "spider", "licence": "CC BY-SA 4.0"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    here = Path(__file__).resolve().parent.parent
    parser.add_argument(
        "--real", type=Path, default=here.parent / "shared" / "data" / "real", help="folder of the real data slices"
    )
    parser.add_argument(
        "--output", type=Path, default=here / "examples_local" / "data" / "real_text", help="folder of the shards"
    )
    parser.add_argument("--shards", type=int, default=4, help="number of JSONL files")
    args = parser.parse_args()
    rows = list(records(args.real))
    args.output.mkdir(parents=True, exist_ok=True)
    for shard in range(args.shards):
        path = args.output / f"part-{shard:05d}.jsonl"
        tmp = path.with_suffix(".tmp")
        lines = (json.dumps(row, ensure_ascii=False) + "\n" for row in rows[shard :: args.shards])
        tmp.write_text("".join(lines), encoding="utf-8")
        tmp.replace(path)
    print(f"wrote {len(rows)} documents to {args.output} ({args.shards} shards)")


if __name__ == "__main__":
    main()
