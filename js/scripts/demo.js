// The seed article's walkthrough, locally, with the Worker in workerd (Miniflare):
//   1. a signing key and JWKS, and an access token for `cognitouser` in group
//      `pet-veterinarian` (the CLI's `jwks generate` and `token mint`);
//   2. a petstore upstream on 127.0.0.1 (the seed's four pets; it also serves the JWKS) and
//      the real js/src/worker.js in workerd, its POLICIES KV seeded with the seed's policy;
//   3. the article's requests through the Worker, one line each, with the decision's
//      explanation for every deny (the Worker's own log, EXPLAIN=true);
//   4. a global sign-out: the user's cutoff record, as `edge-authz revoke --format kv` prints
//      it, written to the Worker's REVOCATIONS KV; the same request turns from 200 into 403
//      `revoked` once the demo's freshness window (2 s) has passed;
//   5. then serves on a localhost port until Ctrl-C.
// Usage: node js/scripts/demo.js [--ci]   (`--ci` or CI=1: steps 1-3, exit 1 on any difference)
// Configuration: demo/config.json (its group policy goes to KV, as in production), plus a
// `revocation` section with a short freshness (REVOCATION_FRESHNESS_SECONDS) for step 4:
// given here rather than in demo/config.json, which the benchmarks also read.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startMiniflare } from "../test/support/workerd.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const ci = process.argv.includes("--ci") || /^(1|true|yes)$/i.test(process.env.CI ?? "");
const bin = process.env.EDGE_AUTHZ_BIN || `${root}target/release/edge-authz`;
const GROUP = "pet-veterinarian";
const INVALID_TOKEN = "aGVhZGVy.Y2xhaW1z.c2lnbmF0dXJl"; // the article's
const CI_DEADLINE_MS = 60_000;
/** The demo's `revocation.freshnessSeconds`: short, so the sign-out shows in seconds (default 30). */
const REVOCATION_FRESHNESS_SECONDS = 2;
const SUB = "7d8ca528-4931-4254-9273-ea5ee853f271";

const colour = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code) => (text) => (colour ? `\x1b[${code}m${text}\x1b[0m` : String(text));
const [green, red, yellow, dim, bold] = [paint(32), paint(31), paint(33), paint(2), paint(1)];

// ---- cleanup: every process and server this script starts goes away on exit or Ctrl-C ----
const cleanups = [];
let exiting = false;
async function shutdown(code) {
  if (exiting) return;
  exiting = true;
  for (const cleanup of cleanups.reverse()) {
    try {
      await cleanup();
    } catch {
      // best effort
    }
  }
  process.exit(code);
}
process.on("SIGINT", () => shutdown(ci ? 130 : 0));
process.on("SIGTERM", () => shutdown(143));
if (ci) {
  setTimeout(() => {
    console.error(red(`demo: did not finish within ${CI_DEADLINE_MS / 1000} s`));
    shutdown(1);
  }, CI_DEADLINE_MS).unref();
}

// ---- 1. key, JWKS, token ----
const work = mkdtempSync(join(tmpdir(), "edge-authz-demo-"));
cleanups.push(() => rmSync(work, { recursive: true, force: true }));

const config = JSON.parse(readFileSync(`${root}demo/config.json`, "utf8"));
const issuer = config.issuers[0];
const region = issuer.userPoolId.split("_")[0];
const policy = config.policies?.groups?.[GROUP];
if (!policy) throw new Error(`demo/config.json has no policy for ${GROUP}`);

function cli(args) {
  return execFileSync(bin, args, { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim();
}

function mintToken() {
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    sub: SUB,
    iss: `https://cognito-idp.${region}.amazonaws.com/${issuer.userPoolId}`,
    client_id: issuer.clientId[0],
    token_use: "access",
    scope: "aws.cognito.signin.user.admin",
    auth_time: now,
    iat: now,
    exp: now + 3600,
    jti: `demo-${now}-${Math.random().toString(36).slice(2, 10)}`,
    username: "cognitouser",
    "cognito:groups": [GROUP],
  };
  return cli(["token", "mint", "--key", `${work}/key.json`, "--claims", JSON.stringify(claims)]);
}

// ---- 2. the petstore upstream (and the JWKS), then the Worker ----
const PETS = {
  pets: [
    { id: 1, name: "Birds" },
    { id: 2, name: "Cats" },
    { id: 3, name: "Dogs" },
    { id: 4, name: "Fish" },
  ],
};

function petstore(jwks) {
  return (request, response) => {
    const path = new URL(request.url, "http://upstream").pathname;
    const send = (status, body) =>
      response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    if (path === "/.well-known/jwks.json")
      return response.writeHead(200, { "content-type": "application/json" }).end(jwks);
    if (request.method !== "GET") return send(405, { message: "Method Not Allowed" });
    if (path === "/petstore/v1/pets" || path === "/petstore/v2/pets") return send(200, PETS);
    if (path === "/petstore/v2/status") return send(200, { status: "ok" });
    const one = /^\/petstore\/v1\/pets\/(\d+)$/.exec(path);
    const pet = one && PETS.pets.find((p) => p.id === Number(one[1]));
    if (pet) return send(200, pet);
    return send(404, { message: "Not Found" });
  };
}

/** Listens on 127.0.0.1:preferred, or any free port when that one is taken (always any in CI). */
async function listen(handler, preferred) {
  const server = createServer(handler);
  const attempt = (port) =>
    new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
  try {
    await attempt(ci ? 0 : preferred);
  } catch {
    await attempt(0);
  }
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  return server.address().port;
}

/** Whether 127.0.0.1:port can be bound now (for the Worker's preferred port). */
function portFree(port) {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", () => resolve(false));
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve(true)));
  });
}

