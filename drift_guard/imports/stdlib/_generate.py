"""Write the standard library module lists (`3.X.txt`) this directory ships.

drift-guard never runs the target interpreter, so it cannot ask the target for
`sys.stdlib_module_names`; these lists stand in for it, one per Python version:

    python3.10 drift_guard/imports/stdlib/_generate.py     # writes 3.10.txt, and so on

- 3.10 and later: `sys.stdlib_module_names` of that Python, as it is (every platform's modules,
  private ones too; a list of top-level names only).
- 3.9 has no `sys.stdlib_module_names`. Run with a 3.9 interpreter and `--from 3.10.txt`: the
  list is the 3.10 list's platform-specific names (those neither Python has as a file here,
  e.g. winreg, msvcrt), plus what the 3.9 installation itself holds: `sys.builtin_module_names`
  and every module or package in its library directory (not site-packages).
- 3.14 was written from the 3.13 list and "What's New in Python 3.14" (new: annotationlib,
  compression, and the private _hmac, _remote_debugging, _zstd; nothing top-level removed),
  as no 3.14 interpreter was at hand; regenerate it from one with this script.
"""

from __future__ import annotations

import os
import pkgutil
import re
import sys
import sysconfig


def names_here() -> set:
    if hasattr(sys, "stdlib_module_names"):
        return set(sys.stdlib_module_names)
    raise SystemExit("Python < 3.10: use --from 3.10.txt")


def names_39(later: str) -> set:
    with open(later, encoding="utf-8") as f:
        newer = {line.strip() for line in f if line.strip()}
    libdir = sysconfig.get_paths()["stdlib"]
    dynload = os.path.join(libdir, "lib-dynload")
    present = {m.name for m in pkgutil.iter_modules([libdir, dynload])}
    present |= set(sys.builtin_module_names)
    present.discard("site-packages")
    platform_only = {n for n in newer if n not in present and not _importable(n)}
    # As 3.10's list does: no test-only modules, and the frozen importlib is included.
    test_only = {n for n in present if re.match(r"_test|xx|_xxtest|_ctypes_test|_sysconfigdata", n)}
    frozen = {"_frozen_importlib", "_frozen_importlib_external"}
    return (present | platform_only | frozen) - test_only - {"test", "__phello__", "__hello__"}


def _importable(name: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def main() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    if "--from" in sys.argv:
        names = names_39(sys.argv[sys.argv.index("--from") + 1])
    else:
        names = names_here()
    with open(os.path.join(here, f"{version}.txt"), "w", encoding="utf-8") as f:
        f.write("".join(f"{n}\n" for n in sorted(names)))


if __name__ == "__main__":
    main()
