"""Running crm-review as a user that file permissions bind, also when the tests run as root.

Root may write any file and folder, so a read-only warehouse or folder would never refuse it:
under root the command runs in a child process as ``nobody`` (its groups cleared), in a
folder that user owns; under any other user it runs as that user. :func:`user` is None only
when neither is possible (root on a system without ``nobody``), and the caller then skips.

Public names: :func:`user`, :func:`folder`, :func:`run`.
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path


def user() -> tuple[int, int] | None:
    """(uid, gid) the command runs as: this user's, or nobody's under root; None when root
    has no unprivileged user to switch to."""
    if os.geteuid() != 0:
        return os.geteuid(), os.getegid()
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        return None
    try:
        gid = grp.getgrnam("nogroup").gr_gid
    except KeyError:
        gid = nobody.pw_gid
    return nobody.pw_uid, gid


@contextlib.contextmanager
def folder(owner: tuple[int, int]) -> Iterator[Path]:
    """A new folder under the system temporary folder, owned by ``owner`` and removed after
    (pytest's own folders under root are owner-only, closed to nobody)."""
    path = Path(tempfile.mkdtemp(prefix="crm-review-test-"))
    try:
        os.chmod(path, 0o755)
        os.chown(path, *owner)
        yield path
    finally:
        for inner in [path, *path.rglob("*")]:  # a folder the test made read-only
            with contextlib.suppress(OSError):
                if inner.is_dir() and not inner.is_symlink():
                    inner.chmod(0o755)
        shutil.rmtree(path, ignore_errors=True)


def run(owner: tuple[int, int], code: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run Python ``code`` (with ``args``) as ``owner`` in ``cwd``; its output is captured."""
    uid, gid = owner

    def drop_privileges() -> None:
        if os.geteuid() != uid:
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)

    env = {**os.environ, "HOME": str(cwd)}
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=drop_privileges,
    )