/** The Worker's `authz` log lines (EXPLAIN=true), in order; the walkthrough is sequential. */
const decisions = [];
let decisionWaiter = null;
const liveLog = { on: false };
function onWorkerLog({ message, level }) {
  let event = null;
  try {
    event = JSON.parse(message);
  } catch {
    // not one of the Worker's JSON lines
  }
  if (event?.event === "policy_warning") {
    // The validator's word on the seed's verbatim policy (its `*/*/*` slots).
    console.log(yellow(`      policy warning (${event.group}): ${event.warning}`));
    return;
  }
  if (event?.event !== "authz") {
    if (level === "error" || level === "warn") console.error(dim(`  workerd ${level}: ${message}`));
    return;
  }
  if (liveLog.on) {
    const status = statusColour(event.status)(event.status);
    const why = event.status !== 200 ? (event.explanation ?? event.message) : null;
    console.log(
      `  ${event.method ?? "?"} ${event.path ?? ""} → ${status} ${event.reason}${why ? `\n     ${dim(why)}` : ""}`,
    );
    return;
  }
  decisions.push(event);
  decisionWaiter?.();
}

async function nextDecision(timeoutMs = 3000) {
  const deadline = Date.now() + timeoutMs;
  while (decisions.length === 0 && Date.now() < deadline) {
    await new Promise((resolve) => {
      decisionWaiter = resolve;
      setTimeout(resolve, 50);
    });
  }
  decisionWaiter = null;
  return decisions.shift() ?? null;
}

function statusColour(status) {
  return status >= 200 && status < 300 ? green : status === 401 || status === 403 ? yellow : red;
}

