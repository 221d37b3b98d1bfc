"""Reading a file only as a workflow's owner could: for archives an admin writes.

The kernel checks the archiving user, who may be root or an admin reading another user's
workflow. So a file is opened without following a final symbolic link, must be a regular
file, and its permission bits (and every folder's on the way) must let the workflow's
owner read it, as that user's uid and groups: the archive never holds what its owner
could not have read anyway. When the archiving user is the owner, the kernel's own check
is that check.
"""

from __future__ import annotations

import os
import pwd
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO


@dataclass
class OwnerReader:
    """Opens files for reading on behalf of the OS user named ``owner``."""

    owner: str
    _uid: int | None = field(init=False, default=None)
    _groups: frozenset[int] = field(init=False, default=frozenset())
    _same_user: bool = field(init=False, default=False)
    _searchable: dict[str, bool] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        try:
            me = pwd.getpwuid(os.geteuid()).pw_name
        except KeyError:
            me = None
        self._same_user = me == self.owner
        try:
            entry = pwd.getpwnam(self.owner)
        except KeyError:
            return  # no such OS user here: nothing is read on their behalf
        self._uid = entry.pw_uid
        self._groups = frozenset(os.getgrouplist(self.owner, entry.pw_gid))

    def open(self, path: Path, within: Path | None = None) -> BinaryIO:
        """The open file; OSError if it is not one the owner could read, or (``within``
        given) if it is not inside that folder once symbolic links are followed."""
        if not self._same_user and self._uid is None:
            raise PermissionError(f"{self.owner!r} is not a user on this machine")
        folder = Path(os.path.realpath(path.parent))
        if within is not None:
            _check_inside(folder, within)
        if not self._same_user and not self._may_search(folder):
            raise PermissionError(f"{self.owner!r} cannot reach {folder}")
        descriptor = os.open(folder / path.name,
                             os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        try:
            status = os.fstat(descriptor)
            if not stat.S_ISREG(status.st_mode):
                raise PermissionError(f"{path} is not a regular file")
            if not self._same_user and not self._allows(status, stat.S_IRUSR, stat.S_IRGRP,
                                                        stat.S_IROTH):
                raise PermissionError(f"{self.owner!r} may not read {path}")
            return os.fdopen(descriptor, "rb")
        except BaseException:
            os.close(descriptor)
            raise

    def _allows(self, status: os.stat_result, user: int, group: int, other: int) -> bool:
        if self._uid == 0:
            return True
        if status.st_uid == self._uid:
            return bool(status.st_mode & user)
        if status.st_gid in self._groups:
            return bool(status.st_mode & group)
        return bool(status.st_mode & other)

    def _may_search(self, folder: Path) -> bool:
        """Whether the owner may pass through every folder down to ``folder``."""
        key = str(folder)
        if key not in self._searchable:
            parent = folder.parent
            allowed = parent == folder or self._may_search(parent)
            if allowed:
                try:
                    allowed = self._allows(os.stat(folder), stat.S_IXUSR, stat.S_IXGRP,
                                           stat.S_IXOTH)
                except OSError:
                    allowed = False
            self._searchable[key] = allowed
        return self._searchable[key]


def _check_inside(folder: Path, within: Path) -> None:
    """PermissionError unless ``folder`` (resolved) is ``within`` or below it, and
    ``within`` itself is a real folder where its parent says, not a link elsewhere."""
    try:
        status = os.lstat(within)
    except OSError as error:
        raise PermissionError(f"{within} is not there: {error}") from None
    if not stat.S_ISDIR(status.st_mode):
        raise PermissionError(f"{within} is not a folder (a link is not followed)")
    root = Path(os.path.realpath(within.parent)) / within.name
    if folder != root and root not in folder.parents:
        raise PermissionError(f"{folder} is outside {within}")
