#!/usr/bin/env python3
"""The figures of the last `make fuzz` runs, from fuzz/logs/TARGET.log, as a Markdown table:
executions, exec/s, final cov/ft (libFuzzer's edge and feature coverage), corpus entries,
duration, and whether the run crashed. Usage: python3 fuzz/stats.py [TARGET...]"""

import pathlib
import re
import sys

LOGS = pathlib.Path(__file__).resolve().parent / "logs"


def figures(log):
    text = log.read_text(errors="replace")
    stat = dict(re.findall(r"^stat::(\w+):\s+(\d+)", text, re.M))
    status = [m for m in re.finditer(r"^#(\d+)\s+\w+\s+cov: (\d+) ft: (\d+) corp: (\d+)/(\S+)", text, re.M)]
    last = status[-1] if status else None
    done = re.search(r"^Done (\d+) runs in (\d+) second", text, re.M)
    crashed = re.search(r"^==\d+== ERROR: libFuzzer: (.*)$|^(thread '.*' panicked at .*)$", text, re.M)
    return {
        "execs": stat.get("number_of_executed_units") or (done and done.group(1)) or "?",
        "exec/s": stat.get("average_exec_per_sec", "?"),
        "cov": last.group(2) if last else "?",
        "ft": last.group(3) if last else "?",
        "corpus": f"{last.group(4)} ({last.group(5)})" if last else "?",
        "seconds": done.group(2) if done else "?",
        "crash": (crashed.group(1) or crashed.group(2)) if crashed else "none",
    }


def main(targets):
    logs = [LOGS / f"{t}.log" for t in targets] if targets else sorted(LOGS.glob("*.log"))
    cols = ["execs", "exec/s", "cov", "ft", "corpus", "seconds", "crash"]
    print("| target | " + " | ".join(cols) + " |")
    print("|---" * (len(cols) + 1) + "|")
    for log in logs:
        if log.exists():
            f = figures(log)
            print(f"| {log.stem} | " + " | ".join(str(f[c]) for c in cols) + " |")
        else:
            print(f"| {log.stem} | " + " | ".join("-" for _ in cols) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])
