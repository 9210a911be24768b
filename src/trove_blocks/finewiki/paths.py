"""Output paths built from sample ids, checked so that no id (``../../x``, ``/etc/x``, ``a/b``) leaves the output.

Ids are data: an id becomes a file name only when it is a plain name (letters, digits, ``.``, ``_``, ``-``, not
starting with a dot, at most 200 characters), and the joined path is checked to stay inside the output folder.
Titles never become paths.
"""

from __future__ import annotations

import re
from pathlib import Path

_SAFE_NAME = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$")


class UnsafePathError(ValueError):
    """An id that cannot be used as a file name inside the output folder."""


def check_name(name: str) -> str:
    """``name`` unchanged when it is a safe single file-name component; else :class:`UnsafePathError`."""
    if not isinstance(name, str) or not _SAFE_NAME.match(name):
        raise UnsafePathError(f"unsafe id {name!r}: ids used as file names must match {_SAFE_NAME.pattern}")
    return name


def image_relpath(mode: str, sample_id: str, extension: str = "png") -> str:
    """The seed's layout ``images/<mode>/<id>.png`` (posix, relative to the output folder)."""
    return f"images/{check_name(mode)}/{check_name(sample_id)}.{check_name(extension)}"


def inside(root: str | Path, relpath: str) -> Path:
    """``root / relpath``, refusing any result that resolves outside ``root``."""
    root = Path(root).resolve()
    target = (root / relpath).resolve()
    if target != root and root not in target.parents:
        raise UnsafePathError(f"path {relpath!r} leaves the output folder {root}")
    return target
