from drift_guard.cli import run

raise SystemExit(run())
