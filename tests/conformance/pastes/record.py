#!/usr/bin/env python3
"""Fills in the "expect" block of every case in tests/conformance/pastes/*.json from what
`mxtls lint --format json` says about its capture, for review as a diff:

    tests/conformance/pastes/record.py build/lint/mxtls

Only "expect" is written; the rest of each case (name, file, scenario, how it was captured)
is kept as written. An expectation changes only in a reviewed commit."""
import json, pathlib, subprocess, sys

here = pathlib.Path(__file__).resolve().parent
mxtls = sys.argv[1]
keep = ("postfix", "cisco-esa", "exim", "python-smtplib", "swaks", "openssl-s-client", "posttls-finger")

for data in sorted(here.glob("*.json")):
    doc = json.loads(data.read_text())
    for case in doc["cases"]:
        p = subprocess.run([mxtls, "lint", "--format", "json", str(here / case["file"])], capture_output=True, text=True)
        if p.returncode == 2:
            case["expect"] = {"exit": 2, "no_reply": p.stderr.split(": ", 2)[-1].strip()}
            continue
        j = json.loads(p.stdout)
        i, d = j["input"], j["dialogue"]
        e = {
            "exit": p.returncode,
            "format": i["format"],
            "line_prefix": i["line_prefix"],
            "notes": [n["change"] for n in i["notes"]],
            "ehlo_replies": i["ehlo_replies"],
            "linted_turn": i["linted_turn"]["index"],
            "inside_tls": i["linted_turn"]["inside_tls"],
            "plaintext_reply_missing": i["linted_turn"]["plaintext_reply_missing"],
            "greeting": j["greeting"]["domain"] if j["greeting"] else None,
            "findings": ["%s@%d:%d" % (f["id"], f["line"], f["column"]) for f in j["findings"]],
            "starttls": d["starttls"],
            "starttls_code": d.get("starttls_code"),
            "handshake": d["handshake"],
            "ehlo_after_tls": d["ehlo_after_tls"],
            "predictions": {c["id"]: c["outcome"] for c in j["clients"] if c["id"] in keep},
            "headline_starts": j["verdict"]["headline"].split(":")[0],
        }
        case["expect"] = e
    data.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
