"""A real two-node Slurm cluster on this machine, for the SLURM profile tests.

slurmctld plus two slurmd daemons (nodes ``n1`` and ``n2``, both on 127.0.0.1, 2 CPUs and two
fake GPUs each via gres ``File=/dev/tty[1-2]``), munge authentication, no accounting database.
The config must live at
``/etc/slurm/slurm.conf``: the Snakemake jobstep strips ``SLURM_CONF`` inside jobs. An existing
config is moved aside and restored on stop; daemons are started and stopped by pid.

Manual use (as root):  python tests/slurm/rig.py start | stop | status
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SLURM_DIR = Path("/etc/slurm")
MARKER = "# geneint test rig"
NODES = ("n1", "n2")
CPUS_PER_NODE = 2
GPUS_PER_NODE = 2
MEM_MB_PER_NODE = 12000
PARTITION = "debug"
BINARIES = ("munged", "slurmctld", "slurmd", "sbatch", "srun", "squeue", "scontrol", "sinfo")


def missing_binaries() -> list[str]:
    return [b for b in BINARIES if shutil.which(b) is None and not Path("/usr/sbin", b).exists()]


def _binary(name: str) -> str:
    return shutil.which(name) or str(Path("/usr/sbin", name))


class SlurmRig:
    """Start/stop the cluster; ``state`` holds spool dirs, pid files and logs."""

    def __init__(self, state: Path | None = None):
        self.state = Path(state or tempfile.mkdtemp(prefix="geneint-slurm-"))
        self.backup: Path | None = None
        self.started_munged = False

    # --- configuration ------------------------------------------------------------------
    def slurm_conf(self) -> str:
        s = self.state
        nodes = "\n".join(
            f"NodeName={n} NodeHostname={n} NodeAddr=127.0.0.1 Port={6818 + i} "
            f"CPUs={CPUS_PER_NODE} RealMemory={MEM_MB_PER_NODE} Gres=gpu:{GPUS_PER_NODE} "
            "State=UNKNOWN"
            for i, n in enumerate(NODES)
        )
        return f"""{MARKER}
