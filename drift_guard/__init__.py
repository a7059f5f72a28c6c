"""drift-guard: find the drift between a project's environment and its declarations."""

__version__ = "0.1.0"
