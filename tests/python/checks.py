"""What the SDK scripts share: named checks that are counted, never
stop the script, and end in the `N passed, M failed` line the Rust side
reads."""

import json
import sys

_counts = {"passed": 0, "failed": 0}


def check(name, condition, detail=""):
    """Records one check; prints `ok` or `FAIL` with `detail`."""
    if condition:
        _counts["passed"] += 1
        print(f"ok   {name}")
    else:
        _counts["failed"] += 1
        print(f"FAIL {name} {detail}")


def finish(result):
    """Prints the summary and `RESULT <json>`, then exits 1 if any check failed."""
    print(f"{_counts['passed']} passed, {_counts['failed']} failed")
    print("RESULT " + json.dumps(result))
    sys.exit(1 if _counts["failed"] else 0)
