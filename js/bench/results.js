// Shared by the JS benches: where their machine-readable results go, quick mode, and
// whether a missed budget fails the script (standalone) or is left to `make bench`'s table.
//
//   BENCH_OUT=dir           results directory (default: the workspace's target/bench)
//   BENCH_QUICK=1           smaller counts: checks the pipeline in seconds, figures not quotable
//   BENCH_DEFER_BUDGETS=1   exit 0 on a missed budget (make bench: js/bench/table.js decides)
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const flag = (name) => !["", "0", "false", undefined].includes(process.env[name]);

export const QUICK = flag("BENCH_QUICK");
export const DEFER_BUDGETS = flag("BENCH_DEFER_BUDGETS");
export const OUT_DIR = process.env.BENCH_OUT
  ? resolve(process.env.BENCH_OUT)
  : fileURLToPath(new URL("../../target/bench/", import.meta.url));

/** A count from the environment (`name`), else `full`, or `quick` in quick mode. */
export function count(name, full, quick) {
  const value = process.env[name];
  if (value !== undefined && value !== "") {
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, not ${value}`);
    return n;
  }
  return QUICK ? quick : full;
}

/** Writes `results` (plus the script's name and mode) to OUT_DIR/`name`.json; returns the path. */
export function writeResults(name, results) {
  mkdirSync(OUT_DIR, { recursive: true });
  const path = join(OUT_DIR, `${name}.json`);
  writeFileSync(path, `${JSON.stringify({ bench: name, quick: QUICK, node: process.version, ...results }, null, 2)}\n`);
  return path;
}

/** Exit status for missed budgets: 1 when run alone, 0 under `make bench` (the table decides). */
export function budgetExit(missed) {
  if (missed.length > 0 && !DEFER_BUDGETS) process.exitCode = 1;
}
