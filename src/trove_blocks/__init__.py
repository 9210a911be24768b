"""trove_blocks: DataTrove-native pipeline blocks and scripts that prepare training data.

Public API, re-exported here:
- the executor interface every script uses (:mod:`trove_blocks.executors`: flags -> Local/Slurm/Ray executors,
  stage chaining, --wait, the end-of-run summary);
- the blocks, by role as in datatrove: :mod:`trove_blocks.readers`, :mod:`~trove_blocks.filters`,
  :mod:`~trove_blocks.taggers`, :mod:`~trove_blocks.formatters`, :mod:`~trove_blocks.writers`;
- offline-first tokenizer loading (:func:`load_tokenizer`).
Training loaders (MLX) are in :mod:`trove_blocks.loaders`; domain logic without datatrove in
:mod:`~trove_blocks.synsql`, :mod:`~trove_blocks.curriculum`, :mod:`~trove_blocks.finewiki`,
:mod:`~trove_blocks.tabular`, :mod:`~trove_blocks.packing`, :mod:`~trove_blocks.manifest`, :mod:`~trove_blocks.render`,
:mod:`~trove_blocks.splits`.
"""

from trove_blocks.executors import (
    ExecutionSettings,
    RunReport,
    Stage,
    StageReport,
    UsageError,
    add_executor_arguments,
    finish,
    parse_settings,
    run_stages,
    script_settings,
    settings_from_args,
    wait_for_slurm_jobs,
)
from trove_blocks.filters import *  # noqa: F403
from trove_blocks.filters import __all__ as _filters
from trove_blocks.formatters import *  # noqa: F403
from trove_blocks.formatters import __all__ as _formatters
from trove_blocks.readers import *  # noqa: F403
from trove_blocks.readers import __all__ as _readers
from trove_blocks.taggers import *  # noqa: F403
from trove_blocks.taggers import __all__ as _taggers
from trove_blocks.tokenizers import TokenizerLoadError, load_tokenizer, tokenizer_file
from trove_blocks.writers import *  # noqa: F403
from trove_blocks.writers import __all__ as _writers

__all__ = [
    *_readers,
    *_filters,
    *_taggers,
    *_formatters,
    *_writers,
    "TokenizerLoadError",
    "load_tokenizer",
    "tokenizer_file",
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
]
