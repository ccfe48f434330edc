"""schemathesis hooks for scripts/api-fuzz.sh (loaded through SCHEMATHESIS_HOOKS).

1. Credentials per security scheme (admin API token, internal key, playback token), and
   a playback token that heals itself. The viewer and HLS operations need a live
   playback token, but the fuzzer legitimately breaks sessions as it goes: the stateful
   phase follows links from the code list to revoke/unrevoke, releases sessions, redeems
   codes. A token taken once at start would soon only exercise the 401/403/404 paths.
   So the token comes from a `Viewer` holding codes the dictionaries never name: before
   handing the token out it checks it (a heartbeat, at most once a second) and, when the
   session is gone, redeems the code again, after undoing whatever the fuzzer did to it
   (admin API: unrevoke the code, force-release the session that took it, re-activate
   the event). These helper requests go through urllib, not schemathesis: they are not
   test cases and no check runs on them.
2. `map_case`: puts a live token where a dictionary drew the "@playback" placeholder
   (`__token` on the HLS server, `token` in the release body; the release gets a token
   of its own code, so it ends a real session without ending the viewer's), keeps `/`
   in `{path}` for the files of the demo stream (the description says `{path}` may span
   segments, but schemathesis drops generated path values holding "/": the dictionary
   spells it "|"), and caps the long-poll `wait` of
   /api/revocations (up to 30 s by design) so that it cannot burn the time budget.
3. `after_call`: one JSON line per request sent (operation, phase, status, whether it
   carried a credential) to $SG_FUZZ_STATS, for the per-operation counts api-fuzz.sh prints.

Configuration comes from the JSON file named by $SG_FUZZ_STATE (written by prepare.py).
"""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import schemathesis

STATE: dict[str, Any] = json.load(open(os.environ["SG_FUZZ_STATE"], encoding="utf-8"))
PLATFORM: str = STATE["platform"].rstrip("/")
ADMIN_TOKEN: str = STATE["adminToken"]
INTERNAL_KEY: str = STATE["internalKey"]
EVENT: str = STATE["viewerEvent"]
WAIT_CAP_MS: int = int(STATE.get("waitCapMs", 200))
SLASH_PATHS: frozenset[str] = frozenset(STATE["slashPaths"])
PLACEHOLDER = "@playback"

ISSUED: set[str] = set()  # playback tokens the viewers got
_stats_lock = threading.Lock()
_stats_path = os.environ.get("SG_FUZZ_STATS")
DEBUG = os.environ.get("SG_FUZZ_DEBUG") == "1"


