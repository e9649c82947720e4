"""The external process of the Pipes example: runs in its own Pod, talks to Dagster only through
``dagster-pipes`` (no Dagster install needed in its image).

Reads the numbers to score from the Pipes extras, logs through Pipes, prints a plain line (which
reaches the step's compute logs), reports a materialization with metadata and an asset check.
``PODC_EXAMPLE_SCORE_FAIL=1`` makes it fail after reporting, for the failure examples.
"""

from __future__ import annotations

import os
import sys

from dagster_pipes import open_dagster_pipes


def main() -> None:
    with open_dagster_pipes() as pipes:
        numbers = list(pipes.extras.get("numbers") or [1, 2, 3])
        pipes.log.info(f"scoring {len(numbers)} numbers in pod {os.environ.get('HOSTNAME', '?')}")
        print(f"external process: plain output, total so far {sum(numbers)}", flush=True)
        total = sum(numbers)
        pipes.report_asset_materialization(metadata={"total": total, "count": len(numbers)})
        pipes.report_asset_check(check_name="total_is_positive", passed=total > 0,
                                 metadata={"total": total})
        if os.environ.get("PODC_EXAMPLE_SCORE_FAIL") == "1":
            print("external process: failing on purpose", file=sys.stderr, flush=True)
            raise SystemExit(3)


if __name__ == "__main__":
    main()
