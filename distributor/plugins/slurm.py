"""Cluster "slurm": job arrays through sbatch, one squeue per interval, batched scancel."""

from __future__ import annotations

import logging
import os
import sys
import uuid
from collections.abc import Sequence
from pathlib import Path

import anyio
import anyio.to_thread
from anyio.abc import TaskGroup

from jobmon import wire
from jobmon.clock import Clock, SystemClock
from jobmon.distributor.plugins.slurm_cli import CommandResult, SlurmCommands, TransientSlurmError
from jobmon.distributor.plugins.slurm_state import (
    Action,
    Decision,
    JobKey,
    Snapshot,
    Timing,
    Watch,
    accounting_enabled,
    format_job,
    judge_record,
    max_array_size,
    next_interval,
    parse_config,
    parse_distributor_id,
    parse_sacct,
    parse_squeue_json,
    reconcile,
    vanished_report,
)
from jobmon.distributor.plugins.slurm_submit import (
    SubmitError,
    chunks,
    group_instances,
    job_script,
    parse_job_id,
    sbatch_argv,
    sbatch_options,
    submit_environment,
)
from jobmon.distributor.reporter import Reporter
from jobmon.distributor.worker import WorkerSettings
from jobmon.errors import JobmonError
from jobmon.settings import Settings
from jobmon.status import TaskInstanceStatus

log = logging.getLogger(__name__)
TIS = TaskInstanceStatus

MAX_WATCHED = 200_000  # instances one distributor watches at most; claims wait beyond that
LAUNCHED_REPORT_SECONDS = 300.0  # a fresh job's first deadline: it may pend a while
SBATCH_TIMEOUT = 60.0
SCANCEL_BATCH = 2000  # job ids per scancel command line
SQUEUE = ("squeue", "--json", "--states=all", "--me")
SACCT_FORMAT = "JobID,State,ExitCode"


class SlurmUnavailable(JobmonError):
    """Slurm's commands are missing or the controller does not answer."""


class SubmitRejected(Exception):
    """sbatch refused the request for good; the message is the scheduler's."""


