"""How fast is a drift check? One run, every tool on the same environments, ratios reported.

    python benchmarks/bench.py                 # set up (first time ~1 min) and measure
    python benchmarks/bench.py --runs 20       # more runs per command
    python benchmarks/bench.py --sizes 200     # only the big environment

Setup (cached under --work, default $TMPDIR/drift-guard-bench): a tools venv with drift-guard
(this checkout), pip-tools, uv and pipdeptree from the package index; then, per size, a venv
holding that many distributions built from wheels written here (offline, deterministic, with
realistic Requires-Dist graphs), and three requirements files: `clean.txt` (pip freeze of
the venv -- the usual pre-commit case), `drift.txt` (3 removed, 2 added, 3 re-pinned) and
`noise.txt` (no real drift, but names and versions spelled differently and lines whose
markers exclude this machine).

Each command runs as a whole process, `--runs` times after a warm-up, the commands in turn
(A B C ... A B C ...) so that a drift in machine speed touches all alike; the table gives
median wall times and the ratio of each median to `pip list --format=freeze`'s on the same
environment, which is the floor any pip-based checker pays.
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
import tempfile
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
    env_dir = work / f"env{size}"
    stamp = env_dir / ".complete"
    if stamp.exists():
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
        "drift-guard": [str(bindir / "drift-guard"), "--quiet", "--python", venv_py, req],
        "drift-guard --format json": [
            str(bindir / "drift-guard"),
            "--format",
            "json",
            "--python",
            venv_py,
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


def measure(cmds: dict[str, list[str]], runs: int, warmup: int) -> dict[str, dict[str, float]]:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PIP_CONFIG_FILE")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["NO_COLOR"] = "1"
    times: dict[str, list[float]] = {label: [] for label in cmds}
    codes: dict[str, int] = {}
    for i in range(warmup + runs):
        for label, cmd in cmds.items():
            start = time.perf_counter()
            done = subprocess.run(
                cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            elapsed = time.perf_counter() - start
            codes[label] = done.returncode
            if i >= warmup:
                times[label].append(elapsed)
    return {
        label: {
            "median_ms": statistics.median(ts) * 1000,
            "min_ms": min(ts) * 1000,
            "max_ms": max(ts) * 1000,
            "exit": codes[label],
        }
        for label, ts in times.items()
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--work", type=Path, default=Path(tempfile.gettempdir()) / "drift-guard-bench"
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[15, 200])
    parser.add_argument("--scenarios", nargs="+", default=["clean", "drift", "noise"])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    args = parser.parse_args(argv)

    args.work.mkdir(parents=True, exist_ok=True)
    tools = setup_tools(args.work)
    results = {}
    for size in args.sizes:
        env_dir = build_env(args.work, size, tools)
        for scenario in args.scenarios:
            res = measure(commands(tools, env_dir, scenario), args.runs, args.warmup)
            results[f"{size}/{scenario}"] = res
            base = res["pip list --format=freeze"]["median_ms"]
            print(f"\n## {size} distributions, {scenario}.txt  ({args.runs} runs, medians)")
            print(
                f"{'command':38} {'median ms':>10} {'min':>8} {'max':>8} "
                f"{'÷ pip list':>10} {'exit':>5}"
            )
            for label, r in res.items():
                print(
                    f"{label:38} {r['median_ms']:10.1f} {r['min_ms']:8.1f} {r['max_ms']:8.1f} "
                    f"{r['median_ms'] / base:10.3f} {r['exit']:5d}"
                )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
