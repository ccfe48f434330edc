"""An admin scenario through a client generated from openapi.yaml by openapi-python-client.

Run by scripts/generated-client.sh, which generates and installs the client, starts a
platform and sets:
  SG_BASE_URL     the platform's base URL, e.g. http://127.0.0.1:3000
  SG_ADMIN_TOKEN  an admin API token (`streamgate admin-token create`)

Every call goes through the generated typed functions (`api/admin/*.py`, `sync_detailed`)
and the generated models, with raise_on_unexpected_status so that a status the
description does not declare fails the run. Prints one line per step; exits 1 with a
message on the first failure (after deleting the event it made, if any).
"""

from __future__ import annotations

import csv
import io
import os
import sys
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

try:
    # The package name is what openapi-python-client derives from the title
    # "StreamGate platform API".
    from stream_gate_platform_api_client import AuthenticatedClient, errors
    from stream_gate_platform_api_client.api.admin import (
        admin_session,
        create_event,
        dashboard,
        delete_event,
        export_event_tokens,
        generate_event_tokens,
        list_event_tokens,
        revoke_token,
    )
    from stream_gate_platform_api_client.models import (
        AdminCode,
        AdminEvent,
        AdminSession,
        CodeList,
        Dashboard,
        DeleteResponse,
        ErrorBody,
        GenerateRequest,
        GenerateResponse,
        NewEvent,
        Status,
    )
    from stream_gate_platform_api_client.types import File
except ImportError as e:  # the description lacks an operation or schema this needs
    print(f"FAIL: the generated client lacks what the scenario needs: {e}", file=sys.stderr)
    sys.exit(1)

CODES = 10
CSV_HEADER = ["code", "label", "status", "createdAt", "expiresAt"]


class Failure(Exception):
    pass


def check(condition: bool, message: str) -> None:
    if not condition:
        raise Failure(message)


def value(x: Any) -> Any:
    """An enum member's value, or x itself (fields may be enums or plain strings)."""
    return getattr(x, "value", x)


def call(what: str, operation: Any, expected: type | tuple[type, ...], *args: Any, **kwargs: Any) -> Any:
    """Calls a generated operation's sync_detailed and returns its parsed body, which
    must be of the generated type `expected` (anything else fails with the status and
    the server's error message)."""
    try:
        response = operation.sync_detailed(*args, **kwargs)
    except errors.UnexpectedStatus as e:
        raise Failure(
            f"{what}: status {e.status_code} is not declared in openapi.yaml: "
            f"{e.content.decode(errors='replace')[:500]}"
        ) from e
    except (KeyError, TypeError, ValueError) as e:
        # Most likely a generated model could not read the answer: the description and
        # the server disagree about a body's shape (a missing or null required field).
        raise Failure(f"{what}: the generated client failed (cannot parse the answer?): {type(e).__name__}: {e}") from e
    parsed = response.parsed
    if isinstance(parsed, ErrorBody):
        raise Failure(f"{what}: HTTP {int(response.status_code)}: {parsed.error}")
    if not isinstance(parsed, expected):
        names = " or ".join(t.__name__ for t in (expected if isinstance(expected, tuple) else (expected,)))
        raise Failure(
            f"{what}: HTTP {int(response.status_code)}, expected {names}, got "
            f"{type(parsed).__name__}: {response.content.decode(errors='replace')[:500]}"
        )
    return parsed


