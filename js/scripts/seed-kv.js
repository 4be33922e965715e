// Seeds wrangler's local KV (binding POLICIES) with the seed article's `pet-veterinarian`
// policy from demo/config.json, for `wrangler dev`. Usage: node js/scripts/seed-kv.js
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));
const config = JSON.parse(readFileSync(`${root}demo/config.json`, "utf8"));
const group = "pet-veterinarian";
const policy = config.policies?.groups?.[group];
if (!policy) throw new Error(`demo/config.json has no policy for ${group}`);
const wrangler = `${root}js/node_modules/.bin/wrangler`;
execFileSync(
  wrangler,
  [
    "kv",
    "key",
    "put",
    group,
    JSON.stringify(policy),
    "--binding",
    "POLICIES",
    "--local",
    "--config",
    `${root}wrangler.toml`,
  ],
  {
    cwd: root,
    stdio: "inherit",
  },
);
console.log(`seeded local KV POLICIES/${group}`);
