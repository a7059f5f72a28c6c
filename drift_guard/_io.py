"""Reading the files a repository or an environment hands us, safely.

Everything drift-guard reads may come from code nobody reviewed: a declaration file can be a
FIFO (a read that never returns), `/dev/zero` (a read that never ends), a symlink to
`/proc/self/environ` (the runner's secrets), or a gigabyte of junk. `read_bytes` opens only
regular files, without blocking, and reads at most a bounded number of bytes; every other
case is a `DriftGuardError` that names the path and never quotes the content.
"""

from __future__ import annotations

import os
import stat

from drift_guard.errors import DriftGuardError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

# Generous caps: a 1,000,000-line requirements file is about 30 MB, a 5,000-package lock
# with hashes about 10 MB. Metadata files are small; a METADATA with a long description
# stays well under 16 MB.
DECLARATION_LIMIT = 256 * 1024 * 1024
METADATA_LIMIT = 16 * 1024 * 1024
SMALL_LIMIT = 1024 * 1024

# Pseudo file systems whose "regular files" are views of the kernel or of processes.
_SPECIAL_ROOTS = ("/proc/", "/sys/", "/dev/")

_O_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
_O_FLAGS |= getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)


class UnsafeFile(DriftGuardError):
    """Not a regular file, a special file, or larger than its cap."""


def is_special(path: str) -> bool:
    """True when `path` resolves into /proc, /sys or /dev."""
    try:
        real = os.path.realpath(path)
    except (OSError, ValueError):
        return True
    return any(real.startswith(root) or real + "/" == root for root in _SPECIAL_ROOTS)


def read_bytes(path: str, *, limit: int = DECLARATION_LIMIT, what: str = "file",
               shown: Optional[str] = None) -> bytes:
    """The bytes of the regular file `path`, at most `limit` of them.

    `what` says what the file is for the error line ("requirements file", "METADATA");
    `shown` is how the path is written there (default: `path`). Raises `UnsafeFile` for a
    FIFO, a device, a directory, a file under /proc, /sys or /dev, or a file over `limit`;
    `DriftGuardError` for any other OSError. The content is never part of a message.
    """
    name = path if shown is None else shown
    if is_special(path):
        raise UnsafeFile(
            f"{what} resolves to a special file; name a regular file", path=name
        )
    try:
        fd = os.open(path, _O_FLAGS)
    except FileNotFoundError:
        raise DriftGuardError(f"{what} not found", path=name) from None
    except IsADirectoryError:
        raise UnsafeFile(f"{what} is a directory, not a file", path=name) from None
    except OSError as exc:
        raise DriftGuardError(f"cannot open {what}: {exc.strerror}", path=name) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            kind = (
                "a directory" if stat.S_ISDIR(st.st_mode)
                else "a FIFO" if stat.S_ISFIFO(st.st_mode)
                else "a device" if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode)
                else "a socket" if stat.S_ISSOCK(st.st_mode)
                else "not a regular file"
            )
            raise UnsafeFile(f"{what} is {kind}; name a regular file", path=name)
        if st.st_size > limit:
            raise UnsafeFile(
                f"{what} is {st.st_size} bytes, over the {limit} byte limit", path=name
            )
        return read_open(fd, limit=limit, what=what, shown=name, size=st.st_size)
    finally:
        os.close(fd)


def read_open(fd: int, *, limit: int, what: str, shown: str, size: int = 0) -> bytes:
    """At most `limit` bytes of the open regular file `fd` (a file that grows past `limit`
    while it is read is refused, never cut short). `size`: what fstat says it holds (read
    in one piece, then whatever it grew by)."""
    chunks = []
    left = limit + 1  # one more than allowed tells a file that grew while read
    step = max(size + 1, 1 << 16)
    while left > 0:
        try:
            chunk = os.read(fd, min(left, step))
        except OSError as exc:
            raise DriftGuardError(f"cannot read {what}: {exc.strerror}", path=shown) from None
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    if left <= 0:
        raise UnsafeFile(f"{what} is over the {limit} byte limit", path=shown)
    return b"".join(chunks)


def read_text(path: str, *, limit: int = DECLARATION_LIMIT, what: str = "file",
              shown: Optional[str] = None, errors: str = "strict") -> str:
    """`read_bytes` decoded as UTF-8 (a BOM is dropped). With errors="strict" a file that is
    not UTF-8 is a `DriftGuardError` naming the byte offset, not the bytes."""
    data = read_bytes(path, limit=limit, what=what, shown=shown)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8", errors)
    except UnicodeDecodeError as exc:
        raise DriftGuardError(
            f"{what} is not UTF-8 (byte {exc.start}); save it as UTF-8",
            path=path if shown is None else shown,
        ) from None
