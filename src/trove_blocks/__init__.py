"""trove_blocks: DataTrove-native pipeline blocks and scripts that prepare training data.

Public API, re-exported here:
- the executor interface every script uses (:mod:`trove_blocks.executors`: flags -> Local/Slurm/Ray executors,
  stage chaining, --wait, the end-of-run summary);
- the blocks, by role as in datatrove: :mod:`trove_blocks.readers`, :mod:`~trove_blocks.filters`,
  :mod:`~trove_blocks.taggers`, :mod:`~trove_blocks.formatters`, :mod:`~trove_blocks.writers`;
- offline-first tokenizer loading (:func:`load_tokenizer`).
Names are imported on first use (PEP 562): ``import trove_blocks.synsql`` or a training loader does not pay for
datatrove's executors (~0.35 s, most of it huggingface_hub), and a script loads only the blocks it names.
Training loaders (MLX) are in :mod:`trove_blocks.loaders`; domain logic without datatrove in
:mod:`~trove_blocks.synsql`, :mod:`~trove_blocks.curriculum`, :mod:`~trove_blocks.finewiki`,
:mod:`~trove_blocks.tabular`, :mod:`~trove_blocks.packing`, :mod:`~trove_blocks.manifest`, :mod:`~trove_blocks.render`,
:mod:`~trove_blocks.splits`, :mod:`~trove_blocks.json_stream` (JSON arrays and JSON lines streamed by byte range).
"""

from __future__ import annotations

import importlib
import importlib.util

#: the executor interface and tokenizer loading, by module
_MODULE_EXPORTS = {
    "trove_blocks.executors": (
        "ExecutionSettings",
        "RunReport",
        "Stage",
        "StageReport",
        "UsageError",
        "add_executor_arguments",
        "finish",
        "parse_settings",
        "run_stages",
        "script_settings",
        "settings_from_args",
        "wait_for_slurm_jobs",
    ),
    "trove_blocks.tokenizers": (
        "TokenizerLoadError",
        "check_tokenizer_flag",
        "load_tokenizer",
        "tokenizer_file",
        "tokenizer_inputs",
    ),
}
_HOME = {name: module for module, names in _MODULE_EXPORTS.items() for name in names}
#: the block packages by role; each one's ``__all__`` is re-exported here
_ROLE_PACKAGES = tuple(f"trove_blocks.{role}" for role in ("readers", "filters", "taggers", "formatters", "writers"))


def __getattr__(name: str):
    """A public name, a subpackage or a block of a role package, imported on first access (PEP 562)."""
    if name == "__all__":
        value = [export for package in _ROLE_PACKAGES for export in importlib.import_module(package).__all__]
        value += list(_HOME)
    elif name in _HOME:
        value = getattr(importlib.import_module(_HOME[name]), name)
    elif name.startswith("__"):
        raise AttributeError(f"module 'trove_blocks' has no attribute {name!r}")
    elif importlib.util.find_spec(f"trove_blocks.{name}") is not None:  # a subpackage or module
        value = importlib.import_module(f"trove_blocks.{name}")
    else:
        for package in map(importlib.import_module, _ROLE_PACKAGES):
            if name in package.__all__:
                value = getattr(package, name)
                break
        else:
            raise AttributeError(f"module 'trove_blocks' has no attribute {name!r}")
    globals()[name] = value  # looked up once
    return value


def __dir__() -> list[str]:
    """What is imported already and every public name (for completion in a REPL or an editor)."""
    return sorted({*globals(), *__getattr__("__all__")})
