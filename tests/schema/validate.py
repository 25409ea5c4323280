#!/usr/bin/env python3
"""Validates JSON documents (files, or JSONL with --lines) against a JSON Schema.

Usage: validate.py SCHEMA FILE|DIR... [--lines]   (a DIR: its *.json files)
Exit 0 when every document validates; 1 with each failure printed; 2 when nothing was given
to validate or the validator is missing (python3-jsonschema, from scripts/install-deps).
"""
import glob
import json
import os
import sys

try:
    import jsonschema
except ImportError:
    print("validate.py: python3-jsonschema is not installed (scripts/install-deps installs it)", file=sys.stderr)
    sys.exit(2)

args = [a for a in sys.argv[1:] if a != "--lines"]
lines = "--lines" in sys.argv
if len(args) < 2:
    print(__doc__, file=sys.stderr)
    sys.exit(2)
schema = json.load(open(args[0]))
validator = jsonschema.Draft202012Validator(schema)
paths = []
for a in args[1:]:
    if os.path.isdir(a):
        paths += sorted(glob.glob(os.path.join(a, "*.json")))
    else:
        paths.append(a)
count = failures = 0
for path in paths:
    with open(path, encoding="utf-8") as f:
        docs = [json.loads(l) for l in f if l.strip()] if lines else [json.load(f)]
    for i, doc in enumerate(docs):
        count += 1
        for err in validator.iter_errors(doc):
            failures += 1
            where = "/".join(str(p) for p in err.absolute_path)
            print(f"{path}{':' + str(i + 1) if lines else ''}: {where}: {err.message}")
if count == 0:
    print("validate.py: no documents", file=sys.stderr)
    sys.exit(2)
print(f"validate.py: {count} documents, {failures} errors")
sys.exit(1 if failures else 0)
