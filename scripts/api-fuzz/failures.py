"""The failures of an api-fuzz run, grouped: one line per distinct problem.

    failures.py NAME.ndjson...   (NAME, e.g. platform or hls, prefixes its operations)

Reads schemathesis' NDJSON reports. schemathesis prints every failing case in full (with
a curl command); this is the index to read first: per operation and check, what is
wrong (the schema location and the offending value for a schema violation, the status
or content type received for the conformance checks), how many cases showed it, and
one request that did (credentials filtered, as in schemathesis' own output).
"""

from __future__ import annotations

import base64
import collections
import json
import os
import re
import shlex
import sys
from typing import Any

SECRET_HEADERS = {"authorization", "x-internal-api-key", "cookie"}


def main() -> None:
    groups: dict[tuple[str, ...], dict[str, Any]] = {}
    errors: collections.Counter = collections.Counter()
    for path in sys.argv[1:]:
        api = os.path.basename(path).rsplit(".", 1)[0]  # platform.ndjson -> platform
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                event = json.loads(line)
                if "NonFatalError" in event:
                    info = event["NonFatalError"]
                    errors[(f"{api}: {info.get('label', '?')}", _first_line(str(info.get("info", {}).get("message", info))))] += 1
                    continue
                finished = event.get("ScenarioFinished")
                if not finished:
                    continue
                recorder = finished.get("recorder") or {}
                for case_id, checks in (recorder.get("checks") or {}).items():
                    for check in checks:
                        if check.get("status") != "failure":
                            continue
                        failure = check["failure_info"]["failure"]
                        what, detail = _what(failure)
                        key = (f"{api}: {failure['operation']}", check["name"], failure["code"], what)
                        group = groups.setdefault(key, {"count": 0, "example": None, "title": failure["title"], "details": set()})
                        group["count"] += 1
                        if detail:
                            group["details"].add(detail)
                        if group["example"] is None:
                            group["example"] = _example(recorder, case_id)
    if not groups and not errors:
        print("api-fuzz: no failures")
        return
    print(f"api-fuzz: {len(groups)} distinct failures ({sum(g['count'] for g in groups.values())} failing checks):")
    for (operation, check, code, what), group in sorted(groups.items()):
        print(f"\n  {operation}  [{check} {code}: {group['title']}] x{group['count']}")
        print(f"      {what}")
        if group["details"]:
            print(f"      at: {', '.join(sorted(group['details']))}")
        if group["example"]:
            print(f"      e.g. {group['example']}")
    for (label, message), count in sorted(errors.items()):
        print(f"\n  ERROR {label} x{count}: {message}")


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def _what(failure: dict[str, Any]) -> tuple[str, str | None]:
    """The distinguishing part of a failure message, and a detail to collect (schema places
    where the same kind of violation occurred, which would otherwise be one group each)."""
    message = failure.get("message", "")
    if failure["code"] == "ST108":  # response schema
        status = re.search(r"schema for status code (\d+)", message)
        where = re.search(r"Schema at (\S+):", message)
        place = where.group(1).replace("/components/schemas/", "").replace("/properties/", ".") if where else "?"
        first = _first_line(message)
        answer = f"(response {status.group(1) if status else '?'})"
        if first.startswith("null is not of type"):
            return f"null in a property whose schema does not allow null {answer}", place
        return f"{first} at {place} {answer}", None
    return " / ".join(line.strip() for line in message.splitlines() if line.strip())[:300], None


def _example(recorder: dict[str, Any], case_id: str) -> str | None:
    interaction = (recorder.get("interactions") or {}).get(case_id)
    if not interaction:
        return None
    request, response = interaction["request"], interaction.get("response") or {}
    parts = ["curl", "-X", request["method"]]
    for name, values in (request.get("headers") or {}).items():
        if name.lower() in ("user-agent", "accept", "accept-encoding", "connection", "content-length"):
            continue
        for value in values:
            parts += ["-H", f"{name}: {'[Filtered]' if name.lower() in SECRET_HEADERS else value}"]
    body = request.get("body")
    if isinstance(body, dict) and "$base64" in body:
        raw = base64.b64decode(body["$base64"])
        parts += ["-d", raw.decode("utf-8", errors="replace")[:300]]
    parts.append(re.sub(r"__token=[^&]+", "__token=[Filtered]", request["uri"]))
    content = response.get("content")
    answer = ""
    if isinstance(content, dict) and "$base64" in content:
        answer = base64.b64decode(content["$base64"]).decode("utf-8", errors="replace")
    status = response.get("status_code", "?")
    return f"{shlex.join(parts)}\n        -> {status} {answer[:240]}"


if __name__ == "__main__":
    main()
