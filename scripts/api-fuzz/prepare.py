"""Fixtures for scripts/api-fuzz.sh, from a running installation (platform + HLS server).

    prepare.py OUT_DIR CODES_CSV STREAM_DIR

Environment: SG_PLATFORM_URL, SG_HLS_URL, SG_ADMIN_TOKEN, SG_INTERNAL_KEY.

- splits the demo event's codes (CODES_CSV, from `streamgate codes export --event demo`):
  two for the viewer hooks.py keeps watching, one for the release operation, the rest
  for the fuzzer's dictionaries;
- redeems the viewer's code once, to fail early when no playback token can be had;
- makes two API-managed events with codes through the admin API (config-managed events
  are read-only there): one for the event and code operations to change, one whose codes
  only validate gets;
- writes OUT_DIR/dict/*.dict (libFuzzer dictionary format, read by schemathesis.toml) and
  OUT_DIR/state.json (read by hooks.py; it holds secrets: mode 0600, in the scratch dir).
"""

from __future__ import annotations

import csv
import json
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

PLATFORM = os.environ["SG_PLATFORM_URL"].rstrip("/")
ADMIN = os.environ["SG_ADMIN_TOKEN"]


def call(method: str, path: str, body: Any = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(PLATFORM + path, data=data, method=method)
    request.add_header("Authorization", f"Bearer {ADMIN}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


def need(what: str, result: tuple[int, Any], status: int) -> Any:
    if result[0] != status:
        sys.exit(f"api-fuzz: prepare: {what}: HTTP {result[0]} {result[1]}")
    return result[1]


def write_dict(path: Path, values: list[str]) -> None:
    def quote(value: str) -> str:
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'

    path.write_text("".join(quote(value) + "\n" for value in values), encoding="utf-8")


def make_event(title: str, codes: int) -> dict[str, Any]:
    event = need(
        f"making the API-managed event {title!r}",
        call(
            "POST",
            "/api/admin/events",
            {
                "title": title,
                "description": "Made by scripts/api-fuzz.sh",
                "startsAt": "2026-01-01T00:00:00Z",
                "endsAt": "2099-12-31T00:00:00Z",
            },
        ),
        201,
    )
    generated = need(
        f"generating codes for {title!r}",
        call("POST", f"/api/admin/events/{event['id']}/tokens", {"count": codes, "label": "api-fuzz"}),
        201,
    )
    return {"id": event["id"], "codes": [item["code"] for item in generated["tokens"]], "ids": [item["id"] for item in generated["tokens"]]}


def main() -> None:
    out, codes_csv, stream_dir = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    with codes_csv.open(encoding="utf-8") as handle:
        rows = [row for row in csv.DictReader(handle) if row.get("status") == "unused"]
    codes = [row["code"] for row in rows]
    if len(codes) < 4:
        sys.exit(f"api-fuzz: prepare: the demo event needs at least 4 unused codes, {codes_csv} has {len(codes)}")
    viewer, releaser, fuzz_codes = codes[:2], codes[2:3], codes[3:]

    # A playback token now, or a clear failure.
    request = urllib.request.Request(
        PLATFORM + "/api/tokens/validate",
        data=json.dumps({"code": viewer[0]}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            validated = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        sys.exit(f"api-fuzz: prepare: redeeming a demo code failed: HTTP {exc.code} {exc.read()!r}")
    if not validated.get("playbackToken"):
        sys.exit(f"api-fuzz: prepare: no playbackToken in the validate answer: {validated}")

    # Two API-managed events (config-managed ones are read-only in the admin API): one
    # whose id and code ids the dictionaries hand to the event and code operations (update,
    # delete, deactivate, revoke...), and one whose codes only the redemption dictionary
    # names, so that validate still finds codes nobody revoked (each redeems with 200 once,
    # then answers 409 while its session lives).
    target = make_event("api-fuzz target", 5)
    redeem = make_event("api-fuzz redemptions", 20)
    listed = need("listing the demo codes", call("GET", "/api/admin/tokens?eventId=demo"), 200)
    demo_ids = {item["code"]: item["id"] for item in listed["items"]}
    missing = [code for code in fuzz_codes if code not in demo_ids]
    if missing:
        sys.exit(f"api-fuzz: prepare: /api/admin/tokens?eventId=demo does not list {len(missing)} demo code(s)")

    files = sorted(
        str(path.relative_to(stream_dir))
        for path in stream_dir.rglob("*")
        if path.is_file() and path.suffix in (".m3u8", ".ts", ".m4s", ".mp4", ".aac", ".vtt", ".key")
    )
    # Files that must answer 404 ride along with the real ones: a missing segment, a
    # backslash, and an encoded traversal to the streamgate.toml beside streams/ (requests
    # would resolve a literal "..", not "%2e%2e").
    must_404 = ["360p|seg_999.ts", "360p\\index.m3u8", "%2e%2e|%2e%2e|streamgate.toml"]

    (out / "dict").mkdir(parents=True, exist_ok=True)
    write_dict(out / "dict" / "event-ids.dict", ["demo", target["id"]])
    write_dict(out / "dict" / "codes.dict", fuzz_codes + redeem["codes"])
    write_dict(out / "dict" / "code-ids.dict", [demo_ids[code] for code in fuzz_codes] + target["ids"])
    # schemathesis never puts "/" in a path parameter (its filter drops such values unless
    # the description gives an example with one), so "|" stands for it; hooks.py turns it
    # back into "/" for these files.
    write_dict(out / "dict" / "stream-files.dict", [file.replace("/", "|") for file in files] + must_404)
    write_dict(out / "dict" / "playback.dict", ["@playback"])

    state = {
        "platform": PLATFORM,
        "hls": os.environ["SG_HLS_URL"],
        "adminToken": ADMIN,
        "internalKey": os.environ["SG_INTERNAL_KEY"],
        "viewerEvent": "demo",
        "viewerCodes": viewer,
        "releaserCodes": releaser,
        # Sent with real slashes (hooks.py); the others in must_404 stay percent-encoded.
        "slashPaths": files + ["360p/seg_999.ts", "%2e%2e/%2e%2e/streamgate.toml"],
        "waitCapMs": int(os.environ.get("SG_WAIT_CAP_MS", "200")),
        "apiEvents": [target["id"], redeem["id"]],
        "redeemCodes": redeem["codes"],
        "fuzzCodes": fuzz_codes,
        "targetCodeIds": target["ids"],
    }
    state_path = out / "state.json"
    state_path.touch(mode=0o600)
    state_path.write_text(json.dumps(state, indent=1), encoding="utf-8")
    print(
        f"api-fuzz: fixtures: demo codes {len(viewer)} viewer + {len(releaser)} release + {len(fuzz_codes)} fuzz; "
        f"API events {target['id']} ({len(target['codes'])} codes), {redeem['id']} ({len(redeem['codes'])} codes); "
        f"{len(files)} stream files"
    )


if __name__ == "__main__":
    main()
