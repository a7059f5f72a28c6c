"""Which installed packages the project's code imports, read without running anything.

- `parse`: the imports of one source file (`ast`, cut to the pieces that import);
- `files`: which files are the project's code, and their contents (the staged ones under
  pre-commit), with a cache;
- `providers`: which installed distribution provides each top-level import name;
- `stdlib`: the target Python's standard library module names;
- `resolve`: all of it together, as the pipeline uses it.
"""
