"""How much does reading the code's imports add to a check? Figures for a 1,000-file project.

    python benchmarks/bench_imports.py               # 1,000 files, 7 runs each
    python benchmarks/bench_imports.py --files 2000 --runs 11

Setup (in --work, default a fresh temporary directory): a git repository whose code is 1,000
real Python files -- modules of this Python's own standard library under 16 KB (about 6 KB a
file), copied as `app/...`: real code in every style -- a virtualenv made of dist-info folders (60 distributions) and a frozen requirements
file that leaves one of them, `rich`, undeclared while `app/cli.py` imports it: there is drift
to rank, so the import scan runs.

Each figure is the median wall time of a whole `python -m drift_guard` process:
- plain: the same check with the scan turned off (`imports = false`) -- today's check;
- cold:  no cache (a fresh $XDG_CACHE_HOME each run);
- warm:  as in a commit hook (PRE_COMMIT=1), cache present, one file changed (a different
  one each run, and staged).
The targets: warm <= 1.5 x plain, cold <= 1 s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def sh(cmd: list, cwd: Path, env: dict = None) -> None:  # type: ignore[type-arg,assignment]
    subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, env=env)


def stdlib_files(count: int) -> list:  # type: ignore[type-arg]
    base = Path(sysconfig.get_paths()["stdlib"])
    skip = {"test", "tests", "idlelib", "lib2to3", "site-packages", "dist-packages", "turtledemo",
            "__pycache__", "tkinter", "ensurepip", "venv"}
    found = []
    for path in sorted(base.rglob("*.py")):
        rel = path.relative_to(base)
        if set(rel.parts) & skip or path.stat().st_size > 16_000:
            continue
        try:
            path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        found.append(path)
    if len(found) < count:
        found = (found * (count // max(len(found), 1) + 1))
    return found[:count]


def fake_venv(prefix: Path, dists: list) -> None:  # type: ignore[type-arg]
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    sp = prefix / "lib" / f"python{version}" / "site-packages"
    sp.mkdir(parents=True)
    (prefix / "pyvenv.cfg").write_text(
        f"home = /usr/bin\ninclude-system-site-packages = false\nversion = {version}.0\n")
    for name, ver in dists:
        mod = name.replace("-", "_")
        info = sp / f"{mod}-{ver}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {ver}\n\n")
        (sp / mod).mkdir()
        (sp / mod / "__init__.py").write_text("")
        (info / "RECORD").write_text(f"{mod}/__init__.py,,\n{info.name}/METADATA,,\n")


def setup(work: Path, count: int) -> Path:
    project = work / "project"
    (project / "app").mkdir(parents=True)
    for i, src in enumerate(stdlib_files(count - 1)):
        shutil.copyfile(src, project / "app" / f"m{i:04d}_{src.stem}.py")
    (project / "app" / "cli.py").write_text("import os\nimport rich\n\nprint(os, rich)\n")
    dists = [(f"pkg{i:02d}", "1.0") for i in range(59)] + [("rich", "13.7.1")]
    fake_venv(project / ".venv", dists)
    (project / "requirements.txt").write_text(
        "".join(f"{n}=={v}\n" for n, v in dists if n != "rich"))
    (project / ".gitignore").write_text(".venv/\n")
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    sh(["git", "init", "-q"], project, env)
    sh(["git", "add", "-A"], project, env)
    return project


CPU: dict = {"plain": [], "cold": [], "warm": []}  # type: ignore[type-arg]


def _children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(project: Path, env: dict, kind: str = "") -> float:  # type: ignore[type-arg]
    start = time.perf_counter()
    cpu = _children_cpu()
    done = subprocess.run([sys.executable, "-m", "drift_guard", "--venv", ".venv"], cwd=project,
                          env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if kind:
        # CPU time of the check (and the git it runs): what a busy machine inflates least.
        CPU[kind].append(_children_cpu() - cpu)
    if done.returncode != 1 or "rich" not in done.stdout:
        raise SystemExit(f"unexpected result ({done.returncode}):\n{done.stdout}{done.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--work", type=Path)
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="drift-guard-bench-imports-"))
    project = setup(work, args.files)
    base_env = {k: v for k, v in os.environ.items()
                if k not in ("VIRTUAL_ENV", "PRE_COMMIT", "GIT_INDEX_FILE", "DRIFT_GUARD_PYTHON")}
    base_env["PYTHONPATH"] = str(ROOT)
    base_env["GIT_CONFIG_GLOBAL"] = os.devnull
    # Compare the checks themselves: drift-guard's result cache would replay the plain check
    # (a run that starts git, as the scan does, is never replayed).
    base_env["DRIFT_GUARD_NO_CACHE"] = "1"
    # As installed: modules load from byte code (written once, outside the source tree),
    # whatever PYTHONDONTWRITEBYTECODE the caller has.
    base_env.pop("PYTHONDONTWRITEBYTECODE", None)
    base_env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    pyproject = project / "pyproject.toml"
    times: dict = {"plain": [], "cold": [], "warm": []}  # type: ignore[type-arg]
    files = sorted((project / "app").glob("m*.py"))
    warm_cache = work / "cache-warm"
    env_warm = {**base_env, "XDG_CACHE_HOME": str(warm_cache), "PRE_COMMIT": "1"}
    pyproject.unlink(missing_ok=True)
    run(project, env_warm)  # fill the warm cache once
    for i in range(args.runs + 1):  # the first round warms the OS caches and is dropped
        pyproject.write_text("[tool.drift-guard]\nimports = false\n")
        plain = run(project, {**base_env, "XDG_CACHE_HOME": str(work / "cache-plain")}, "plain")
        pyproject.unlink()
        cold_cache = work / f"cache-cold-{i}"
        cold = run(project, {**base_env, "XDG_CACHE_HOME": str(cold_cache)}, "cold")
        shutil.rmtree(cold_cache, ignore_errors=True)
        changed = files[i % len(files)]
        with changed.open("a", encoding="utf-8") as f:
            f.write(f"\nimport json  # edit {i}\n")
        sh(["git", "add", str(changed)], project, {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull})
        warm = run(project, env_warm, "warm")
        if i:
            times["plain"].append(plain)
            times["cold"].append(cold)
            times["warm"].append(warm)
    med = {k: statistics.median(v) for k, v in times.items()}
    cpu = {k: statistics.median(v[1:]) for k, v in CPU.items()}
    print(f"project: {args.files} Python files ({sum(f.stat().st_size for f in files) // 1024} KB)"
          f", Python {sys.version.split()[0]}, {args.runs} runs, medians")
    print(f"  plain check (no import scan): {med['plain'] * 1000:7.1f} ms")
    print(f"  cold (no cache):              {med['cold'] * 1000:7.1f} ms   target <= 1000 ms")
    print(f"  warm (cache, 1 file changed): {med['warm'] * 1000:7.1f} ms   "
          f"= {med['warm'] / med['plain']:.2f} x plain, target <= 1.5 x")
    print(f"  CPU time (user+sys): plain {cpu['plain'] * 1000:.0f} ms, cold {cpu['cold'] * 1000:.0f}"
          f" ms, warm {cpu['warm'] * 1000:.0f} ms = {cpu['warm'] / cpu['plain']:.2f} x plain")
    print(f"  load average while measured: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")

    # The scan alone, in this process: how the cold figure divides.
    sys.path.insert(0, str(ROOT))
    from drift_guard.imports import files as scan_files

    os.environ["XDG_CACHE_HOME"] = str(work / "cache-inproc")
    start = time.perf_counter()
    scan = scan_files.scan(str(project), sys.version_info[:3], staged=False)
    cold_scan = time.perf_counter() - start
    start = time.perf_counter()
    scan_files.scan(str(project), sys.version_info[:3], staged=False)
    warm_scan = time.perf_counter() - start
    print(f"  scan alone: cold {cold_scan * 1000:.0f} ms ({scan.read} files parsed), "
          f"warm {warm_scan * 1000:.1f} ms")
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