def _http(method: str, path: str, body: Any = None, bearer: str | None = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(PLATFORM + path, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if bearer:
        request.add_header("Authorization", f"Bearer {bearer}")
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    try:
        return status, json.loads(raw or b"null")
    except ValueError:
        return status, None


def _record(entry: dict[str, Any]) -> None:
    if not _stats_path:
        return
    line = json.dumps(entry, separators=(",", ":")) + "\n"
    with _stats_lock, open(_stats_path, "a", encoding="utf-8") as out:
        out.write(line)


class Viewer:
    """A device watching the demo event with one of a few reserved codes."""

    def __init__(self, name: str, codes: list[str], check_every: float) -> None:
        self.name = name
        self.codes = codes
        self.check_every = check_every
        self.token: str | None = None
        self.checked = 0.0
        self.lock = threading.Lock()

    def current(self) -> str:
        with self.lock:
            now = time.monotonic()
            if self.token is not None and now - self.checked < self.check_every:
                return self.token
            if self.token is not None:
                status, _ = _http("POST", "/api/playback/heartbeat", bearer=self.token)
                if status == 200:
                    self.checked = now
                    return self.token
            self.token = self._heal()
            self.checked = time.monotonic()
            return self.token

    def _heal(self) -> str:
        problems = []
        for code in self.codes:
            for _ in range(4):
                status, body = _http("POST", "/api/tokens/validate", {"code": code})
                message = body.get("error", "") if isinstance(body, dict) else ""
                if status == 200:
                    ISSUED.add(body["playbackToken"])
                    _record({"heal": self.name, "code": code[:3] + "…", "after": problems})
                    return body["playbackToken"]
                problems.append(f"{status} {message}")
                if status == 409:
                    self._release_session_of(code)
                elif status == 403 and "revoked" in message:
                    self._unrevoke(code)
                elif status == 403:
                    _http("POST", f"/api/admin/events/{EVENT}/activate", bearer=ADMIN_TOKEN)
                else:
                    break
        raise RuntimeError(f"api-fuzz hooks: cannot get a playback token for {self.name}: {problems}")

    def _release_session_of(self, code: str) -> None:
        status, body = _http("GET", f"/api/admin/events/{EVENT}/sessions", bearer=ADMIN_TOKEN)
        for item in (body or {}).get("items", []) if status == 200 else []:
            if item.get("code") == code:
                _http("POST", f"/api/admin/sessions/{urllib.parse.quote(item['id'], safe='')}/release", bearer=ADMIN_TOKEN)

    def _unrevoke(self, code: str) -> None:
        query = urllib.parse.urlencode({"eventId": EVENT, "search": code})
        status, body = _http("GET", f"/api/admin/tokens?{query}", bearer=ADMIN_TOKEN)
        for item in (body or {}).get("items", []) if status == 200 else []:
            if item.get("code") == code:
                _http("POST", f"/api/admin/tokens/{urllib.parse.quote(item['id'], safe='')}/unrevoke", bearer=ADMIN_TOKEN)


VIEWER = Viewer("viewer", STATE["viewerCodes"], check_every=1.0)
# The release operation ends the session of the token it is given: give it its own.
RELEASER = Viewer("releaser", STATE["releaserCodes"], check_every=0.0)


def _schemes(operation: Any) -> list[list[str]]:
    """The operation's security requirements (alternatives, each a list of scheme names)."""
    raw = operation.definition.raw or {}
    requirements = raw.get("security", operation.schema.raw_schema.get("security", []))
    return [list(requirement) for requirement in requirements if isinstance(requirement, dict)]


@schemathesis.auth(refresh_interval=None)
class StreamGateAuth:
    """The credential each operation's security scheme names: the admin API token for
    AdminToken (AdminCookie, the console's cookie, is the other alternative and is not
    used), the internal key for InternalKey, a live playback JWT for PlaybackToken.
    Operations without security get nothing. schemathesis does not call this when a case
    deliberately breaks the credential (negative testing of the security parameter)."""

    def get(self, case: schemathesis.Case, context: schemathesis.AuthContext) -> tuple[str, str] | None:
        for requirement in _schemes(case.operation):
            if requirement == ["AdminToken"]:
                return ("Authorization", f"Bearer {ADMIN_TOKEN}")
            if requirement == ["InternalKey"]:
                return ("X-Internal-Api-Key", INTERNAL_KEY)
            if requirement == ["PlaybackToken"]:
                return ("Authorization", f"Bearer {VIEWER.current()}")
        return None

    def set(self, case: schemathesis.Case, data: tuple[str, str], context: schemathesis.AuthContext) -> None:
        name, value = data
        case.headers = case.headers or {}
        for key in [key for key in case.headers if key.lower() == name.lower()]:
            del case.headers[key]
        case.headers[name] = value


@schemathesis.hook
def before_add_examples(context: schemathesis.HookContext, examples: list[schemathesis.Case]) -> None:
    """Explicit cases for the examples phase (the descriptions have no examples): the
    requests a real player and console make, so that the success paths are checked
    whatever the random phases happen to draw. Credentials are set here directly."""
    operation = context.operation
    operation_id = (operation.definition.raw or {}).get("operationId")
    viewer = {"Authorization": f"Bearer {VIEWER.current()}"}
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    json_type = "application/json; charset=utf-8"
    redeem = STATE["redeemCodes"]
    if operation_id == "validateCode":
        examples.append(operation.Case(body={"code": redeem[0]}, media_type=json_type))  # 200
        examples.append(operation.Case(body={"code": redeem[0]}, media_type=json_type))  # 409 in use
        examples.append(operation.Case(body={"code": f"  {redeem[1]} "}, media_type=json_type))  # trimmed: 200
    elif operation_id == "eventStatus":
        examples.append(operation.Case(path_parameters={"id": "demo"}, query={"code": STATE["fuzzCodes"][0]}))
        examples.append(operation.Case(path_parameters={"id": "demo"}, query={"code": redeem[2]}))  # other event: 401
    elif operation_id in ("refreshToken", "heartbeat"):
        examples.append(operation.Case(headers=dict(viewer)))
    elif operation_id == "releaseSession":
        examples.append(operation.Case(body={"token": RELEASER.current()}, media_type=json_type))
    elif operation_id in ("getStreamFile", "headStreamFile"):
        for path in ("index.m3u8", "360p/index.m3u8", "180p/seg_000.ts"):
            examples.append(operation.Case(path_parameters={"eventId": "demo", "path": path}, headers=dict(viewer)))
        if operation_id == "getStreamFile":
            examples.append(
                operation.Case(path_parameters={"eventId": "demo", "path": "360p/index.m3u8"}, query={"__token": VIEWER.current()})
            )
            examples.append(
                operation.Case(
                    path_parameters={"eventId": "demo", "path": "360p/seg_001.ts"}, headers={**viewer, "Range": "bytes=0-187"}
                )
            )
    elif operation_id in ("getEvent", "listEventTokens", "exportEventTokens", "listEventSessions"):
        for event in ("demo", STATE["apiEvents"][0]):
            examples.append(operation.Case(path_parameters={"id": event}, headers=dict(admin)))
    elif operation_id in ("revokeToken", "unrevokeToken"):
        examples.append(operation.Case(path_parameters={"id": STATE["targetCodeIds"][0]}, headers=dict(admin)))


@schemathesis.hook
def map_case(context: schemathesis.HookContext, case: schemathesis.Case) -> schemathesis.Case:
    operation_id = (case.operation.definition.raw or {}).get("operationId")
    if operation_id in ("getStreamFile", "headStreamFile"):
        path = (case.path_parameters or {}).get("path")
        if isinstance(path, str) and urllib.parse.unquote(path).replace("|", "/") in SLASH_PATHS:
            case.path_parameters["path"] = urllib.parse.unquote(path).replace("|", "/")
        if (case.query or {}).get("__token") == PLACEHOLDER:
            case.query["__token"] = VIEWER.current()
    elif operation_id == "releaseSession":
        if isinstance(case.body, dict) and case.body.get("token") == PLACEHOLDER:
            case.body["token"] = RELEASER.current()
    elif operation_id == "revocations":
        wait = (case.query or {}).get("wait")
        if isinstance(wait, int) and not isinstance(wait, bool) and wait > WAIT_CAP_MS:
            case.query["wait"] = WAIT_CAP_MS
    return case


@schemathesis.hook
def after_call(context: schemathesis.HookContext, case: schemathesis.Case, response: Any) -> None:
    request = response.request
    headers = {key.lower(): value for key, value in request.headers.items()}
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(request.url).query)
    bearer = headers.get("authorization", "")
    bearer = bearer[7:] if bearer.lower().startswith("bearer ") else None
    body_token = case.body.get("token") if isinstance(case.body, dict) else None
    body_token = body_token if isinstance(body_token, str) else None
    # Only the credentials this run issued count; a random one generated to test the
    # rejection of bad credentials is "other".
    credential = None
    if headers.get("x-internal-api-key") == INTERNAL_KEY:
        credential = "internal-key"
    elif bearer == ADMIN_TOKEN:
        credential = "admin-token"
    elif bearer in ISSUED:
        credential = "playback-header"
    elif any(token in ISSUED for token in query.get("__token", [])):
        credential = "playback-query"
    elif body_token in ISSUED:
        credential = "playback-body"
    elif bearer is not None or "x-internal-api-key" in headers or "__token" in query or body_token:
        credential = "other"
    phase = "examples"  # the explicit cases of before_add_examples carry no metadata
    if case.meta is not None:
        phase = getattr(case.meta.phase.name, "value", str(case.meta.phase.name))
    entry = {
        "secured": bool(_schemes(case.operation)),
        "api": case.operation.schema.raw_schema.get("info", {}).get("title", "?"),
        "op": case.operation.label,
        "phase": phase,
        "status": response.status_code,
        "credential": credential,
    }
    if DEBUG:  # SG_FUZZ_DEBUG=1: the request too (credentials included: a scratch-dir file)
        entry["url"] = request.url
        entry["body"] = request.body.decode(errors="replace") if isinstance(request.body, bytes) else request.body
    _record(entry)
