// The tarballs to publish: `edge-authz` with its platform packages as optional dependencies,
// and each platform package whose addon is built (make native-build / native-packages).
//
//   node scripts/stage-npm.js --out DIR [--partial]
//       → DIR/edge-authz-<v>.tgz, DIR/edge-authz-<tag>-<v>.tgz
//
// The optional dependencies are written into the staged manifest only, as napi-rs's
// `prepublish` does: in the repository they would name packages the registry does not have
// yet, and `npm ci` would refuse the lockfile. They name exactly the platform packages staged
// here: a published dependency on a package nobody built is one anybody could publish (and
// its code would load on every install of that platform). Every platform must be built
// (`make npm-stage` builds them first) unless `--partial` (tests on one machine) stages what
// is built and depends on that alone. Prints the tarballs as JSON.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const at = process.argv.indexOf("--out");
if (at < 0 || !process.argv[at + 1]) {
  console.error("usage: node scripts/stage-npm.js --out DIR");
  process.exit(2);
}
const out = resolve(process.argv[at + 1]);
const partial = process.argv.includes("--partial");
mkdirSync(out, { recursive: true });

const env = {
  ...process.env,
  npm_config_audit: "false",
  npm_config_fund: "false",
  npm_config_update_notifier: "false",
};
const npm = (args, cwd) => JSON.parse(execFileSync("npm", [...args, "--json"], { cwd, env, encoding: "utf8" }));

const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const platforms = readdirSync(join(root, "npm"), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();

const tarballs = [];
for (const tag of platforms) {
  const dir = join(root, "npm", tag);
  const platform = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  if (platform.version !== manifest.version)
    throw new Error(
      `${platform.name} is at ${platform.version}, edge-authz at ${manifest.version}: release them together`,
    );
  if (!existsSync(join(dir, platform.main))) {
    if (!partial) throw new Error(`${platform.name}: ${platform.main} is not built (make native-packages)`);
    console.error(`${platform.name}: ${platform.main} not built, not staged (--partial)`);
    continue;
  }
  const [packed] = npm(["pack", "--pack-destination", out], dir);
  tarballs.push({ name: platform.name, file: join(out, packed.filename) });
}

// The main package as `npm pack` makes it (prepack builds cjs/), then its manifest gains the
// optional dependencies and loses the build scripts, and is packed again.
const work = mkdtempSync(join(out, "stage-"));
try {
  const [packed] = npm(["pack", "--pack-destination", work], root);
  execFileSync("tar", ["-xzf", join(work, packed.filename), "-C", work]);
  const stagedDir = join(work, "package");
  const staged = JSON.parse(readFileSync(join(stagedDir, "package.json"), "utf8"));
  staged.optionalDependencies = Object.fromEntries(
    tarballs.filter(({ name }) => name !== manifest.name).map(({ name }) => [name, manifest.version]),
  );
  delete staged.scripts;
  delete staged.devDependencies;
  writeFileSync(join(stagedDir, "package.json"), `${JSON.stringify(staged, null, 2)}\n`);
  const [main] = npm(["pack", "--pack-destination", out], stagedDir);
  tarballs.unshift({ name: manifest.name, file: join(out, main.filename) });
} finally {
  rmSync(work, { recursive: true, force: true });
}
console.log(JSON.stringify(tarballs, null, 2));
