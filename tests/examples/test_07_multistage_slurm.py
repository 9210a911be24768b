import pytest

SCRIPT = "examples_slurm/07_multistage_slurm.py"


@pytest.mark.slurm
def test_07_four_minhash_stages_on_slurm_resume_and_match_the_spec(
    slurm_cluster, script, tmp_path, spec_summary, printed_summary
):
    args = ("--wait", "--output", tmp_path, "--logging-dir", tmp_path / "logs")
    summary = printed_summary(script(SCRIPT, *args))
    assert summary == spec_summary("07_multistage_slurm")
    assert summary["removed_by_source"]["gsm8k"] == 5  # each main/socratic GSM8K pair lost one member
    again = script(SCRIPT, *args)
    assert printed_summary(again) == summary
    assert again.stderr.count("Skipping launch") == 4 and "Launching Slurm job" not in again.stderr


def test_07_same_stages_run_locally(script, tmp_path, spec_summary, printed_summary):
    done = script(SCRIPT, "--executor", "local", "--output", tmp_path, "--logging-dir", tmp_path / "logs")
    assert printed_summary(done) == spec_summary("07_multistage_slurm")
