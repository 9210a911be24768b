import json

from datatrove.data import Document

from trove_blocks.writers.atomic_jsonl import AtomicJsonlWriter


def test_files_appear_only_on_success_with_tallies(tmp_path):
    writer = AtomicJsonlWriter(
        str(tmp_path / "out"), "${split}/${rank}.jsonl", tally_keys=("split",), tally_folder=str(tmp_path / "t")
    )
    docs = [Document(text=str(i), id=str(i), metadata={"split": "train" if i % 3 else "val"}) for i in range(7)]
    stream = writer.run(iter(docs), rank=2)
    next(stream)
    assert not (tmp_path / "out" / "train" / "00002.jsonl").exists()  # not committed mid-run
    list(stream)
    assert len((tmp_path / "out" / "train" / "00002.jsonl").read_text().splitlines()) == 4
    assert json.loads((tmp_path / "t" / "00002.json").read_text()) == {"documents": 7, "by": {"train": 4, "val": 3}}


def test_failed_task_leaves_no_file(tmp_path):
    writer = AtomicJsonlWriter(str(tmp_path))

    def broken():
        yield Document(text="a", id="1", metadata={"filter_reason": "x"})
        raise RuntimeError("task died")

    try:
        list(writer.run(broken(), rank=0))
    except RuntimeError:
        pass
    assert list(tmp_path.iterdir()) == []
