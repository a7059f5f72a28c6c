"""Run pip's own requirements-file parser on each file named on the command line (run by
tests/test_readers_requirements.py in a subprocess: importing pip changes global state).

For each file print one JSON object: {"error": "..."} when pip refuses it, else {"ok": [...]}
with what pip reads for each requirement. A `file:` link is turned into a path as pip does
when it prepares it, so a URL pip accepts while parsing but cannot use is a refusal too."""

from __future__ import annotations

import json
import sys


def main() -> None:
    from pip._internal.network.session import PipSession
    from pip._internal.req.constructors import install_req_from_parsed_requirement
    from pip._internal.req.req_file import parse_requirements
    from pip._vendor.packaging.utils import canonicalize_name

    session = PipSession()
    for path in sys.argv[1:]:
        try:
            result = []
            for parsed in parse_requirements(path, session=session):
                req = install_req_from_parsed_requirement(parsed)
                if req.link is not None and req.link.scheme == "file":
                    req.link.file_path  # noqa: B018 - raises for a file: URL on another host
                result.append({
                    "name": canonicalize_name(req.name) if req.name else "",
                    "specifier": str(req.specifier) if req.req is not None else "",
                    "marker": str(req.markers) if req.markers else None,
                    "extras": sorted(canonicalize_name(e) for e in req.extras),
                    "url": req.link.url if req.link else None,
                    "editable": bool(req.editable),
                    "hashes": bool(req.hash_options),
                    "constraint": bool(req.constraint),
                })
            print(json.dumps({"ok": result}))
        except BaseException as exc:  # noqa: BLE001 - any refusal counts
            print(json.dumps({"error": f"{type(exc).__name__}: {str(exc)[:300]}"}))


if __name__ == "__main__":
    main()
