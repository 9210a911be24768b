"""trove_blocks: DataTrove-native pipeline blocks and scripts that prepare training data.

Public API: the executor interface every script uses (flags -> Local/Slurm/Ray executors, stage chaining,
--wait) lives in :mod:`trove_blocks.executors` and is re-exported here.
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

__all__ = [
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
