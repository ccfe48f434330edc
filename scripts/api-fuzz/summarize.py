"""Per-operation counts of an api-fuzz run, from the JSON lines hooks.py wrote.

    summarize.py STATS_JSONL

A case is one request schemathesis sent (examples, coverage, fuzzing and stateful phases
together). "auth" counts the cases that carried a valid credential issued for this run
(admin API token, internal key, a live playback token in the header, the query or the
release body; not the random ones generated to test rejection); "past 401" those whose
answer was anything but 401, i.e. that got beyond the credential check.
"""

from __future__ import annotations

import collections
import json
import sys


def main() -> None:
    per_op: dict[tuple[str, str], collections.Counter] = collections.defaultdict(collections.Counter)
    heals = []
    with open(sys.argv[1], encoding="utf-8") as handle:
        for line in handle:
            entry = json.loads(line)
            if "heal" in entry:
                heals.append(entry)
                continue
            counter = per_op[(entry["api"], entry["op"])]
            status = entry["status"]
            counter["cases"] += 1
            counter["auth"] += entry["credential"] not in (None, "other")
            counter["past401"] += status != 401
            counter[f"{status // 100}xx"] += 1
            counter[str(status)] += 1
            counter[f"phase:{entry['phase']}"] += 1
            if entry.get("secured"):
                counter["secured"] += 1
                counter["secured_auth"] += entry["credential"] not in (None, "other")
                counter["secured_past401"] += status != 401

    head = f"{'operation':<48} {'cases':>6} {'auth':>6} {'past 401':>8} {'2xx':>5} {'4xx':>5} {'5xx':>4}  statuses"
    total: collections.Counter = collections.Counter()
    for api in sorted({api for api, _ in per_op}):
        print(f"\n{api}\n{head}")
        sub: collections.Counter = collections.Counter()
        for (entry_api, op), counter in sorted(per_op.items(), key=lambda item: item[0][1].split(" ", 1)[::-1]):
            if entry_api != api:
                continue
            sub.update(counter)
            print(_row(op, counter))
        print(_row("  subtotal", sub))
        total.update(sub)
    print()
    print(_row("TOTAL (both descriptions)", total))
    cases = total["cases"] or 1
    print(
        f"\napi-fuzz: {total['cases']} cases over {len(per_op)} operations; "
        f"{total['auth']} ({100 * total['auth'] / cases:.0f}%) sent with a credential, "
        f"{total['past401']} ({100 * total['past401'] / cases:.0f}%) answered other than 401, "
        f"{total['2xx']} ({100 * total['2xx'] / cases:.0f}%) 2xx, {total['5xx']} 5xx"
    )
    secured = total["secured"] or 1
    print(
        f"api-fuzz: of the {total['secured']} cases on operations that require a credential, "
        f"{total['secured_auth']} ({100 * total['secured_auth'] / secured:.0f}%) carried a valid one and "
        f"{total['secured_past401']} ({100 * total['secured_past401'] / secured:.0f}%) got past 401 "
        "(the rest test the refusal of missing or forged credentials)"
    )
    phases = {key.split(":", 1)[1]: value for key, value in total.items() if key.startswith("phase:")}
    print("api-fuzz: cases by phase: " + ", ".join(f"{name} {count}" for name, count in sorted(phases.items())))
    if heals:
        print(f"api-fuzz: the playback-token provider re-redeemed a code {len(heals)} time(s) after the fuzzer ended, revoked or took over its session")


def _row(op: str, counter: collections.Counter) -> str:
    statuses = ",".join(
        f"{key}:{value}" for key, value in sorted(counter.items()) if key.isdigit()
    )
    return (
        f"{op:<48} {counter['cases']:>6} {counter['auth']:>6} {counter['past401']:>8} "
        f"{counter['2xx']:>5} {counter['4xx']:>5} {counter['5xx']:>4}  {statuses}"
    )


if __name__ == "__main__":
    main()
