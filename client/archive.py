"""One .tar.gz of a workflow: a JSON manifest, the tasks' outputs, and their log files.

The archive is written where the command runs, because the stdout and stderr files live
on that machine's (shared) file system, not on the server's. A log file goes in only if
it is where jobmon.logs puts that instance's logs, and only if the workflow's owner could
read it: an admin's archive never ships a file a user merely named.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import tarfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import msgspec

from jobmon import endpoints, logs, results, wire
from jobmon.client.connection import open_requester
from jobmon.client.owner_files import OwnerReader
from jobmon.requester import Requester
from jobmon.settings import Settings

FORMAT = "jobmon-archive"
VERSION = 1
EXPORT_PAGE = 2000
EDGE_PAGE = 50_000

# (phase, done, total): phases are "tasks" (read from the server) and "logs" (files copied)
Progress = Callable[[str, int, int], None]


@dataclass
class ArchiveSummary:
    path: Path
    tasks: int = 0
    instances: int = 0
    logs: int = 0
    missing_logs: int = 0  # log files gone, or not readable by the workflow's owner
    refused_logs: int = 0  # recorded paths that are not the instance's own logs
    files: int = 0  # files the outputs named, from the instances' own files folders
    missing_files: int = 0  # named files gone, or not readable by the workflow's owner
    refused_files: int = 0  # named files outside the instance's own files folder
    members: list[str] = field(default_factory=list)


@dataclass
class _Collected:
    manifest: dict[str, Any]
    outputs: dict[str, Any]
    # archive member name -> file to copy
    logs: dict[str, Path]
    refused: int  # recorded paths that are not the instance's own logs
    owner: str  # the workflow's owner, as whom the logs are read
    # archive member name -> (file to copy, the instance's files folder it must be in)
    files: dict[str, tuple[Path, Path]] = field(default_factory=dict)
    refused_files: int = 0


def _own_log(task: wire.TaskDetail, instance: wire.InstanceDetail, stream: str,
             workflow_id: int) -> Path | None:
    """The instance's log file if the server's record is one jobmon.logs names for it."""
    path = getattr(instance, f"{stream}_path")
    job_ids = [str(instance.task_instance_id), instance.distributor_id or ""]
    if not path or not logs.is_instance_log(path, stream, task.name, job_ids,
                                            instance.compute_resources, workflow_id):
        return None
    return Path(path)


async def _pages(requester: Requester, workflow_id: int, total: int,
                 progress: Progress) -> list[wire.TaskDetail]:
    tasks: list[wire.TaskDetail] = []
    async for page in requester.pages(endpoints.EXPORT, {"limit": EXPORT_PAGE},
                                      workflow_id=workflow_id):
        tasks.extend(page.tasks)
        progress("tasks", len(tasks), total)
    return tasks


async def _edges(requester: Requester, workflow_id: int) -> dict[str, list[int]]:
    edges: dict[str, list[int]] = {"upstream_task_id": [], "downstream_task_id": []}
    async for page in requester.pages(endpoints.EDGES, {"limit": EDGE_PAGE},
                                      workflow_id=workflow_id):
        edges["upstream_task_id"].extend(page.upstream_task_id)
        edges["downstream_task_id"].extend(page.downstream_task_id)
    return edges


def _own_files(task: wire.TaskDetail, workflow_id: int,
               found: dict[str, tuple[Path, Path]]) -> tuple[list[dict[str, Any]], int]:
    """The files a task's output names that are in the files folder of one of its DONE
    instances (jobmon.results' rule): manifest entries, and how many were refused."""
    entries: list[dict[str, Any]] = []
    refused = 0
    done = [i.task_instance_id for i in task.instances if i.status == "D"]
    for path in results.named_files(task.output):
        for instance_id in done:
            place = results.instance_file(path, workflow_id, instance_id)
            if place is not None:
                member = f"files/{instance_id}/{place[1]}"
                found[member] = (Path(path), Path(place[0]))
                entries.append({"task_id": task.task_id, "task_instance_id": instance_id,
                                "path": path, "member": member})
                break
        else:
            refused += 1  # not in an instance's own files folder: never read
    return entries, refused


async def _collect(settings: Settings, workflow_id: int, progress: Progress) -> _Collected:
    async with open_requester(settings) as requester:
        info = await requester.call(endpoints.WORKFLOW, workflow_id=workflow_id)
        summary = await requester.call(endpoints.WORKFLOW_STATUS, workflow_id=workflow_id)
        runs = await requester.call(endpoints.WORKFLOW_RUNS, workflow_id=workflow_id)
        arrays = await requester.call(endpoints.ARRAYS, workflow_id=workflow_id)
        tasks = await _pages(requester, workflow_id, info.num_tasks, progress)
        edges = await _edges(requester, workflow_id)
    instances: list[dict[str, Any]] = []
    history: list[dict[str, Any]] = []
    outputs: dict[str, Any] = {}
    log_files: dict[str, Path] = {}
    refused = 0
    named: dict[str, tuple[Path, Path]] = {}
    file_entries: list[dict[str, Any]] = []
    refused_files = 0
    task_rows: list[dict[str, Any]] = []
    for task in tasks:
        row = msgspec.to_builtins(task)
        del row["instances"], row["output"]
        row["has_output"] = task.output is not None
        task_rows.append(row)
        if task.output is not None:
            outputs[str(task.task_id)] = {"name": task.name, "output": task.output}
            entries, refused_here = _own_files(task, workflow_id, named)
            file_entries += entries
            refused_files += refused_here
        for instance in task.instances:
            entry = msgspec.to_builtins(instance)
            del entry["timeline"]
            for stream in ("stdout", "stderr"):
                member = f"logs/{instance.task_instance_id}.{stream}"
                found = _own_log(task, instance, stream, workflow_id)
                if found is not None:
                    log_files[member] = found
                elif getattr(instance, f"{stream}_path"):
                    refused += 1  # a path that is not this instance's log: never read
                entry[f"{stream}_member"] = member if found is not None else None
            instances.append(entry)
            history.extend({"task_instance_id": row.task_instance_id, "time": row.time,
                            "status": row.status, "source": row.source}
                           for row in instance.timeline)
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "created_at": dt.datetime.now(dt.UTC).isoformat(),
        "workflow": msgspec.to_builtins(info),
        "summary": msgspec.to_builtins(summary),
        "arrays": msgspec.to_builtins(arrays.arrays),
        "runs": msgspec.to_builtins(runs.runs),
        "tasks": task_rows,
        "edges": edges,
        "instances": instances,
        "status_history": history,
        "files": file_entries,
    }
    return _Collected(manifest, outputs, log_files, refused, info.user, named, refused_files)


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    member = tarfile.TarInfo(name)
    member.size = len(data)
    member.mtime = int(dt.datetime.now(dt.UTC).timestamp())
    member.mode = 0o644
    archive.addfile(member, io.BytesIO(data))


