"""Ids never become paths unchecked."""

from __future__ import annotations

import pytest

from trove_blocks.finewiki.paths import UnsafePathError, check_name, image_relpath, inside


@pytest.mark.parametrize("bad", ["../../x", "..", ".hidden", "a/b", "/etc/passwd", "a\\b", "", "x" * 300, "é"])
def test_unsafe_ids_are_refused(bad):
    with pytest.raises(UnsafePathError):
        image_relpath("tiny", bad)


def test_safe_ids_give_the_seed_layout():
    assert image_relpath("base", "sample_000001_chunk_0") == "images/base/sample_000001_chunk_0.png"
    assert check_name("sample_1.chunk-2") == "sample_1.chunk-2"


def test_inside_refuses_paths_that_leave_the_root(tmp_path):
    assert inside(tmp_path, "images/a.png") == tmp_path.resolve() / "images" / "a.png"
    for escape in ("../x", "images/../../x", "/tmp/x"):
        with pytest.raises(UnsafePathError):
            inside(tmp_path, escape)
