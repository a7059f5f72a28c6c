from drift_guard.cli import main

raise SystemExit(main())
