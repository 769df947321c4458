#!/usr/bin/python3
"""Validates a JSON document against a JSON schema whose $refs point at sibling files.

usage: validate_json_schema.py SCHEMA DOCUMENT

Exit status: 0 valid, 1 invalid (the reasons on stderr), 2 usage error or jsonschema missing.
A missing jsonschema module is an error, never a pass: install python3-jsonschema
(scripts/bootstrap.sh does).
"""
import json
import pathlib
import sys
import warnings


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        import jsonschema
    except ImportError as e:
        print(f"jsonschema is not installed ({e}); install python3-jsonschema", file=sys.stderr)
        return 2
    schema_path = pathlib.Path(sys.argv[1]).resolve()
    schema = json.loads(schema_path.read_text())
    document = json.loads(pathlib.Path(sys.argv[2]).read_text())
    # The runtime-spec schemas have no $id; "defs.json#/..." resolves against the schema's
    # own directory. RefResolver is deprecated in newer jsonschema but present in all
    # versions Debian ships.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        resolver = jsonschema.RefResolver(base_uri=schema_path.as_uri(), referrer=schema)
        validator_class = jsonschema.validators.validator_for(schema)
        validator_class.check_schema(schema)
        validator = validator_class(schema, resolver=resolver)
        errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    for e in errors:
        where = "/".join(str(p) for p in e.absolute_path) or "(top level)"
        print(f"{where}: {e.message}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