ClusterName=geneintci
SlurmctldHost={socket.gethostname()}(127.0.0.1)
AuthType=auth/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation={s}/ctld
SlurmdSpoolDir={s}/spool/%n
SlurmctldPidFile={s}/slurmctld.pid
SlurmdPidFile={s}/slurmd.%n.pid
SlurmctldLogFile={s}/slurmctld.log
SlurmdLogFile={s}/slurmd.%n.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
MinJobAge=600
KillWait=5
GresTypes=gpu
{nodes}
PartitionName={PARTITION} Nodes={','.join(NODES)} Default=YES MaxTime=INFINITE State=UP
"""

    def gres_conf(self) -> str:
        return (f"{MARKER}\nAutoDetect=off\n"
                f"NodeName={','.join(NODES)} Name=gpu File=/dev/tty[1-{GPUS_PER_NODE}]\n")

    def _install_config(self) -> None:
        SLURM_DIR.mkdir(parents=True, exist_ok=True)
        conf = SLURM_DIR / "slurm.conf"
        if conf.exists() and MARKER not in conf.read_text():
            self.backup = self.state / "slurm.conf.orig"
            shutil.copy2(conf, self.backup)
        conf.write_text(self.slurm_conf())
        (SLURM_DIR / "gres.conf").write_text(self.gres_conf())
        for sub in ("ctld", "spool"):
            (self.state / sub).mkdir(parents=True, exist_ok=True)
        hosts = Path("/etc/hosts")
        known = hosts.read_text()
        wanted = [n for n in NODES if not any(n in line.split()[1:] for line in known.splitlines()
                                                 if line.strip() and not line.startswith("#"))]
        if wanted:  # the node names must resolve (Lightning's MASTER_ADDR is the first node)
            hosts.write_text(known.rstrip("\n") + f"\n127.0.0.1 {' '.join(wanted)}\n")

    # --- daemons ------------------------------------------------------------------------
    def _start_munge(self) -> None:
        if subprocess.run(["munge", "-n"], capture_output=True, check=False).returncode == 0:
            return  # a munged is already serving this machine
        key = Path("/etc/munge/munge.key")
        if not key.exists():
            key.parent.mkdir(parents=True, exist_ok=True)
            key.write_bytes(os.urandom(1024))
            key.chmod(0o400)
        Path("/run/munge").mkdir(parents=True, exist_ok=True)
        subprocess.run([_binary("munged"), "--force",
                        f"--pid-file={self.state}/munged.pid"], check=True)
        self.started_munged = True
        _wait(lambda: subprocess.run(["munge", "-n"], capture_output=True,
                                     check=False).returncode == 0,
              10, "munged did not come up")

    def start(self) -> SlurmRig:
        problems = missing_binaries()
        if problems:
            raise RuntimeError(f"Slurm/munge binaries missing: {problems} "
                               "(apt-get install slurm-wlm munge)")
        self._install_config()
        self._start_munge()
        subprocess.run([_binary("slurmctld"), "-c"], check=True)
        _wait(lambda: subprocess.run(["scontrol", "ping"], capture_output=True,
                                     text=True, check=False).stdout.count("UP") > 0, 30,
              f"slurmctld did not answer; see {self.state}/slurmctld.log")
        for node in NODES:
            subprocess.run([_binary("slurmd"), "-N", node], check=True)
        _wait(self._nodes_idle, 60, f"nodes not idle; see {self.state}/slurmd.*.log")
        return self

    def _nodes_idle(self) -> bool:
        out = subprocess.run(["sinfo", "-h", "-N", "-o", "%N %t"], capture_output=True,
                             text=True, check=False).stdout.split("\n")
        states = dict(line.split() for line in out if line.strip())
        if any(s.startswith(("down", "drain")) for s in states.values()):
            subprocess.run(["scontrol", "update", f"nodename={','.join(NODES)}",
                            "state=resume"], capture_output=True, check=False)
        return all(states.get(n, "").startswith("idle") for n in NODES)

    def pids(self) -> dict[str, int]:
        files = {"slurmctld": self.state / "slurmctld.pid",
                 **{f"slurmd.{n}": self.state / f"slurmd.{n}.pid" for n in NODES}}
        if self.started_munged:
            files["munged"] = self.state / "munged.pid"
        pids = {}
        for name, path in files.items():
            try:
                pids[name] = int(path.read_text().strip())
            except (OSError, ValueError):
                pass
        return pids

    def stop(self) -> None:
        subprocess.run(["scancel", "--user=root"], capture_output=True, check=False)
        pids = self.pids()
        for pid in pids.values():
            _signal(pid, signal.SIGTERM)
        deadline = time.time() + 15
        while time.time() < deadline and any(_alive(p) for p in pids.values()):
            time.sleep(0.2)
        for pid in pids.values():
            _signal(pid, signal.SIGKILL)
        for proc in Path("/proc").glob("[0-9]*"):  # job steps left behind by a killed test
            try:
                if (proc / "comm").read_text().strip() == "slurmstepd":
                    _signal(int(proc.name), signal.SIGKILL)
            except OSError:
                pass
        if self.backup is not None:
            shutil.copy2(self.backup, SLURM_DIR / "slurm.conf")
        else:
            (SLURM_DIR / "slurm.conf").unlink(missing_ok=True)
        (SLURM_DIR / "gres.conf").unlink(missing_ok=True)
        shutil.rmtree(self.state, ignore_errors=True)


def rig_profile(dest: Path) -> Path:
    """profiles/slurm with only partition, account and sizes changed for this two-node rig.

    The thread counts differ from the rules' own defaults (training 8 and estimators 4, capped
    at a node's 2 CPUs; pretraining 1), so a job that gets the profile's count shows it."""
    from workflow_runs import slurm_profile_with

    return slurm_profile_with(
        dest, gpu_partition=PARTITION, cpu_partition=PARTITION, account=None,
        train_nodes=len(NODES), gpus_per_node=GPUS_PER_NODE, cpus_per_gpu=1,
        train_mem_mb=3000, train_runtime=30, pretrain_cpus=CPUS_PER_NODE, pretrain_mem_mb=2000,
        pretrain_runtime=30, estimator_cpus=1, estimator_mem_mb=2000)


# The rig has no accounting database: poll with squeue, and start polling early.
RIG_FLAGS = ("--slurm-status-command", "squeue", "--slurm-init-seconds-before-status-checks", "2",
             "--latency-wait", "5")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _wait(condition, seconds: float, message: str) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if condition():
            return
        time.sleep(0.5)
    raise RuntimeError(message)


if __name__ == "__main__":
    state = Path(os.environ.get("GENEINT_RIG_STATE", "/tmp/geneint-slurm-rig"))
    rig = SlurmRig(state)
    command = sys.argv[1] if len(sys.argv) > 1 else "status"
    if command == "start":
        rig.start()
        print(f"rig up; state in {state}")
    elif command == "stop":
        rig.started_munged = (state / "munged.pid").exists()
        rig.stop()
        print("rig stopped")
    else:
        print(subprocess.run(["sinfo", "-N", "-l"], capture_output=True, text=True,
                             check=False).stdout)
