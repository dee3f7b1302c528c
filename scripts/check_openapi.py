#!/usr/bin/env python3
"""Validates TagTune's OpenAPI document as OpenAPI 3.1 with openapi-spec-validator.

By default this reads Sources/Server/OpenAPI/openapi.json, the document a person edits (its
hyper-parameter schemas are placeholders the server fills from the hyper-parameter table); give
the served document instead (`tagtune serve --print-openapi > f.json`, or a running server's URL)
to check it whole. `make test` checks both.

    python3 scripts/check_openapi.py
    python3 scripts/check_openapi.py served.json
    python3 scripts/check_openapi.py http://127.0.0.1:8080/openapi.json

Needs `pip install openapi-spec-validator`. Exit status: 0 valid, 1 invalid, 2 cannot read or no validator.
"""
import json
import sys
import urllib.request
from pathlib import Path

SOURCE = Path(__file__).resolve().parent.parent / "Sources/Server/OpenAPI/openapi.json"


def document_text(source: str) -> str:
    if source.startswith(("http://", "https://")):
        with urllib.request.urlopen(source, timeout=30) as response:
            return response.read().decode("utf-8")
    return Path(source).read_text(encoding="utf-8")


def main() -> int:
    source = sys.argv[1] if len(sys.argv) > 1 else str(SOURCE)
    try:
        from openapi_spec_validator import validate
    except ImportError:
        print("check_openapi: openapi-spec-validator is not installed: python3 -m pip install openapi-spec-validator",
              file=sys.stderr)
        return 2
    try:
        document = json.loads(document_text(source))
    except (OSError, StopIteration, ValueError) as error:
        print(f"check_openapi: cannot read a JSON document from {source}: {error}", file=sys.stderr)
        return 2
    version = str(document.get("openapi", ""))
    if not version.startswith("3.1."):
        print(f"check_openapi: openapi is {version!r}, expected 3.1.x", file=sys.stderr)
        return 1
    try:
        validate(document)
    except Exception as error:  # the validator raises its own error types, with the path at fault
        # Its message may quote the whole document: the first lines say what and where.
        text = "\n".join(str(getattr(error, "message", error)).splitlines()[:10])[:600]
        print(f"check_openapi: {source} is not valid OpenAPI {version}:\n{text}", file=sys.stderr)
        return 1
    operations = sum(1 for item in document["paths"].values() for key in item
                     if key in {"get", "put", "post", "delete", "patch", "options", "head", "trace"})
    print(f"check_openapi: valid OpenAPI {version}: {len(document['paths'])} paths, {operations} operations, "
          f"{len(document.get('components', {}).get('schemas', {}))} schemas")
    return 0


if __name__ == "__main__":
    sys.exit(main())
