"""How fast is a drift check? One run, every tool on the same environments, ratios reported.

    python benchmarks/bench.py                 # set up (first time ~2 min) and measure all
    python benchmarks/bench.py --runs 20       # more runs per command
    python benchmarks/bench.py --suites peers  # only the comparison with uv, pip and others
    python benchmarks/bench.py --suites scale growth   # only large inputs / growth factors

Setup (cached under --work, default $TMPDIR/drift-guard-bench): a tools venv with drift-guard
(this checkout), pip-tools, uv and pipdeptree from the package index; then, per size, a venv
holding that many distributions built from wheels written here (offline, deterministic, with
realistic Requires-Dist graphs), and three requirements files: `clean.txt` (pip freeze of
the venv -- the usual pre-commit case), `drift.txt` (3 removed, 2 added, 3 re-pinned) and
`noise.txt` (no real drift, but names and versions spelled differently and lines whose
markers exclude this machine).

Each command runs as a whole process, `--runs` times after a warm-up, the commands in turn
(A B C ... A B C ...) so that a drift in machine speed touches all alike; the table gives
median wall times, the ratio of each median to `pip list --format=freeze`'s and to
`uv pip sync --check --offline`'s on the same environment, and each command's peak memory
(the largest resident set of the process, from wait4).

drift-guard is timed twice: "cold" (`--no-cache`: every file read and compared) and "warm"
(the default: an identical earlier run's answer is replayed while nothing it looked at has
changed -- the case of a hook run on every commit). The warm-up runs store the answer.

Suites:
- peers: the real ~200-distribution environment against uv, pip-sync, pip and pipdeptree,
  for a clean, a drifting and a respelled ("noise") requirements file, text and JSON.
- scale: a synthetic 2,000-distribution environment (ratio to the 200 one), and lock files
  of 5,000 packages in every format plus a 5,000-line requirements file with hashes, each
  against a matching 5,000-distribution environment (cold: the bar is 300 ms).
- growth: inputs that double -- undeclared packages, include chains, `${VAR}` occurrences,
  requirement lines, lock entries -- with the factor each doubling costs (1.0 = constant,
  2.0 = linear, 4.0 = quadratic).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ["pip-tools", "uv", "pipdeptree"]


def run(cmd: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)  # type: ignore[call-overload]


def write_wheel(dest: Path, name: str, version: str, requires: list[str]) -> None:
    dist = name.replace("-", "_")
    info = f"{dist}-{version}.dist-info"
    files = {
        f"{dist}/__init__.py": f"__version__ = {version!r}\n",
        f"{info}/METADATA": "\n".join(
            [
                "Metadata-Version: 2.1",
                f"Name: {name}",
                f"Version: {version}",
                "Summary: benchmark package",
                *[f"Requires-Dist: {r}" for r in requires],
            ]
        )
        + "\n\n"
        + "A description body, as real packages have.\n" * 40,
        f"{info}/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: bench\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record.append(f"{path},sha256={digest.decode()},{len(text.encode())}")
    files[f"{info}/RECORD"] = "\n".join([*record, f"{info}/RECORD,,"]) + "\n"
    with zipfile.ZipFile(dest / f"{dist}-{version}-py3-none-any.whl", "w") as zf:
        for path, text in files.items():
            zf.writestr(path, text)


def name_of(i: int) -> str:
    # A mix of spellings real environments have: dashes, underscores, dots, capitals.
    style = i % 4
    base = f"pkg{i:03d}"
    return [f"{base}-core", f"{base}_utils", f"Pkg{i:03d}.Lib", base][style]


def build_env(work: Path, size: int, tools_python: Path) -> Path:
    """A project: a git work tree holding the venv (.venv) and the three requirements files."""
    env_dir = work / f"env{size}"
    stamp = env_dir / ".complete"
    if stamp.exists():
        _git_init(env_dir)
        return env_dir
    shutil.rmtree(env_dir, ignore_errors=True)
    wheels = work / f"wheels{size}"
    shutil.rmtree(wheels, ignore_errors=True)
    wheels.mkdir(parents=True)
    rng = random.Random(size)
    names = [name_of(i) for i in range(size)]
    for i, name in enumerate(names):
        deps = rng.sample(names[i + 1 :], min(len(names) - i - 1, rng.choice([0, 0, 1, 2, 3])))
        reqs = [f"{d}>=1.0" for d in deps]
        if rng.random() < 0.2:
            reqs.append('colorama>=0.4; sys_platform == "win32"')
        write_wheel(wheels, name, f"1.{i % 7}.{i % 3}", reqs)
    run([sys.executable, "-m", "venv", str(env_dir / ".venv")])
    py = env_dir / ".venv" / "bin" / "python"
    run(
        [
            str(py),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-index",
            "--find-links",
            str(wheels),
            *names,
        ]
    )
    freeze = run([str(py), "-m", "pip", "list", "--format=freeze"]).stdout.splitlines()
    (env_dir / "clean.txt").write_text("\n".join(freeze) + "\n")
    pinned = [ln for ln in freeze if not ln.lower().startswith(("pip==", "setuptools=="))]
    drift = list(pinned)
    for j in (8, 5, 2):  # 3 undeclared
        del drift[j]
    drift += ["tabulate==0.9.0", "orjson==3.10.0"]  # 2 missing
    for j in (1, 2, 3):  # 3 mismatches
        name, _, _ = drift[j].partition("==")
        drift[j] = f"{name}==0.0.{j}"
    (env_dir / "drift.txt").write_text("\n".join(drift) + "\n")
    noise = []
    for ln in freeze:
        name, _, version = ln.partition("==")
        noise.append(f"{name.upper().replace('-', '_')} == {version}")  # other spelling
    noise += ['pywin32==306; sys_platform == "win32"', 'tomli==2.0.1; python_version < "3.0"']
    (env_dir / "noise.txt").write_text("\n".join(noise) + "\n")
    _git_init(env_dir)
    stamp.write_text("ok\n")
    return env_dir


def setup_tools(work: Path) -> Path:
    venv = work / "tools"
    py = venv / "bin" / "python"
    stamp = venv / ".complete"
    if not stamp.exists():
        shutil.rmtree(venv, ignore_errors=True)
        run([sys.executable, "-m", "venv", str(venv)])
        run([str(py), "-m", "pip", "install", "--quiet", "--upgrade", "pip"])
        run([str(py), "-m", "pip", "install", "--quiet", *TOOLS])
        stamp.write_text("ok\n")
    # Always reinstall this checkout: the benchmark measures the code as it is now.
    run([str(py), "-m", "pip", "install", "--quiet", "--no-deps", "--force-reinstall", str(ROOT)])
    return py


def commands(tools: Path, env_dir: Path, scenario: str) -> dict[str, list[str]]:
    bindir = tools.parent
    venv_py = str(env_dir / ".venv" / "bin" / "python")
    req = str(env_dir / f"{scenario}.txt")
    return {
        "pip list --format=freeze": [venv_py, "-m", "pip", "list", "--format=freeze"],
        "python -c pass (interpreter floor)": [str(tools), "-c", "pass"],
        "drift-guard (warm)": [str(bindir / "drift-guard"), "--quiet", "--python", venv_py, req],
        "drift-guard --format json (warm)": [
            str(bindir / "drift-guard"), "--format", "json", "--python", venv_py, req,
        ],
        "drift-guard (cold)": [
            str(bindir / "drift-guard"), "--no-cache", "--quiet", "--python", venv_py, req,
        ],
        "drift-guard --format json (cold)": [
            str(bindir / "drift-guard"), "--no-cache", "--format", "json", "--python", venv_py,
            req,
        ],
        "uv pip sync --check --offline": [
            str(bindir / "uv"),
            "pip",
            "sync",
            "--check",
            "--offline",
            "--python",
            venv_py,
            req,
        ],
        "pip-sync --dry-run": [
            str(bindir / "pip-sync"),
            "--dry-run",
            "--no-config",
            "--python-executable",
            venv_py,
            req,
        ],
        "pip freeze": [venv_py, "-m", "pip", "freeze"],
        "pipdeptree": [str(bindir / "pipdeptree"), "--python", venv_py, "--warn", "silence"],
    }


# GNU time reports a command's own peak memory. wait4's ru_maxrss cannot: Linux carries the
# largest resident set over fork and exec, so every command would seem at least as large as
# this process (tens of MB once the environments are built; `false` showed 18 MB).
GNU_TIME = "/usr/bin/time" if sys.platform.startswith("linux") and os.path.exists(
    "/usr/bin/time") else None


def _timed(cmd: list[str], env: dict[str, str], cwd: Path | None = None
           ) -> tuple[float, int, int]:
    """(wall seconds, exit code, peak RSS in KiB) of one whole process."""
    import tempfile

    with tempfile.NamedTemporaryFile("r", suffix=".rss") as report:
        wrapped = [GNU_TIME, "-q", "-f", "%M", "-o", report.name, *cmd] if GNU_TIME else cmd
        start = time.perf_counter()
        proc = subprocess.Popen(wrapped, env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        _pid, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        peak = usage.ru_maxrss
        if GNU_TIME:
            words = report.read().split()
            peak = int(words[-1]) if words and words[-1].isdigit() else peak
    return elapsed, proc.returncode, peak


def bench_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PIP_CONFIG_FILE")}
    env["DRIFT_GUARD_CACHE_DIR"] = str(ROOT / "build" / "bench" / "cache")
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["NO_COLOR"] = "1"
    env.pop("DRIFT_GUARD_NO_CACHE", None)
    # As installed for a user: bytecode is written once and reused. A caller's
    # PYTHONDONTWRITEBYTECODE would make every run of the editable checkout compile its sources.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def measure(
    cmds: dict[str, list[str]], runs: int, warmup: int, env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> dict[str, dict[str, float]]:
    """Every command `runs` times after `warmup` runs, in turn, from `cwd` (the project:
    where the hook runs); without one, each drift-guard command runs from the directory of
    the file it checks (its own project, a git work tree), not from this checkout."""
    env = env or bench_env()
    cwds: dict[str, Path | None] = {label: cwd for label in cmds}
    if cwd is None:
        for label, cmd in cmds.items():
            if Path(cmd[0]).name == "drift-guard":
                cwds[label] = Path(cmd[-1]).parent
                _git_init(cwds[label])  # type: ignore[arg-type]
    times: dict[str, list[float]] = {label: [] for label in cmds}
    peaks: dict[str, int] = {label: 0 for label in cmds}
    codes: dict[str, int] = {}
    for i in range(warmup + runs):
        for label, cmd in cmds.items():
            elapsed, code, rss = _timed(cmd, env, cwds[label])
            codes[label] = code
            if i >= warmup:
                times[label].append(elapsed)
                peaks[label] = max(peaks[label], rss)
    return {
        label: {
            "median_ms": statistics.median(ts) * 1000,
            "min_ms": min(ts) * 1000,
            "max_ms": max(ts) * 1000,
            "peak_mb": peaks[label] / 1024,
            "exit": codes[label],
        }
        for label, ts in times.items()
    }


def print_table(title: str, res: dict[str, dict[str, float]], bases: dict[str, str]) -> None:
    print(f"\n## {title}")
    head = f"{'command':40} {'median ms':>10} {'min':>8} {'max':>8} {'peak MB':>8}"
    head += "".join(f" {'÷ ' + short:>12}" for short in bases) + f" {'exit':>5}"
    print(head)
    for label, r in res.items():
        row = (
            f"{label:40} {r['median_ms']:10.1f} {r['min_ms']:8.1f} {r['max_ms']:8.1f} "
            f"{r['peak_mb']:8.1f}"
        )
        for base_label in bases.values():
            base = res[base_label]["median_ms"] if base_label in res else float("nan")
            row += f" {r['median_ms'] / base:12.2f}"
        print(row + f" {int(r['exit']):5d}")


def peers(args: argparse.Namespace, tools: Path, results: dict[str, object]) -> None:
    for size in args.sizes:
        env_dir = build_env(args.work, size, tools)
        settle(env_dir)
        for scenario in args.scenarios:
            res = measure(commands(tools, env_dir, scenario), args.runs, args.warmup,
                          cwd=env_dir)
            results[f"peers/{size}/{scenario}"] = res
            print_table(
                f"{size} distributions, {scenario}.txt ({args.runs} runs, medians)",
                res,
                {"pip list": "pip list --format=freeze", "uv": "uv pip sync --check --offline"},
            )


def _git_init(project: Path) -> None:
    """Each project is its own repository, as a user's is: the project root is found there,
    not in this checkout around it."""
    if not (project / ".git").exists():
        run(["git", "init", "--quiet", str(project)])


def settle(*paths: Path) -> None:
    """The result cache does not store an answer about files changed in the last two seconds
    (their change could hide in the clock's resolution); wait that out once after setup."""
    newest = max(
        (p.stat().st_ctime for root in paths for p in [root, *root.rglob("*")] if p.exists()),
        default=0.0,
    )
    time.sleep(max(0.0, newest + 2.5 - time.time()))


def scale(args: argparse.Namespace, tools: Path, results: dict[str, object]) -> None:
    from benchmarks import _scale

    dg = str(tools.parent / "drift-guard")
    work = args.work / "scale"
    cmds: dict[str, list[str]] = {}
    small = build_env(args.work, 200, tools)
    cmds["200 real dists, clean"] = [
        dg, "--no-cache", "--quiet", "--python", str(small / ".venv" / "bin" / "python"),
        str(small / "clean.txt"),
    ]
    for count in (200, 2000):
        py = _scale.make_env(work / f"env{count}", count)
        req = _scale.write_requirements(work / f"env{count}.txt", count)
        cmds[f"{count} synthetic dists, clean"] = [
            dg, "--no-cache", "--quiet", "--python", str(py), str(req)
        ]
    py5000 = _scale.make_env(work / "env5000", 5000)
    req = _scale.write_requirements(work / "hashes5000" / "requirements.txt", 5000, hashes=True)
    cmds["5000-line requirements with hashes"] = [
        dg, "--no-cache", "--quiet", "--python", str(py5000), str(req)
    ]
    for fmt, writer in _scale.LOCK_WRITERS.items():
        lock = writer(work / f"lock-{fmt}", 5000)
        cmds[f"5000-package {fmt}"] = [
            dg, "--no-cache", "--quiet", "--python", str(py5000), str(lock)
        ]
    res = measure(cmds, args.runs, args.warmup)
    results["scale"] = res
    print_table(
        f"scale, cold (--no-cache) ({args.runs} runs, medians)",
        res,
        {"200 real": "200 real dists, clean", "200 synth": "200 synthetic dists, clean"},
    )


def growth(args: argparse.Namespace, tools: Path, results: dict[str, object]) -> None:
    from benchmarks import _scale

    dg = str(tools.parent / "drift-guard")
    work = args.work / "growth"
    cases: dict[str, list[tuple[int, list[str]]]] = {}
    env = bench_env()
    env["BENCH_VALUE"] = "v" * 10_000

    steps = (2000, 4000, 8000)
    rows = []
    for n in steps:
        # n dists, each needed by the next: one root, undeclared with all it pulls in.
        chain = {i: [i + 1] for i in range(0, n - 1, 2)}
        py = _scale.make_env(work / f"undeclared{n}", n, chain)
        top = _scale.top_level_file(work / f"undeclared{n}.in")
        rows.append((n, [dg, "--no-cache", "--quiet", "--python", str(py), str(top)]))
    cases["undeclared packages (top-level file)"] = rows
    # Each case below is a clean check (the environment holds exactly what is declared), so
    # that only the input grows: undeclared packages would cost more than the input itself.
    cases["include chain (files)"] = [
        (n, [dg, "--no-cache", "--quiet", "--python", str(_scale.make_env(work / f"env{n}", n)),
             str(_scale.write_include_chain(work / f"chain{n}", n))])
        for n in (250, 500, 1000)
    ]
    py = _scale.make_env(work / "env2", 2)
    cases["${VAR} occurrences of a 10 KB value"] = [
        (n, [dg, "--no-cache", "--quiet", "--python", str(py),
             str(_scale.write_var_file(work / f"vars{n}.txt", n))])
        for n in (500, 1000, 2000)
    ]
    # Lines and lock entries grow together with a matching environment: each case is a clean
    # check, so nothing but the size of the input changes.
    sized = {n: _scale.make_env(args.work / "scale" / f"env{n}", n) for n in (1250, 2500, 5000)}
    cases["requirement lines (matching env)"] = [
        (n, [dg, "--no-cache", "--quiet", "--python", str(py),
             str(_scale.write_requirements(work / f"lines{n}.txt", n))])
        for n, py in sized.items()
    ]
    for fmt, writer in _scale.LOCK_WRITERS.items():
        cases[f"{fmt} entries (matching env)"] = [
            (n, [dg, "--no-cache", "--quiet", "--python", str(py),
                 str(writer(work / f"{fmt}-{n}", n))])
            for n, py in sized.items()
        ]
    print(f"\n## growth, cold (--no-cache) ({args.runs} runs, medians; factor per doubling)")
    print(f"{'input':40} {'sizes':>18} {'median ms':>26} {'factors':>14} {'peak MB':>8}")
    for label, runs in cases.items():
        res = measure({str(n): cmd for n, cmd in runs}, args.runs, args.warmup, env)
        results[f"growth/{label}"] = res
        ms = [res[str(n)]["median_ms"] for n, _ in runs]
        factors = [b / a for a, b in zip(ms, ms[1:])]
        peak = max(r["peak_mb"] for r in res.values())
        codes = {int(r["exit"]) for r in res.values()}
        print(
            f"{label:40} {'/'.join(str(n) for n, _ in runs):>18} "
            f"{' / '.join(f'{m:.0f}' for m in ms):>26} "
            f"{' '.join(f'{f:.2f}' for f in factors):>14} {peak:8.1f}"
            + ("" if codes <= {0, 1} else f"  exit {sorted(codes)}")
        )


def bars(results: dict[str, object]) -> None:
    """Each bar of the speed issue, the figure this run measured for it and whether it holds.
    The 200-distribution ratios are given for the cold run (every file read afresh) and for
    the warm one (the hook's repeated run, which replays a still-true answer)."""
    rows: list[tuple[str, str, bool]] = []

    def median(res: object, label: str) -> float:
        return float(res[label]["median_ms"])  # type: ignore[index]

    uv = "uv pip sync --check --offline"
    for key, res in results.items():
        if not key.startswith("peers/"):
            continue
        _, size, scenario = key.split("/")
        limit = 1.0 if scenario == "clean" else 1.5
        for run in ("cold", "warm"):
            for form, label in (("text", f"drift-guard ({run})"),
                                ("json", f"drift-guard --format json ({run})")):
                ratio = median(res, label) / median(res, uv)
                rows.append((f"{size} dists, {scenario}, {form}, {run}: ÷ uv <= {limit:.1f}",
                             f"{ratio:.2f}", ratio <= limit))
    scale = results.get("scale")
    if isinstance(scale, dict):
        base = median(scale, "200 real dists, clean")
        ratio = median(scale, "2000 synthetic dists, clean") / base
        rows.append(("2000 dists ÷ the 200-dist check <= 8", f"{ratio:.2f}", ratio <= 8))
        peak = scale["2000 synthetic dists, clean"]["peak_mb"]
        rows.append(("2000 dists: peak memory < 40 MB", f"{peak:.1f} MB", peak < 40))
        for label, res in scale.items():
            if label.startswith("5000"):
                ms = res["median_ms"]
                rows.append((f"{label} < 300 ms", f"{ms:.0f} ms", ms < 300))
                rows.append((f"{label}: peak memory < 40 MB", f"{res['peak_mb']:.1f} MB",
                             res["peak_mb"] < 40))
    for key, res in results.items():
        if key.startswith("growth/") and isinstance(res, dict):
            ms = [r["median_ms"] for r in res.values()]
            worst = max(b / a for a, b in zip(ms, ms[1:]))
            rows.append((f"{key[7:]}: doubling at most doubles the time", f"{worst:.2f}",
                         worst <= 2.0))
    if not rows:
        return
    print("\n## bars (from the figures above)")
    width = max(len(what) for what, _, _ in rows)
    for what, figure, held in rows:
        print(f"{what:{width}} {figure:>9}  {'met' if held else 'NOT MET'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--work",
        type=Path,
        default=ROOT / "build" / "bench",
        help="where environments and inputs are built (not under the system's temporary "
        "directory, whose constant changes would keep the result cache from storing)",
    )
    parser.add_argument("--suites", nargs="+", default=["peers", "scale", "growth"],
                        choices=["peers", "scale", "growth"])
    parser.add_argument("--sizes", type=int, nargs="+", default=[200])
    parser.add_argument("--scenarios", nargs="+", default=["clean", "drift", "noise"])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    args = parser.parse_args(argv)

    args.work.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(ROOT))
    tools = setup_tools(args.work)
    import platform

    print(
        f"# drift-guard benchmark: Python {platform.python_version()}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs, {platform.platform()}"
    )
    results: dict[str, object] = {}
    for suite in args.suites:
        {"peers": peers, "scale": scale, "growth": growth}[suite](args, tools, results)
    bars(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
