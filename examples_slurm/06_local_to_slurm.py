"""Tutorial 06 (spec/06_local_to_slurm.md): tutorial 01's pipeline, unchanged, on a Slurm cluster.

Nothing of the pipeline changes: this script loads examples_local/01_basic_filtering.py and runs it with
--executor slurm by default and its own output folder. What changes is where the tasks run, which the shared
executor flags say (--partition, --time, --cpus-per-task, --mem-per-cpu-gb, --qos, --sbatch-arg, --venv-path),
and that submission returns at once unless you pass --wait.

    scripts/local-slurm up                                   # a real one-node cluster on localhost
    python examples_slurm/06_local_to_slurm.py --wait        # 4 tasks, one per input file
"""

from __future__ import annotations

import runpy
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# run_path executes tutorial 01 as a module named "<run_path>", so its main() does not start; its functions are
# then pickled by value into the Slurm job (dill cannot import a "<run_path>" module there)
TUTORIAL_01 = runpy.run_path(str(REPO / "examples_local" / "01_basic_filtering.py"))
DEFAULT_OUTPUT = REPO / "examples_slurm" / "output" / "06_local_to_slurm"


def main(argv: list[str] | None = None) -> int:
    parser = TUTORIAL_01["build_parser"](output=DEFAULT_OUTPUT, executor="slurm", tasks=4)
    parser.description = __doc__.split("\n\n")[0]
    return TUTORIAL_01["main"](argv, parser=parser)


if __name__ == "__main__":
    raise SystemExit(main())
