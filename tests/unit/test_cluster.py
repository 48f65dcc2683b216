"""DDP geometry from the launcher's environment, and which checkpoint a restarted job resumes."""

from __future__ import annotations

import os
import time

import pytest

from geneint.train.cluster import launch_geometry, process_rank, resume_checkpoint

SRUN_2x2 = {"SLURM_NTASKS": "4", "SLURM_NTASKS_PER_NODE": "2", "SLURM_NNODES": "2",
            "SLURM_PROCID": "3", "SLURM_JOB_NAME": "a1b2"}


def test_srun_geometry_is_taken_from_slurm():
    geometry = launch_geometry(env=SRUN_2x2)
    assert (geometry.devices, geometry.num_nodes, geometry.world_size) == (2, 2, 4)
    assert geometry.launcher == "slurm"
    assert process_rank(SRUN_2x2) == 3


def test_explicit_values_that_contradict_the_launch_are_errors():
    with pytest.raises(ValueError, match="--devices 4 disagrees"):
        launch_geometry(devices="4", env=SRUN_2x2)
    with pytest.raises(ValueError, match="--num-nodes 1 disagrees"):
        launch_geometry(num_nodes=1, env=SRUN_2x2)
    assert launch_geometry(devices="2", num_nodes=2, env=SRUN_2x2).world_size == 4


def test_many_tasks_without_a_uniform_tasks_per_node_are_refused():
    env = {**SRUN_2x2, "SLURM_NTASKS_PER_NODE": "2(x2)"}
    with pytest.raises(RuntimeError, match="--ntasks-per-node"):
        launch_geometry(env=env)


def test_interactive_allocations_and_plain_runs_are_single_process_unless_asked():
    interactive = {**SRUN_2x2, "SLURM_JOB_NAME": "interactive"}
    assert launch_geometry(env=interactive).world_size == 1
    assert launch_geometry(env={}).world_size == 1
    assert launch_geometry(devices="2", env={}).devices == 2  # Lightning spawns the others


def test_torchrun_and_submitit_local_variables():
    env = {"WORLD_SIZE": "4", "LOCAL_WORLD_SIZE": "2", "RANK": "1", "LOCAL_RANK": "1"}
    geometry = launch_geometry(env=env)
    assert (geometry.devices, geometry.num_nodes) == (2, 2)
    assert process_rank(env) == 1


def test_the_newest_checkpoint_is_resumed(tmp_path):
    assert resume_checkpoint(tmp_path) is None
    (tmp_path / "last.ckpt").write_bytes(b"a")
    assert resume_checkpoint(tmp_path).name == "last.ckpt"
    requeued = tmp_path / "requeue_1.ckpt"
    requeued.write_bytes(b"b")
    later = time.time() + 5
    os.utime(requeued, (later, later))  # saved on SIGUSR1, after the last epoch
    assert resume_checkpoint(tmp_path) == requeued
