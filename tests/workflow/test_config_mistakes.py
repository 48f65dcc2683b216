"""Mistakes a user makes in config files and profiles are reported where the user looks — the
file and key that hold the bad value — before any job runs (dry runs of the real workflow)."""

from __future__ import annotations

from workflow_runs import slurm_profile_with


def _failure(snakemake, root, *args) -> str:
    proc = snakemake(root, "-n", *args, check=False)
    assert proc.returncode != 0
    return proc.stdout + proc.stderr


def test_a_bad_value_names_the_configfile_and_key_that_set_it(workflow_copy, snakemake):
    (workflow_copy / "mine.yaml").write_text("train:\n  epochs: many\n  lr: 0.1\n")
    out = _failure(snakemake, workflow_copy, "--configfile", "mine.yaml",
                   "--config", "pretrain={epochs: -1}")
    assert "mine.yaml: train.epochs: 'many' is not of type 'integer'" in out
    assert "mine.yaml: train.lr: unknown key; known here: epochs," in out
    assert "--config: pretrain.epochs: -1 is less than the minimum of 1" in out
    assert "common.smk" not in out and "Failed validating" not in out


def test_a_bad_sweep_value_names_the_sweep_file(workflow_copy, snakemake):
    (workflow_copy / "mysweep.yaml").write_text(
        "grid:\n  model: [dango, gpt]\n  split: [random0]\nmodels:\n  dango: {dim: [abc]}\n"
        "seeds: [0]\n")
    out = _failure(snakemake, workflow_copy, "--config", "sweep=mysweep.yaml")
    assert "mysweep.yaml: grid.model[1]: 'gpt' is not one of" in out
    assert "mysweep.yaml: models.dango.dim[0]: 'abc' is not of type 'integer'" in out
    assert "common.smk" not in out


def test_the_slurm_profile_placeholders_stop_a_run_but_not_a_dry_run(workflow_copy, snakemake):
    profile = slurm_profile_with(workflow_copy / "site", account="CHANGE-ME")
    dry = snakemake(workflow_copy, "-n", "--profile", "site")
    assert "placeholders (default-resources: slurm_account)" in dry.stdout + dry.stderr
    run = snakemake(workflow_copy, "--profile", str(profile), check=False)
    assert run.returncode != 0
    assert "geneint: configuration error\nthe profile still has placeholders" in run.stderr
    assert "Submitted" not in run.stdout + run.stderr