class SlurmPlugin:
    """Submits instances as job arrays, watches them in one query per interval, cancels in batches.

    Jobs outlive the distributor: stopping it cancels nothing. Their workers report to the
    server on their own, and the next distributor of the cluster adopts them by their ids.
    """

    name = "slurm"

    def __init__(self, settings: Settings, log_dir: Path, *, commands: SlurmCommands | None = None,
                 clock: Clock | None = None, python: str = sys.executable) -> None:
        interval = settings.heartbeat.task_instance_interval
        self._report_seconds = settings.heartbeat.instance_deadline
        self._clock = clock or SystemClock()
        self._commands = commands or SlurmCommands(
            submit_environment(os.environ, settings.http.service_url), clock=self._clock)
        self._python = python
        # the workers' settings, on their command line: they read no configuration
        self._worker_arguments = WorkerSettings.from_settings(settings, log_dir).arguments()
        self._slurm_dir = log_dir / "slurm"
        self.timing = Timing(completed_grace=2 * interval + 1.0,
                             orphan_grace=self._report_seconds + interval,
                             vanish_grace=max(10.0, 2 * interval))
        self.poll_minimum = min(10.0, max(1.0, interval / 3))
        self.poll_factor = 20.0
        self.poll_maximum = 120.0
        self._watches: dict[int, Watch] = {}
        self._submitting: set[int] = set()
        self._kill_after_submit: dict[int, wire.KillOrder] = {}
        self._max_array_size = 1001
        self._accounting = False
        self._reporter: Reporter | None = None
        self._work = anyio.Event()
        self._freed = anyio.Event()
        # counters, for logs, tests and benchmarks
        self.submissions = 0
        self.queries = 0
        self.cancelled = 0

    # ------------------------------------------------------------------ the plugin contract

    async def start(self, group: TaskGroup, reporter: Reporter) -> None:
        self._reporter = reporter
        await anyio.Path(self._slurm_dir).mkdir(parents=True, exist_ok=True)
        config = await self._read_config()
        self._max_array_size = max_array_size(config)
        self._accounting = accounting_enabled(config)
        log.info("Slurm %s: MaxArraySize %d, accounting %s", config.get("SLURM_VERSION", "?"),
                 self._max_array_size, "on" if self._accounting else "off")
        group.start_soon(self._poll_loop)

    def capacity(self) -> int:
        return max(0, MAX_WATCHED - len(self._watches) - len(self._submitting))

    async def wait_for_capacity(self) -> None:
        if self.capacity() == 0:
            await self._freed.wait()

    def live_instance_ids(self) -> list[int]:
        """Every instance submitted or being submitted: the heartbeat keeps pending ones alive."""
        return sorted(self._submitting.union(self._watches))

    async def adopt(self, live: wire.LiveInstances) -> int:
        """Watch jobs an earlier distributor submitted, by their recorded ids."""
        now = self._clock.monotonic()
        adopted = 0
        kill: list[wire.KillOrder] = []
        for instance_id, distributor_id, status in zip(
                live.task_instance_id, live.distributor_id, live.status, strict=True):
            if instance_id in self._watches:
                continue
            if status == TIS.KILL_SELF:
                # a cold resume of a run whose distributor is gone: nobody else will cancel it
                kill.append(wire.KillOrder(task_instance_id=instance_id,
                                           distributor_id=distributor_id or None,
                                           status=status))
                continue
            key = parse_distributor_id(distributor_id)
            if key is None:  # claimed (I) but never submitted: the reaper gives it up
                continue
            self._watches[instance_id] = Watch(instance_id, key, since=now)
            adopted += 1
        if kill:
            await self.kill(kill)
        if adopted:
            self._work.set()
        return adopted

    async def launch(self, instances: Sequence[wire.ClaimedInstance]) -> None:
        for group in group_instances(instances):
            for chunk in chunks(group, self._max_array_size):
                await self._submit(chunk)

    async def kill(self, orders: Sequence[wire.KillOrder]) -> None:
        """KILL_SELF orders: one scancel for all, then ERROR_FATAL. Others: the server is done."""
        now = self._clock.monotonic()
        cancel: list[JobKey] = []
        killed: list[tuple[int, JobKey | None]] = []
        for order in orders:
            instance_id = order.task_instance_id
            watch = self._watches.get(instance_id)
            if order.status != TIS.KILL_SELF:
                # from the heartbeat: the instance ended (or was never known) on the server
                if watch is not None and watch.ended_on_server is None:
                    watch.ended_on_server = now
                continue
            if instance_id in self._submitting:
                self._kill_after_submit[instance_id] = order
                continue
            key = watch.job if watch is not None else parse_distributor_id(order.distributor_id)
            if key is not None:
                cancel.append(key)
            killed.append((instance_id, key))
            self._forget(instance_id)
        if cancel:
            await self._scancel(cancel)
        if not killed:
            return
        assert self._reporter is not None
        for instance_id, key in killed:
            how = f"scancel {format_job(key)}" if key is not None else "it was never submitted"
            self._reporter.report(wire.InstanceUpdate(
                task_instance_id=instance_id, status=str(TIS.ERROR_FATAL),
                error_message=f"killed on request ({how})",
            ))
        # the server repeats kill orders until it has the ERROR_FATAL reports
        await self._reporter.flush()

    async def stop(self, drain: bool = False) -> None:
        # draining or not, Slurm jobs outlive the distributor: their workers report
        log.info("leaving %d Slurm jobs running; their workers report on their own",
                 len(self._watches))

    # ------------------------------------------------------------------ submission

    async def _submit(self, chunk: Sequence[wire.ClaimedInstance]) -> None:
        ids = [instance.task_instance_id for instance in chunk]
        self._submitting.update(ids)
        try:
            await self._submit_chunk(chunk)
        finally:
            self._submitting.difference_update(ids)
            late = [self._kill_after_submit.pop(i) for i in ids if i in self._kill_after_submit]
            if late:
                await self.kill(late)

    async def _submit_chunk(self, chunk: Sequence[wire.ClaimedInstance]) -> None:
        first = chunk[0]
        try:
            options = sbatch_options(first.compute_resources)
        except SubmitError as error:
            self._refuse(chunk, str(error))
            return
        job_name = f"jobmon-{first.workflow_id}-{uuid.uuid4().hex[:10]}"
        out_dir = self._slurm_dir / f"workflow-{first.workflow_id}"
        script = self._slurm_dir / f"{job_name}.sh"
        text = job_script(self._python, [instance.task_instance_id for instance in chunk],
                          [instance.credential for instance in chunk], self._worker_arguments)
        await anyio.to_thread.run_sync(_write_script, script, text, out_dir)
        argv = sbatch_argv(count=len(chunk), job_name=job_name,
                           stdout_pattern=out_dir / "%A_%a.out",
                           stderr_pattern=out_dir / "%A_%a.err",
                           script=script, options=options)
        try:
            job_id = await self._sbatch(argv, job_name)
        except SubmitRejected as error:
            self._refuse(chunk, f"Slurm rejected the job: {error}")
            return
        except (TransientSlurmError, OSError) as error:
            self._refuse(chunk, f"could not submit to Slurm: {error}")
            return
        self.submissions += 1
        assert self._reporter is not None
        now = self._clock.monotonic()
        for index, instance in enumerate(chunk):
            key = (job_id, index)
            self._watches[instance.task_instance_id] = Watch(instance.task_instance_id, key,
                                                             since=now)
            self._reporter.report(wire.InstanceUpdate(
                task_instance_id=instance.task_instance_id,
                status=str(TIS.LAUNCHED),
                distributor_id=format_job(key),
                # the command's logs: the worker reports them (jobmon.logs); sbatch's own
                # files under out_dir hold only what the worker itself says
                next_report_seconds=max(LAUNCHED_REPORT_SECONDS, self._report_seconds),
            ))
        log.info("submitted %d instances as job array %d", len(chunk), job_id)
        self._work.set()

    async def _sbatch(self, argv: list[str], job_name: str) -> int:
        """The new job's id; retries transient failures without ever submitting twice."""
        tries = 0
        async for attempt in self._commands.retrying(f"sbatch {job_name}"):
            with attempt:
                tries += 1
                if tries > 1:
                    # the failed try may have reached the controller after all
                    found = (await self._query()).names.get(job_name)
                    if found is not None:
                        log.warning("sbatch reported a failure, but job %d (%s) exists",
                                    found, job_name)
                        return found
                with anyio.CancelScope(shield=True):  # a submission in flight is finished
                    result = await self._commands.run(argv, limit=SBATCH_TIMEOUT)
                if result.returncode == 0:
                    try:
                        return parse_job_id(result.stdout.decode(errors="replace"))
                    except ValueError as error:
                        raise TransientSlurmError(str(error)) from None
                if result.transient:
                    raise TransientSlurmError(result.message)
                raise SubmitRejected(result.message)
        raise AssertionError("unreachable")  # pragma: no cover

    def _refuse(self, chunk: Sequence[wire.ClaimedInstance], message: str) -> None:
        assert self._reporter is not None
        log.warning("%d instances not submitted: %s", len(chunk), message)
        for instance in chunk:
            self._reporter.report(wire.InstanceUpdate(
                task_instance_id=instance.task_instance_id,
                status=str(TIS.NO_DISTRIBUTOR_ID),
                error_message=message,
            ))

    # ------------------------------------------------------------------ watching

    async def _read_config(self) -> dict[str, str]:
        try:
            result = await self._commands.run_retrying("scontrol show config",
                                                       ["scontrol", "show", "config"])
        except (OSError, TransientSlurmError) as error:
            raise SlurmUnavailable(f"cannot reach Slurm (scontrol show config): {error}") from None
        if result.returncode != 0:
            raise SlurmUnavailable(f"scontrol show config failed: {result.message}")
        return parse_config(result.stdout.decode(errors="replace"))

    async def _query(self) -> Snapshot:
        """Every job Slurm lists, in one squeue call; transient trouble raises."""
        try:
            result = await self._commands.run(SQUEUE)
        except OSError as error:
            raise TransientSlurmError(f"squeue could not run: {error}") from None
        self.queries += 1
        if result.returncode != 0:
            raise TransientSlurmError(f"squeue failed: {result.message}")
        try:
            # tens of megabytes for a busy cluster: decode beside the event loop
            return await anyio.to_thread.run_sync(parse_squeue_json, result.stdout)
        except ValueError as error:
            raise TransientSlurmError(str(error)) from None

    async def _poll_loop(self) -> None:
        while True:
            if not self._watches:
                await self._work.wait()
                self._work = anyio.Event()
                continue
            started = self._clock.monotonic()
            try:
                snapshot = await self._query()
            except TransientSlurmError as error:
                log.warning("%s; asking again later", error)
                await self._clock.sleep(self.poll_maximum / 4)
                continue
            duration = self._clock.monotonic() - started
            decisions = reconcile(list(self._watches.values()), snapshot,
                                  self._clock.monotonic(), self.timing)
            await self._carry_out(decisions)
            await self._clock.sleep(next_interval(duration, self.poll_minimum,
                                                  self.poll_factor, self.poll_maximum))

    async def _carry_out(self, decisions: Sequence[Decision]) -> None:
        cancel: list[Watch] = []
        vanished: list[Watch] = []
        for decision in decisions:
            watch = self._watches.get(decision.task_instance_id)
            if watch is None:
                continue
            if decision.action is Action.REPORT:
                self._send(decision)
            elif decision.action is Action.FORGET:
                self._forget(decision.task_instance_id)
            elif decision.action is Action.CANCEL:
                cancel.append(watch)
            else:
                vanished.append(watch)
        if cancel:
            await self._cancel_orphans(cancel)
        if vanished:
            await self._settle_vanished(vanished)

    async def _cancel_orphans(self, orphans: Sequence[Watch]) -> None:
        """Jobs still in Slurm though the server ended their instances: cancel, end them."""
        log.warning("cancelling %d Slurm jobs whose instances ended on the server: %s",
                    len(orphans), [format_job(watch.job) for watch in orphans[:10]])
        await self._scancel([watch.job for watch in orphans])
        assert self._reporter is not None
        for watch in orphans:
            # applies to an instance left in KILL_SELF; the server refuses it after any end
            self._reporter.report(wire.InstanceUpdate(
                task_instance_id=watch.task_instance_id, status=str(TIS.ERROR_FATAL),
                error_message=f"killed (scancel {format_job(watch.job)}): the server no "
                              "longer expected this instance",
            ))
            self._forget(watch.task_instance_id)

    async def _settle_vanished(self, vanished: Sequence[Watch]) -> None:
        """Jobs squeue no longer lists: accounting has the last word when there is one."""
        records = Snapshot()
        if self._accounting:
            records = await self._sacct([watch.job for watch in vanished])
        now = self._clock.monotonic()
        for watch in vanished:
            record = records.find(watch.job)
            decision = (vanished_report(watch) if record is None
                        else judge_record(watch, record, now, self.timing))
            if decision is not None:
                await self._carry_out([decision])

    async def _sacct(self, jobs: Sequence[JobKey]) -> Snapshot:
        job_ids = ",".join(sorted({str(job_id) for job_id, _ in jobs}))
        argv = ["sacct", "-n", "-P", "-X", "-o", SACCT_FORMAT, "-j", job_ids]
        try:
            result = await self._commands.run(argv)
        except (OSError, TransientSlurmError) as error:
            log.warning("sacct failed: %s", error)
            return Snapshot()
        if result.returncode != 0:
            if "accounting storage is disabled" in result.stderr.lower():
                self._accounting = False
            log.warning("sacct failed: %s", result.message)
            return Snapshot()
        return parse_sacct(result.stdout.decode(errors="replace"))

    async def _scancel(self, jobs: Sequence[JobKey]) -> None:
        ids = sorted({format_job(job) for job in jobs})
        for piece in chunks(ids, SCANCEL_BATCH):
            try:
                result: CommandResult = await self._commands.run_retrying(
                    "scancel", ["scancel", *piece])
            except (OSError, TransientSlurmError) as error:
                log.error("scancel of %d jobs failed: %s", len(piece), error)
                continue
            self.cancelled += len(piece)
            if result.returncode != 0 or result.stderr.strip():
                log.info("scancel: %s", result.message)

    def _send(self, decision: Decision) -> None:
        assert self._reporter is not None
        exit_code = decision.exit_code
        if exit_code is not None:
            exit_code = max(-255, min(255, exit_code))
        for status in decision.statuses:
            self._reporter.report(wire.InstanceUpdate(
                task_instance_id=decision.task_instance_id, status=status,
                error_message=decision.message, exit_code=exit_code,
            ))
        self._forget(decision.task_instance_id)

    def _forget(self, instance_id: int) -> None:
        if self._watches.pop(instance_id, None) is not None:
            self._freed.set()
            self._freed = anyio.Event()


def _write_script(script: Path, text: str, out_dir: Path) -> None:
    """The job script, readable by its owner only: it holds the workers' credentials."""
    out_dir.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(script, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o700)
    with os.fdopen(descriptor, "w") as handle:
        os.fchmod(handle.fileno(), 0o700)
        handle.write(text)
