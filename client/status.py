"""The import path ``jobmon.client.status`` kept for code written against it; the module is
``jobmon.client.watch``."""

from __future__ import annotations

from jobmon.client.watch import AsyncWorkflowStatus, HistoryEntry, TaskState, WorkflowStatus

__all__ = ["AsyncWorkflowStatus", "HistoryEntry", "TaskState", "WorkflowStatus"]
