"""A bounded read for the many small files of the import scan (sources, metadata)."""

from __future__ import annotations

import os
import stat

from drift_guard._io import METADATA_LIMIT, read_bytes, read_open
from drift_guard.errors import DriftGuardError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
_FLAGS |= getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)


def read_small(path: str, limit: int = METADATA_LIMIT, what: str = "metadata file",
               shown: Optional[str] = None) -> Optional[bytes]:
    """The bytes of a small file, or None when there is none. A plain file is opened
    without following links and read up to `_io`'s metadata cap; anything else (a link, a
    FIFO) goes through `_io.read_bytes`, which refuses special files with a one-line error.
    `_io` resolves every path component, too slow for a thousand small files."""
    name = path if shown is None else shown

    try:
        st = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode):
        return read_bytes(path, limit=limit, what=what, shown=shown)
    if st.st_size > limit:
        raise DriftGuardError(f"{what} is {st.st_size} bytes, over the {limit} byte limit",
                              path=name)
    try:
        fd = os.open(path, _FLAGS)
    except OSError:
        return read_bytes(path, limit=limit, what=what, shown=shown)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return read_bytes(path, limit=limit, what=what, shown=shown)
        return read_open(fd, limit=limit, what=what, shown=name)
    except OSError as exc:
        raise DriftGuardError(f"cannot read {what}: {exc.strerror}", path=name) from None
    finally:
        os.close(fd)