def rfc3339(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def main() -> int:
    base_url = os.environ.get("SG_BASE_URL")
    token = os.environ.get("SG_ADMIN_TOKEN")
    if not base_url or not token:
        print("FAIL: set SG_BASE_URL and SG_ADMIN_TOKEN", file=sys.stderr)
        return 2

    client = AuthenticatedClient(base_url=base_url, token=token, raise_on_unexpected_status=True)
    event_id: str | None = None
    step = 0

    def done(message: str) -> None:
        nonlocal step
        step += 1
        print(f"[{step}] {message}", flush=True)

    try:
        with client:
            session = call("GET /api/admin/session", admin_session, AdminSession, client=client)
            check(session.authenticated is True, f"session: authenticated is {session.authenticated!r}")
            check(session.via == "token", f"session: via is {session.via!r}, expected 'token'")
            done(f"session: authenticated via={session.via} name={session.name}")

            before = call("GET /api/admin/dashboard", dashboard, Dashboard, client=client)
            revoked_before = before.codes.revoked
            done(f"dashboard before: {before.codes.total} codes, {revoked_before} revoked")

            now = datetime.now(UTC).replace(microsecond=0)
            title = f"Generated-client check {uuid.uuid4().hex[:8]}"
            event = call(
                "POST /api/admin/events",
                create_event,
                AdminEvent,
                client=client,
                body=NewEvent(
                    title=title,
                    description="Made by scripts/generated-client/scenario.py; deleted at its end.",
                    starts_at=rfc3339(now + timedelta(hours=1)),
                    ends_at=rfc3339(now + timedelta(hours=3)),
                ),
            )
            event_id = event.id
            check(event.title == title, f"create event: title {event.title!r}, expected {title!r}")
            check(
                value(event.managed_by) == "api", f"create event: managedBy {value(event.managed_by)!r}, expected 'api'"
            )
            check(event.read_only is False, f"create event: readOnly {event.read_only!r}, expected false")
            check(event.codes.total == 0, f"create event: {event.codes.total} codes, expected 0")
            done(
                f"create event: id={event.id} managedBy={value(event.managed_by)} {event.starts_at} .. {event.ends_at}"
            )

            label = f"genclient-{uuid.uuid4().hex[:6]}"
            generated = call(
                f"POST /api/admin/events/{event_id}/tokens",
                generate_event_tokens,
                GenerateResponse,
                event_id,
                client=client,
                body=GenerateRequest(count=CODES, label=label),
            )
            codes: list[AdminCode] = list(generated.tokens)
            check(generated.generated == CODES, f"generate: generated={generated.generated}, expected {CODES}")
            check(len(codes) == CODES, f"generate: {len(codes)} codes returned, expected {CODES}")
            for c in codes:
                check(isinstance(c, AdminCode), f"generate: a token is a {type(c).__name__}")
                check(c.event_id == event_id, f"generate: code {c.code} has eventId {c.event_id!r}")
                check(c.label == label, f"generate: code {c.code} has label {c.label!r}, expected {label!r}")
                check(value(c.status) == "unused", f"generate: code {c.code} has status {value(c.status)!r}")
            check(len({c.code for c in codes}) == CODES, "generate: the codes are not all different")
            done(f"generate codes: {len(codes)} codes labelled {label}")

            # The description declares the CSV as text/csv; the generated function returns
            # it as str (schema `type: string`) or as a File (`format: binary`).
            try:
                exported = call(
                    f"GET /api/admin/events/{event_id}/tokens/export",
                    export_event_tokens,
                    (str, File),
                    event_id,
                    client=client,
                )
            except Failure as e:
                if "bytes-like object is required" in str(e):
                    # openapi-python-client 0.29 reads every text/* answer as text; with
                    # `format: binary` it then wraps that str in BytesIO, which fails.
                    raise Failure(
                        f"{e} (openapi.yaml declares this text/csv answer as `type: string, "
                        "format: binary`; the generated function cannot read it: declare "
                        "it as `type: string`)"
                    ) from e
                raise
            if isinstance(exported, File):
                exported = exported.payload.read().decode()
            lines = exported.splitlines()
            check(len(lines) >= 1, "export: empty CSV")
            check(lines[0] == ",".join(CSV_HEADER), f"export: header {lines[0]!r}, expected {','.join(CSV_HEADER)!r}")
            data = [line for line in lines[1:] if line.strip()]
            check(len(data) == CODES, f"export: {len(data)} data lines, expected {CODES}")
            rows = list(csv.DictReader(io.StringIO(exported)))
            check(
                sorted(r["code"] for r in rows) == sorted(c.code for c in codes),
                "export: the CSV's codes are not the generated ones",
            )
            check(all(r["label"] == label for r in rows), "export: a CSV row has another label")
            done(f"export CSV: header {lines[0]}, {len(data)} data lines")

            victim = codes[0]
            revoked = call(
                f"POST /api/admin/tokens/{victim.id}/revoke", revoke_token, AdminCode, victim.id, client=client
            )
            check(revoked.id == victim.id, f"revoke: answered for code id {revoked.id!r}, expected {victim.id!r}")
            check(value(revoked.status) == "revoked", f"revoke: status {value(revoked.status)!r}, expected 'revoked'")
            done(f"revoke: code {revoked.code} status={value(revoked.status)}")

            after = call("GET /api/admin/dashboard", dashboard, Dashboard, client=client)
            check(
                after.codes.revoked == revoked_before + 1,
                f"dashboard: {after.codes.revoked} revoked, expected {revoked_before} + 1",
            )
            done(f"dashboard after: {after.codes.revoked} revoked (was {revoked_before})")

            page = call(
                f"GET /api/admin/events/{event_id}/tokens?status=revoked",
                list_event_tokens,
                CodeList,
                event_id,
                client=client,
                status=Status.REVOKED,
            )
            listed = [(c.id, c.code) for c in page.items]
            check(listed == [(victim.id, victim.code)], f"list revoked: got {listed}, expected only {victim.code}")
            check(page.total == 1, f"list revoked: total={page.total}, expected 1")
            done(f"list codes status=revoked: exactly {victim.code}")

            deleted = call(
                f"DELETE /api/admin/events/{event_id}?force=true",
                delete_event,
                DeleteResponse,
                event_id,
                client=client,
                force=True,
            )
            check(deleted.deleted is True, f"delete: deleted={deleted.deleted!r}")
            check(deleted.codes == CODES, f"delete: codes={deleted.codes}, expected {CODES}")
            event_id = None
            done(f"delete event (force): deleted={deleted.deleted} codes={deleted.codes}")
    except Failure as e:
        print(f"FAIL at step {step + 1}: {e}", file=sys.stderr)
        return 1
    except Exception as e:  # a transport error or a bug in the generated code: say which
        print(f"FAIL at step {step + 1}: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    finally:
        if event_id is not None:
            cleanup(base_url, token, event_id)

    print(f"OK: {step} steps passed")
    return 0


def cleanup(base_url: str, token: str, event_id: str) -> None:
    """Best effort: delete the event a failed run made, with a fresh client."""
    try:
        with AuthenticatedClient(base_url=base_url, token=token) as c:
            r = delete_event.sync_detailed(event_id, client=c, force=True)
        print(f"cleanup: DELETE /api/admin/events/{event_id}?force=true -> {int(r.status_code)}", file=sys.stderr)
    except Exception as e:  # noqa: BLE001 - reporting only
        print(f"cleanup: could not delete event {event_id}: {e}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
