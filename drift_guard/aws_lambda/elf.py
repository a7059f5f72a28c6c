"""Just enough of ELF to tell whether Lambda can load a shared object: its machine, and the
newest glibc symbol version it needs (the `GLIBC_2.x` entries of `.gnu.version_r`, which is
what `GLIBC_2.28 not found` at import time is about).

Pure Python on bytes already read (bounded by the caller); a malformed file is reported as
such, never trusted: every offset is checked against the data, every loop is bounded.
"""

from __future__ import annotations

import re
import struct

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import List, NamedTuple, Optional, Tuple
else:
    from drift_guard._record import NamedTuple

MACHINES = {3: "i386", 8: "mips", 20: "ppc", 21: "ppc64", 22: "s390", 40: "arm",
            62: "x86_64", 183: "aarch64", 243: "riscv"}
"""e_machine values (elf.h) -> the names wheels and Lambda use."""

_SHT_GNU_VERNEED = 0x6FFFFFFE
_MAX_ENTRIES = 4096
_GLIBC = re.compile(r"^GLIBC_(\d+)\.(\d+)(?:\.\d+)?$")


class ElfInfo(NamedTuple):
    machine: str
    """"x86_64", "aarch64", ... or "machine N" for one not in MACHINES."""
    bits: int
    glibc: Optional[Tuple[int, int]]
    """The highest GLIBC_x.y any symbol needs; None when it needs no versioned glibc symbol."""
    versions: Tuple[str, ...] = ()
    """Every version name needed (GLIBC_2.17, GLIBCXX_3.4.21, ...), for messages and tests."""


class NotElf(ValueError):
    """The bytes are not an ELF shared object (a Mach-O or PE file, a text file...)."""


def kind_of(data: bytes) -> str:
    """What a non-ELF binary looks like, for the message."""
    if data[:4] in (b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe", b"\xca\xfe\xba\xbe",
                    b"\xfe\xed\xfa\xcf", b"\xfe\xed\xfa\xce"):
        return "a macOS (Mach-O) binary"
    if data[:2] == b"MZ":
        return "a Windows (PE) binary"
    return "not an ELF file"


def read(data: bytes) -> ElfInfo:
    """Parse the ELF header and the version needs of `data`. Raises NotElf."""
    if len(data) < 52 or data[:4] != b"\x7fELF":
        raise NotElf(kind_of(data))
    cls, order = data[4], data[5]
    if cls not in (1, 2) or order not in (1, 2):
        raise NotElf("a malformed ELF header")
    e = "<" if order == 1 else ">"
    bits = 64 if cls == 2 else 32
    machine_no = struct.unpack_from(e + "H", data, 18)[0]
    machine = MACHINES.get(machine_no, f"machine {machine_no}")
    try:
        if bits == 64:
            shoff = struct.unpack_from(e + "Q", data, 40)[0]
            shentsize, shnum = struct.unpack_from(e + "HH", data, 58)
            fmt, size = e + "IIQQQQIIQQ", 64
        else:
            shoff = struct.unpack_from(e + "I", data, 32)[0]
            shentsize, shnum = struct.unpack_from(e + "HH", data, 46)
            fmt, size = e + "IIIIIIIIII", 40
        if shoff == 0 or shnum == 0 or shentsize < size:
            return ElfInfo(machine, bits, None)
        sections = []
        for i in range(min(shnum, _MAX_ENTRIES)):
            sections.append(struct.unpack_from(fmt, data, shoff + i * shentsize))
    except (struct.error, OverflowError):
        raise NotElf("a truncated ELF file") from None
    versions = _needed_versions(data, e, sections)
    glibc = None
    for v in versions:
        m = _GLIBC.match(v)
        if m:
            found = (int(m.group(1)), int(m.group(2)))
            glibc = found if glibc is None or found > glibc else glibc
    return ElfInfo(machine, bits, glibc, tuple(sorted(set(versions))))


def _needed_versions(data: bytes, e: str, sections: List[Tuple[int, ...]]) -> List[str]:
    # Section tuple: name, type, flags, addr, offset, size, link, info, addralign, entsize.
    names: List[str] = []
    for sh in sections:
        if sh[1] != _SHT_GNU_VERNEED:
            continue
        offset, size, link, count = sh[4], sh[5], sh[6], sh[7]
        if link >= len(sections):
            continue
        strtab = sections[link]
        str_off, str_size = strtab[4], strtab[5]
        end = min(offset + size, len(data))
        pos = offset
        for _ in range(min(count or _MAX_ENTRIES, _MAX_ENTRIES)):
            if pos + 16 > end:
                break
            _version, cnt, _file, aux, nxt = struct.unpack_from(e + "HHIII", data, pos)
            apos = pos + aux
            for _ in range(min(cnt, _MAX_ENTRIES)):
                if apos + 16 > end:
                    break
                _hash, _flags, _other, name, anext = struct.unpack_from(e + "IHHII", data, apos)
                text = _string(data, str_off, str_size, name)
                if text:
                    names.append(text)
                if anext == 0:
                    break
                apos += anext
            if nxt == 0:
                break
            pos += nxt
    return names


def _string(data: bytes, table: int, size: int, index: int) -> str:
    if index >= size:
        return ""
    start = table + index
    stop = data.find(b"\0", start, min(table + size, len(data)))
    if stop < 0:
        return ""
    return data[start:stop].decode("ascii", "replace")
