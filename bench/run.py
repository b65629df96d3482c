"""Run every benchmark and write bench/results.md.

    python -m bench.run [--large 1000000] [--small 10000] [--databases sqlite,postgresql]
                        [--money-members 100000] [--lines 100000] [--large-lines 1000000]
                        [--import-rows 100000] [--api-members 1000000]
                        [--goals 1,2,3,4,5,6,7] [--keep] [--pages ENDPOINT,...]

--keep reports, next to this run's goals, the goals an earlier run measured and this one did
not (each goal says when it was measured), so long goals can be run one at a time; --goals 0
--keep measures nothing and writes the report from the saved goals (BENCH_DIR/goals).

--pages times only the pages named (endpoints, or an area's prefix such as `contributions.`)
in goal 1: a quick before/after of the pages a change touches; the report says so, and the
goal is then not a verdict on every page. Goal 2 runs only when asked for (`--goals 1,2`).

Each goal runs on every database named; each figure is a ratio against a bare baseline run in
the same process, so it holds on a noisy machine.
"""

from __future__ import annotations

import argparse

from bench import bench_api, bench_batches, bench_imports, bench_money, bench_pages
from bench.common import save_goal, saved_goals, write_report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--money-members", type=int, default=100_000,
                        help="members for the dues and reconciliation goals")
    parser.add_argument("--lines", type=int, default=100_000, help="goal 3's batch")
    parser.add_argument("--large-lines", type=int, default=1_000_000,
                        help="goal 3's batch for the memory comparison")
    parser.add_argument("--import-rows", type=int, default=100_000, help="goal 4's file")
    parser.add_argument("--api-members", type=int, default=1_000_000,
                        help="goal 7's cooperative (the API's members list)")
    parser.add_argument("--goals", default="1,2,3,4,5,6,7",
                        help="which goals to run (1 and 2 run together, as 5 and 6 do)")
    parser.add_argument("--keep", action="store_true",
                        help="report the goals an earlier run measured and this one did not")
    parser.add_argument("--pages", default="",
                        help="goal 1 times only these endpoints (comma-separated; a name "
                             "ending in '.' takes the area's every page)")
    args = parser.parse_args()
    wanted = {int(g) for g in args.goals.split(",")}
    goals = []

    def keep(goal, kind):
        goal.number = goal.number + (0.1 if kind == "postgresql" else 0)
        goals.append(goal)
        save_goal(goal)
        print(f"Goal {goal.number}: {'met' if goal.met else 'NOT met'}", flush=True)
        print("\n".join(goal.lines), flush=True)

    for kind in args.databases.split(","):
        if wanted & {1, 2}:
            print(f"== {kind}: flat and light pages", flush=True)
            only = tuple(p for p in args.pages.split(",") if p)
            for goal in bench_pages.run(kind, args.small, args.large, only=only,
                                        light=2 in wanted):
                keep(goal, kind)
        if 3 in wanted:
            print(f"== {kind}: sealing a large batch", flush=True)
            keep(bench_batches.run(kind, args.lines, args.large_lines), kind)
        if 4 in wanted:
            print(f"== {kind}: a large import", flush=True)
            keep(bench_imports.run(kind, args.import_rows), kind)
        if wanted & {5, 6}:
            print(f"== {kind}: dues and reconciliation", flush=True)
            for goal in bench_money.run(kind, args.money_members):
                keep(goal, kind)
        if 7 in wanted:
            print(f"== {kind}: the API's members list", flush=True)
            keep(bench_api.run(kind, args.api_members), kind)
    if args.keep:
        measured = {g.number for g in goals}
        goals += [g for g in saved_goals() if g.number not in measured]
    path = write_report(sorted(goals, key=lambda g: g.number))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
