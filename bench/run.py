"""Run every benchmark and write bench/results.md.

    python -m bench.run [--large 1000000] [--small 10000] [--databases sqlite,postgresql]
"""

from __future__ import annotations

import argparse

from bench import bench_money, bench_pages
from bench.common import write_report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--money-members", type=int, default=100_000,
                        help="members for the dues and reconciliation goals")
    args = parser.parse_args()
    goals = []
    for kind in args.databases.split(","):
        print(f"== {kind}: flat and light pages", flush=True)
        for goal in bench_pages.run(kind, args.small, args.large):
            goal.number = goal.number + (0.1 if kind == "postgresql" else 0)
            goals.append(goal)
            print("\n".join(goal.lines), flush=True)
        print(f"== {kind}: dues and reconciliation", flush=True)
        for goal in bench_money.run(kind, args.money_members):
            goal.number = goal.number + (0.1 if kind == "postgresql" else 0)
            goals.append(goal)
            print("\n".join(goal.lines), flush=True)
    path = write_report(goals, extra=[
        "Goals 3 and 4 have their own scripts: `python bench/batches_seal.py --lines 100000` "
        "(sealing vs a bare openpyxl write-only loop) and `python bench/imports_100k.py` "
        "(import preview + commit vs python-calamine's read)."])
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
