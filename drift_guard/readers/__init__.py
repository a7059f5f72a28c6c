"""One reader per declaration format, all of the shape `read(path, ctx) -> Source`.

The reader module for a file is chosen by its name and imported only when such a file is
read, so a project with a requirements file never pays for `tomllib` or `json`.
"""

from __future__ import annotations

import os

from drift_guard.errors import DriftGuardError
from drift_guard.models import ReadContext, Source

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

# Autodetection order (CONTRACT.md): the first one present in the project directory wins.
AUTODETECT = ("poetry.lock", "Pipfile.lock", "uv.lock", "pylock.toml", "requirements.txt")

LOCK_FORMATS = frozenset({"Pipfile.lock", "poetry.lock", "uv.lock", "pylock.toml"})

_MODULES = {
    "Pipfile.lock": "pipfile_lock",
    "poetry.lock": "poetry_lock",
    "uv.lock": "uv_lock",
    "pylock.toml": "pylock",
    "pyproject.toml": "pyproject",
    "requirements.txt": "requirements",
}


def format_of(path: str) -> str:
    """The format of a declaration file, from its name (anything unknown is a requirements
    file, as pip's `-r` takes any name)."""
    base = os.path.basename(path)
    if base in _MODULES:
        return base
    if base.startswith("pylock.") and base.endswith(".toml"):
        return "pylock.toml"  # PEP 751 names: pylock.toml or pylock.<name>.toml
    return "requirements.txt"


def detect(directory: str) -> Optional[str]:
    """The declaration file autodetection finds in `directory`, as a path relative to it.

    Any directory entry of that name counts, not only a regular file: a FIFO or a link to a
    special file named requirements.txt is then refused by name when it is read, instead of
    being passed over for another file.
    """
    for name in AUTODETECT:
        path = os.path.join(directory, name)
        if os.path.lexists(path) and not os.path.isdir(path):
            return name
    return None


def read_source(path: str, ctx: ReadContext) -> Source:
    """Read one declaration file with the reader for its format."""
    if not os.path.exists(path):
        raise DriftGuardError("no such file; name an existing declaration file", path=path)
    if os.path.isdir(path):
        raise DriftGuardError("is a directory; name a declaration file inside it", path=path)
    # __import__ rather than importlib: the reader, without importlib's own imports.
    module = __import__(f"drift_guard.readers.{_MODULES[format_of(path)]}", fromlist=("read",))
    source: Source = module.read(path, ctx)
    return source
