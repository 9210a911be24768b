import re

import pytest

SCRIPT = "examples_slurm/08_production_pipeline.py"


@pytest.mark.slurm
def test_08_killed_rank_then_rerun_gives_the_uninterrupted_output(
    slurm_cluster, script, tmp_path, spec_summary, printed_summary
):
    args = ("--wait", "--kill-rank-once", "1", "--output", tmp_path, "--logging-dir", tmp_path / "logs")
    killed = script(SCRIPT, *args)
    assert killed.returncode == 1, killed.stdout[-2000:] + killed.stderr[-2000:]
    assert "stage extract_filter: FAILED 1/4 ranks [1]" in killed.stdout
    assert "stage tokenize: NOT RUN" in killed.stdout
    assert (tmp_path / "kill_markers" / "extract_filter_rank1").is_file()
    resumed = script(SCRIPT, *args)
    # the spec quotes an uninterrupted run: same counts and the same digest of documents and token files
    assert printed_summary(resumed) == spec_summary("08_production_pipeline")
    relaunched = re.search(r"Launching Slurm job 08_production\.extract_filter\.\w+ \((\d+) tasks\)", resumed.stderr)
    assert relaunched and relaunched.group(1) == "1"  # only the killed rank ran again
