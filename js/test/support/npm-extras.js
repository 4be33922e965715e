// Packages some tests run against besides Express 5: Express 4 (the `edge-authz/express`
// middleware supports it) and Express's `method-override`. Both are dev dependencies pinned
// by the lockfile; Express 4 under the alias `express4` (`npm:express@4.22.3`), so that the
// two majors sit side by side in js/node_modules.
import express4 from "express4";
import methodOverride from "method-override";

/** Express 4 and method-override, as the tests import them. */
export async function npmExtras() {
  return { express4, methodOverride, skip: false };
}
