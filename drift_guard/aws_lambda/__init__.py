"""AWS Lambda: judge a package for the runtime it will run on, however it was built.

- `runtimes`: Lambda's Python runtimes as data (Python, Amazon Linux, glibc, dates, source);
- `target`: the one description of the runtime every check uses, and the `lambda` options;
- `artifact`: a `.zip`, a slim `.tar.gz` or a `pip install -t` directory, read bounded;
- `elf`: machine and glibc needs of shared objects, in pure Python;
- `excludes`: which exclude pattern removes a file (Zappa's semantics);
- `checks`: what must ship for the runtime, every RECORD file, native code, layers, pins;
- `size`: where the megabytes are, and what each remedy saves;
- `report`: the Lambda report in text, JSON, GitHub and Markdown;
- `command`: `drift-guard lambda ARTIFACT ...`.

The Zappa callback (`drift_guard.zappa`) and the command share all of it.
"""
