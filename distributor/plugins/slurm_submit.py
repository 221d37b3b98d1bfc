"""What to ask sbatch for: options from resources, array chunks, the job script (pure)."""

from __future__ import annotations

import json
import math
import re
import shlex
from collections.abc import Iterable, Mapping, Sequence
from pathlib import PurePath
from typing import Any, TypeVar

from jobmon import logs, wire
from jobmon.errors import InvalidResources
from jobmon.resources import format_runtime, parse_cores, parse_memory_mib, parse_runtime_seconds
from jobmon.settings import without_secrets

T = TypeVar("T")

# Resource keys and the sbatch option each becomes (see jobmon.clusters for the key list).
SBATCH_OPTIONS: Mapping[str, str] = {
    "cores": "--cpus-per-task",
    "memory": "--mem",
    "runtime": "--time",
    "queue": "--partition",
    "project": "--account",
    "constraint": "--constraint",
    "gres": "--gres",
    "qos": "--qos",
    "nodelist": "--nodelist",
    "exclude": "--exclude",
    "reservation": "--reservation",
    "licenses": "--licenses",
    "tmp": "--tmp",
    "ntasks": "--ntasks",
    "nodes": "--nodes",
    "mail_type": "--mail-type",
    "mail_user": "--mail-user",
    "comment": "--comment",
}

# sbatch's words for "the controller is busy or unreachable; the same request may work later".
_TRANSIENT = re.compile(
    r"socket timed out|unable to contact slurm controller|resource temporarily unavailable|"
    r"temporarily unable to accept job|connection refused|connection reset|"
    r"transport endpoint is not connected|zero bytes were transmitted|"
    r"communication connection failure|slurmctld is not responding|"
    r"slurm_persist_conn|timed out",
    re.IGNORECASE,
)


class SubmitError(ValueError):
    """A request that cannot be turned into sbatch options; nothing was submitted."""


def submit_environment(environ: Mapping[str, str], service_url: str) -> dict[str, str]:
    """The environment for Slurm's commands, which jobs inherit from sbatch.

    A distributor that itself runs in a Slurm job (a workflow script submitted with sbatch)
    carries that job's SLURM_* variables; a job inheriting them would think it is the
    other job (srun steps would use its ids and sizes). Slurm sets the new job's own.
    The distributor's own credentials stay here: each worker gets one for its instance
    (``job_script``), and the command it runs gets none.
    """
    environment = {key: value for key, value in without_secrets(environ, keep_config_file=True)
                   .items() if not key.startswith("SLURM_") or key == "SLURM_CONF"}
    if service_url:  # the workers report here, whatever config file the nodes have
        environment["JOBMON__HTTP__SERVICE_URL"] = service_url
    return environment


def slurm_time(seconds: int) -> str:
    """--time for a runtime: whole minutes, rounded up (Slurm does the same), at least one."""
    minutes = max(1, math.ceil(seconds / 60))
    return format_runtime(minutes * 60)


def _plain(key: str, value: Any) -> str:
    text = str(value).strip()
    if isinstance(value, bool) or not text or any(c in text for c in "\n\r\0"):
        raise SubmitError(f"resource {key}={value!r} cannot be passed to sbatch")
    return text


def sbatch_options(resources: Mapping[str, Any]) -> list[str]:
    """sbatch options for canonical resources (memory in MiB, runtime in seconds)."""
    options: list[str] = []
    try:
        for key in sorted(resources):
            value = resources[key]
            if key in logs.STREAMS:  # where the worker writes the command's output
                continue
            option = SBATCH_OPTIONS.get(key)
            if option is None:
                raise SubmitError(
                    f"Slurm has no option for the resource {key!r}; it accepts "
                    f"{', '.join(sorted(SBATCH_OPTIONS))}"
                )
            if value is None:
                continue
            if key == "memory":
                mib = value if isinstance(value, int) and value > 0 else parse_memory_mib(value)
                options.append(f"{option}={mib}M")
            elif key == "runtime":
                options.append(f"{option}={slurm_time(parse_runtime_seconds(value))}")
            elif key == "cores":
                options.append(f"{option}={parse_cores(value)}")
            else:
                options.append(f"{option}={_plain(key, value)}")
    except InvalidResources as error:
        raise SubmitError(str(error)) from None
    return options