async function main() {
  console.log(
    bold("1. signing key, JWKS and a user token") + dim(`   (${bin.replace(root, "")} jwks generate, token mint)`),
  );
  cli([
    "jwks",
    "generate",
    "--alg",
    "RS256",
    "--kid",
    "demo-key-1",
    "--key-out",
    `${work}/key.json`,
    "--jwks-out",
    `${work}/jwks.json`,
  ]);
  const jwks = readFileSync(`${work}/jwks.json`, "utf8");
  const token = mintToken();
  console.log(
    `   cognitouser in group ${GROUP}, pool ${issuer.userPoolId}, client ${issuer.clientId[0]}, expires in 1 h`,
  );

  const upstreamPort = await listen(petstore(jwks), 8788);
  const upstream = `http://127.0.0.1:${upstreamPort}`;
  // The Worker's configuration: demo/config.json with the JWKS on the upstream's actual port
  // and no embedded group policies, so they come from KV as in production.
  const authzConfig = {
    ...config,
    issuers: config.issuers.map((i) => ({ ...i, jwksUri: `${upstream}/.well-known/jwks.json` })),
    policies: { ttlSeconds: 60 },
    revocation: { freshnessSeconds: REVOCATION_FRESHNESS_SECONDS },
  };
  const workerPort = !ci && (await portFree(8787)) ? 8787 : 0;
  const bindings = {
    AUTHZ_CONFIG: JSON.stringify(authzConfig),
    UPSTREAM: upstream,
    IDENTITY_HEADER_PREFIX: "x-authz-",
    FORWARD_AUTHORIZATION: "true",
    EXPLAIN: "true", // the demo prints the Worker's explanation of each decision
    EXPOSE_REASON: "false",
  };
  const mf = await startMiniflare("src/worker.js", bindings, {
    host: "127.0.0.1",
    port: workerPort,
    handleStructuredLogs: onWorkerLog,
  });
  cleanups.push(() => mf.dispose());
  const gateway = (await mf.ready).origin; // http://127.0.0.1:PORT
  const kv = await mf.getKVNamespace("POLICIES");
  await kv.put(GROUP, JSON.stringify(policy));
  const revocations = await mf.getKVNamespace("REVOCATIONS");
  console.log(bold("2. petstore upstream and the Worker in workerd"));
  console.log(`   upstream ${upstream} (four pets, JWKS at /.well-known/jwks.json)`);
  console.log(`   Worker   ${gateway} (js/src/worker.js, KV POLICIES/${GROUP} from demo/config.json)`);

  console.log(
    bold("3. the article's requests through the Worker") +
      dim("   (client 127.0.0.1, inside the policy's ranges, unless stated)"),
  );
  /** One request through the Worker, printed on one line; whether it got `step.want`. */
  async function run(step) {
    const headers = {};
    if (step.token) headers.authorization = `Bearer ${step.token}`;
    // workerd's client address is 127.0.0.1 (inside the policy's 127.0.0.0/8); the Worker reads
    // the source address from CF-Connecting-IP, which Miniflare sets only when absent.
    if (step.ip) headers["cf-connecting-ip"] = step.ip;
    const response = await fetch(`${gateway}${step.path}`, { headers, redirect: "manual" });
    const body = (await response.text()).trim();
    const decision = await nextDecision();
    const ok = response.status === step.want && (step.reason === undefined || decision?.reason === step.reason);
    const mark = ok ? green("ok") : red(`UNEXPECTED (wanted ${step.want}${step.reason ? ` ${step.reason}` : ""})`);
    const status = statusColour(response.status)(response.status);
    console.log(
      `   ${step.who.padEnd(28)} GET ${step.path.padEnd(20)} ${status} ${(decision?.reason ?? "?").padEnd(15)} ${body}  ${mark}`,
    );
    if (response.status !== 200)
      console.log(`      ${dim(decision?.explanation ?? decision?.message ?? "(no explanation logged)")}`);
    return ok;
  }

  const steps = [
    { who: "no token", path: "/petstore/v1/pets", want: 401 },
    { who: "the article's invalid token", path: "/petstore/v1/pets", token: INVALID_TOKEN, want: 403 },
    { who: "cognitouser", path: "/petstore/v1/pets", token, want: 200 },
    { who: "cognitouser", path: "/petstore/v2/pets", token, want: 403 },
    { who: "cognitouser", path: "/petstore/v2/status", token, want: 200 },
    { who: "cognitouser from 203.0.113.5", path: "/petstore/v1/pets", token, ip: "203.0.113.5", want: 403 },
    // Path variants are read as the origin would read them: decoded, or refused.
    { who: "cognitouser, v2 spelt %76%32", path: "/petstore/%76%32/pets", token, want: 403 },
    { who: "cognitouser, a `;` parameter", path: "/petstore/v1/pets;x=1", token, want: 400 },
  ];
  let failures = 0;
  for (const step of steps) if (!(await run(step))) failures++;
  if (failures) {
    console.log(red(`${failures} of ${steps.length} steps did not give the expected status`));
    return shutdown(1);
  }
  console.log(green(`   all ${steps.length} outcomes as in the article.`));

  console.log(
    bold("4. global sign-out: cognitouser's tokens revoked") +
      dim(`   (edge-authz revoke --format kv; revocation.freshnessSeconds = ${REVOCATION_FRESHNESS_SECONDS})`),
  );
  const before = { who: "cognitouser", path: "/petstore/v1/pets", token, want: 200 };
  if (!(await run(before))) return shutdown(1);
  const iss = `https://cognito-idp.${region}.amazonaws.com/${issuer.userPoolId}`;
  const command = cli(["revoke", "--sub", SUB, "--issuer", iss, "--format", "kv"]);
  console.log(`   ${dim("$")} ${command}`);
  const { key, record, expiration } = wranglerKvPut(command);
  await revocations.put(key, record, { expiration });
  console.log(`   written to the Worker's REVOCATIONS KV; waiting out the ${REVOCATION_FRESHNESS_SECONDS} s window`);
  await new Promise((resolve) => setTimeout(resolve, (REVOCATION_FRESHNESS_SECONDS + 1) * 1000));
  const after = { ...before, want: 403, reason: "revoked" };
  if (!(await run(after))) {
    console.log(red("   the revoked token was not refused"));
    return shutdown(1);
  }
  console.log(
    green(`   the same request: 200 before the sign-out, 403 revoked within ${REVOCATION_FRESHNESS_SECONDS} s of it.`),
  );
  if (ci) return shutdown(0);

  const fresh = mintToken(); // issued after the cutoff: a new sign-in is allowed
  console.log(bold(`5. serving on ${gateway} until Ctrl-C`) + dim("   (decisions are logged below)"));
  console.log(`   curl -i -H "Authorization: Bearer ${fresh}" ${gateway}/petstore/v1/pets`);
  liveLog.on = true;
}

/**
 * What `wrangler kv key put --binding=REVOCATIONS 'KEY' 'RECORD' --expiration=N` (the CLI's
 * `--format kv`) writes: its single-quoted arguments unquoted, and the expiration.
 */
function wranglerKvPut(command) {
  const quoted = [...command.matchAll(/'((?:[^']|'\\'')*)'/g)].map((m) => m[1].replaceAll("'\\''", "'"));
  const expiration = Number(/--expiration=(\d+)/.exec(command)?.[1]);
  if (!command.startsWith("wrangler kv key put --binding=REVOCATIONS ") || quoted.length !== 2 || !expiration)
    throw new Error(`unexpected output of edge-authz revoke --format kv: ${command}`);
  return { key: quoted[0], record: quoted[1], expiration };
}

main().catch((error) => {
  console.error(red(`demo failed: ${error?.stack ?? error}`));
  shutdown(1);
});
