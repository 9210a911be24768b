import json
import os

import pytest

from trove_blocks.io import atomic_output, files_fingerprint, write_json_atomic


def test_atomic_output_replaces_whole_file(tmp_path):
    target = tmp_path / "sub" / "out.txt"
    with atomic_output(target) as handle:
        handle.write("first")
    with atomic_output(target) as handle:
        handle.write("second")
        assert target.read_text() == "first"  # nothing visible before the rename
    assert target.read_text() == "second"
    assert [p.name for p in target.parent.iterdir()] == ["out.txt"]


def test_atomic_output_leaves_old_file_on_error(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_output(target, "wb") as handle:
        handle.write(b"half")
        raise RuntimeError("killed")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_write_json_atomic(tmp_path):
    write_json_atomic(tmp_path / "s.json", {"b": 1, "a": "é"})
    assert json.loads((tmp_path / "s.json").read_text()) == {"b": 1, "a": "é"}
    with pytest.raises(ValueError):
        with atomic_output(tmp_path / "x", "a"):
            pass


def test_atomic_output_gives_ordinary_permissions(tmp_path):
    import os

    umask = os.umask(0o022)
    os.umask(umask)
    with atomic_output(tmp_path / "f.txt") as handle:
        handle.write("x")
    assert (tmp_path / "f.txt").stat().st_mode & 0o777 == 0o666 & ~umask


def test_link_atomic_links_and_falls_back_to_a_copy(tmp_path, monkeypatch):
    import os

    from trove_blocks.io import link_atomic

    source = tmp_path / "work.jsonl"
    source.write_bytes(b'{"a": 1}\n')
    target = tmp_path / "out" / "train.jsonl"
    target.parent.mkdir()
    target.write_bytes(b"old\n")
    link_atomic(source, target)
    assert target.stat().st_ino == source.stat().st_ino and target.read_bytes() == source.read_bytes()

    def no_links(*args):
        raise OSError("hard links not supported here")

    monkeypatch.setattr(os, "link", no_links)
    copied = tmp_path / "out" / "val.jsonl"
    link_atomic(source, copied)
    assert copied.read_bytes() == source.read_bytes() and copied.stat().st_ino != source.stat().st_ino
    assert sorted(p.name for p in target.parent.iterdir()) == ["train.jsonl", "val.jsonl"]  # no temporary left


def test_files_fingerprint_follows_names_sizes_and_times(tmp_path):
    folder = tmp_path / "data"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.jsonl").write_text("one")
    (folder / "sub" / "b.jsonl").write_text("two")
    seen = {files_fingerprint(folder), files_fingerprint(folder / "a.jsonl")}
    assert files_fingerprint(folder) in seen and files_fingerprint(tmp_path / "nothing") == "missing"
    for change in (
        lambda: (folder / "a.jsonl").write_text("three"),  # size
        lambda: os.utime(folder / "a.jsonl", ns=(1, 1)),  # modification time
        lambda: (folder / "sub" / "c.jsonl").write_text(""),  # a new file
        lambda: (folder / "sub" / "b.jsonl").rename(folder / "sub" / "d.jsonl"),  # a renamed one
    ):
        change()
        assert files_fingerprint(folder) not in seen
        seen.add(files_fingerprint(folder))
