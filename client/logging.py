"""Client logging as IHME Jobmon 3.6 offers it: ``configure_client_logging()`` and the legacy
``JobmonLoggerConfig.attach_default_handler``.

Both send log records to standard output in Jobmon's default format. Calling them again
replaces the handler they added instead of adding a second one.
"""

from __future__ import annotations

import logging
import sys

__all__ = ["DEFAULT_FORMAT", "JobmonLoggerConfig", "configure_client_logging"]

DEFAULT_FORMAT = "%(asctime)s [%(name)-12s] %(module)s %(levelname)-8s: %(message)s"
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
# The loggers of the client side: the Python API, its swarm, and the HTTP retries under it.
CLIENT_LOGGERS = ("jobmon.client", "jobmon.retry")
_MARK = "_jobmon_default_handler"


def _attach(logger_name: str, level: int | str) -> logging.Logger:
    logger = logging.getLogger(logger_name)
    for handler in list(logger.handlers):
        if getattr(handler, _MARK, False):
            logger.removeHandler(handler)
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter(DEFAULT_FORMAT, DATE_FORMAT))
    setattr(handler, _MARK, True)
    logger.addHandler(handler)
    logger.setLevel(level)
    return logger


def configure_client_logging(level: int | str = logging.INFO) -> None:
    """Show the client's log records (workflow, tasks, swarm) on standard output."""
    for name in CLIENT_LOGGERS:
        _attach(name, level)


class JobmonLoggerConfig:
    """Jobmon's legacy logging helper."""

    @staticmethod
    def attach_default_handler(logger_name: str, log_level: int | str = logging.INFO) -> None:
        """Send ``logger_name``'s records at ``log_level`` and above to standard output."""
        _attach(logger_name, log_level)
