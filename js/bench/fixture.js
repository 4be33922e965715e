// What the authorization benches share: one user pool, one group's policy (the seed's
// PetStore statement with its IpAddress condition), a fixed clock, and the /proc walk that
// finds the workerd processes whose CPU the workerd and load benches read.
import { readdirSync, readFileSync } from "node:fs";

/** The benches' clock (2026-01-01T00:00:00Z), so that every token is valid. */
export const NOW = 1767225600;
export const POOL = "us-east-1_Bench";
export const ISSUER = `https://cognito-idp.us-east-1.amazonaws.com/${POOL}`;
/** The benches' policies: `pet-veterinarian` may GET the petstore from 192.0.2.0/24. */
export const POLICIES = {
  groups: {
    "pet-veterinarian": {
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "PetStore-API",
          Effect: "Allow",
          Action: "execute-api:Invoke",
          Resource: ["arn:aws:execute-api:*:*:*/*/*/petstore/v1/*"],
          Condition: { IpAddress: { "aws:SourceIp": ["192.0.2.0/24"] } },
        },
      ],
    },
  },
};

/** The configuration JSON text the glue takes, the JWKS at `jwksUri` (never fetched by default). */
export function benchConfig(jwksUri = "https://issuer.invalid/jwks.json") {
  return JSON.stringify({
    issuers: [{ userPoolId: POOL, tokenUse: "access", clientId: ["bench-client"], jwksUri }],
    policies: POLICIES,
  });
}

/** The pids of the descendants of `root` whose command name is `comm` (from /proc). */
export function descendantsNamed(root, comm) {
  const children = new Map();
  const names = new Map();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      const ppid = Number(stat.slice(close + 2).split(" ")[1]);
      names.set(Number(entry), stat.slice(stat.indexOf("(") + 1, close));
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(entry));
    } catch {
      // the process exited while we looked
    }
  }
  const found = [];
  const walk = (pid) => {
    for (const child of children.get(pid) ?? []) {
      if (names.get(child) === comm) found.push(child);
      walk(child);
    }
  };
  walk(root);
  return found;
}