def _write(collected: _Collected, output: Path, root: str, progress: Progress) -> ArchiveSummary:
    summary = ArchiveSummary(path=output, tasks=len(collected.manifest["tasks"]),
                             instances=len(collected.manifest["instances"]),
                             refused_logs=collected.refused,
                             refused_files=collected.refused_files)
    reader = OwnerReader(collected.owner)
    # a temporary name first: a failed or interrupted run leaves no half archive behind
    partial = output.with_name(f".{output.name}.partial")
    try:
        with tarfile.open(partial, "w:gz") as archive:
            gone: set[str] = set()
            total = len(collected.logs)
            for done, (member, path) in enumerate(sorted(collected.logs.items()), 1):
                try:
                    with reader.open(path) as handle:
                        info = archive.gettarinfo(arcname=f"{root}/{member}", fileobj=handle)
                        info.uname = info.gname = ""
                        archive.addfile(info, handle)
                except OSError:  # gone, or not readable by the workflow's owner: left out
                    gone.add(member)
                else:
                    summary.members.append(f"{root}/{member}")
                progress("logs", done, total)
            summary.logs = total - len(gone)
            summary.missing_logs += len(gone)
            missing = _add_files(archive, collected, reader, root, summary)
            for entry in collected.manifest["files"]:
                if entry["member"] in missing:
                    entry["member"] = None
            # the manifest goes last, so that it names only the log files that made it
            for entry in collected.manifest["instances"]:
                for key in ("stdout_member", "stderr_member"):
                    if entry[key] in gone:
                        entry[key] = None
            for name, value in (("manifest.json", collected.manifest),
                                ("outputs.json", collected.outputs)):
                _add_bytes(archive, f"{root}/{name}",
                           json.dumps(value, indent=1, ensure_ascii=False).encode())
                summary.members.append(f"{root}/{name}")
        partial.replace(output)
    finally:
        partial.unlink(missing_ok=True)
    return summary


def _add_files(archive: tarfile.TarFile, collected: _Collected, reader: OwnerReader,
               root: str, summary: ArchiveSummary) -> set[str]:
    """Copy the named files, each only from inside its instance's files folder and as the
    owner could read it; returns the members left out."""
    missing: set[str] = set()
    for member, (path, folder) in sorted(collected.files.items()):
        try:
            with reader.open(path, within=folder) as handle:
                info = archive.gettarinfo(arcname=f"{root}/{member}", fileobj=handle)
                info.uname = info.gname = ""
                archive.addfile(info, handle)
        except OSError:
            missing.add(member)
        else:
            summary.members.append(f"{root}/{member}")
    summary.files = len(collected.files) - len(missing)
    summary.missing_files = len(missing)
    return missing


async def write_archive(settings: Settings, workflow_id: int, output: Path,
                        progress: Progress) -> ArchiveSummary:
    """Write the archive of ``workflow_id`` to ``output`` (a .tar.gz)."""
    if not output.parent.is_dir():
        raise FileNotFoundError(f"the folder {output.parent} does not exist")
    collected = await _collect(settings, workflow_id, progress)
    return await anyio.to_thread.run_sync(_write, collected, output, f"workflow-{workflow_id}",
                                          progress)