def sbatch_argv(
    *,
    count: int,
    job_name: str,
    stdout_pattern: PurePath,
    stderr_pattern: PurePath,
    script: PurePath,
    options: Sequence[str],
    limit: int | None = None,
) -> list[str]:
    """One array submission of ``count`` tasks, indices 0 to count - 1."""
    array = f"0-{count - 1}" + (f"%{limit}" if limit else "")
    return [
        "sbatch", "--parsable", f"--array={array}", f"--job-name={job_name}",
        # a requeued job would run its instance a second time
        "--no-requeue",
        f"--output={stdout_pattern}", f"--error={stderr_pattern}",
        *options,
        str(script),
    ]


def _bash_array(name: str, values: Sequence[str], per_line: int) -> str:
    lines = [" ".join(values[start:start + per_line])
             for start in range(0, len(values), per_line)]
    body = "\n    ".join(lines)
    return f"{name}=(\n    {body}\n)\n"


def job_script(python: str, instance_ids: Sequence[int],
               credentials: Sequence[str] = (), worker_arguments: Sequence[str] = ()) -> str:
    """A bash script that runs array task N as ``jobmon worker`` for the N-th instance.

    With ``credentials`` (one per instance, from the claim), the worker of instance N
    reports with the N-th: it can report on that instance only. ``worker_arguments`` give
    the worker its settings (``WorkerSettings.arguments``), so that it reads no
    configuration.
    """
    script = (
        "#!/bin/bash\n"
        "# Generated by jobmon: array task N runs the N-th task instance below.\n"
        + _bash_array("ids", [str(i) for i in instance_ids], 16)
        + 'id="${ids[${SLURM_ARRAY_TASK_ID:-0}]}"\n'
        'if [ -z "$id" ]; then\n'
        '    echo "jobmon: no task instance for array index ${SLURM_ARRAY_TASK_ID}" >&2\n'
        "    exit 1\n"
        "fi\n"
    )
    if any(credentials):
        script += (_bash_array("credentials", [shlex.quote(c) for c in credentials], 1)
                   + 'export JOBMON__HTTP__TOKEN="${credentials[${SLURM_ARRAY_TASK_ID:-0}]}"\n')
    else:
        script += 'export JOBMON__HTTP__TOKEN=""\n'
    # the worker's own entry point, not `jobmon worker`: the CLI's imports would cost every
    # job more CPU than the worker's whole run
    options = "".join(f" {shlex.quote(argument)}" for argument in worker_arguments)
    return script + (f'exec {shlex.quote(python)} -m jobmon.distributor.worker '
                     f'--task-instance-id "$id"{options}\n')


def group_key(instance: wire.ClaimedInstance) -> tuple[int, int, str]:
    """Instances with the same key go into one array: same workflow, array, resources."""
    resources = json.dumps(instance.compute_resources, sort_keys=True, default=str)
    return instance.workflow_id, instance.array_id, resources


def group_instances(
    instances: Iterable[wire.ClaimedInstance],
) -> list[list[wire.ClaimedInstance]]:
    groups: dict[tuple[int, int, str], list[wire.ClaimedInstance]] = {}
    for instance in instances:
        groups.setdefault(group_key(instance), []).append(instance)
    return list(groups.values())


def chunks(items: Sequence[T], size: int) -> list[Sequence[T]]:
    """Consecutive pieces of at most ``size`` (an array may hold MaxArraySize tasks)."""
    size = max(1, size)
    return [items[start:start + size] for start in range(0, len(items), size)]


def is_transient(message: str) -> bool:
    """Whether sbatch failed because the controller was busy or unreachable."""
    return bool(_TRANSIENT.search(message))


def parse_job_id(stdout: str) -> int:
    """The job id ``sbatch --parsable`` printed ('123' or '123;cluster')."""
    first = stdout.strip().splitlines()[0] if stdout.strip() else ""
    match = re.fullmatch(r"(\d+)(?:;\S*)?", first.strip())
    if match is None:
        raise ValueError(f"sbatch printed {stdout.strip()[:200]!r} instead of a job id")
    return int(match.group(1))


def scheduler_message(stderr: str, returncode: int) -> str:
    """sbatch's complaint in one line, without its 'sbatch: error:' prefixes."""
    parts = []
    for line in stderr.splitlines():
        text = re.sub(r"^(sbatch|scancel|squeue):\s*(error:\s*)?", "", line.strip())
        if text and text not in parts:
            parts.append(text)
    message = "; ".join(parts) or f"sbatch exited with code {returncode} and no message"
    return message[:4000]
