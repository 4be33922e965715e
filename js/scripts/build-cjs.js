// The CommonJS entry points (`require("edge-authz")`, `/express`, `/fastify`, `/lambda-edge`),
// bundled from the ESM sources with esbuild (a dev dependency; nothing is added at run time),
// and the `.d.cts` twins of the hand-written types. Run by `make npm-build`.
import { build } from "esbuild";
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const out = `${root}cjs`;
rmSync(out, { recursive: true, force: true });
mkdirSync(out);

// `import.meta.url` (the wasm is read relative to the module) becomes the CJS file's URL;
// cjs/ sits beside src/, so `../dist/edge_authz_bg.wasm` resolves the same.
const common = {
  bundle: true,
  format: "cjs",
  platform: "node",
  target: "node18",
  logLevel: "warning",
  define: { "import.meta.url": "__edgeAuthzModuleUrl" },
  banner: { js: 'const __edgeAuthzModuleUrl = require("node:url").pathToFileURL(__filename).href;' },
};

await build({ ...common, entryPoints: [`${root}src/node.js`], outfile: `${out}/index.cjs` });

// The adapters share index.cjs (one wasm instance, one AuthzError class) instead of copying it.
const shareIndex = {
  name: "share-index",
  setup(builder) {
    builder.onResolve({ filter: /^\.\/node\.js$/ }, () => ({ path: "./index.cjs", external: true }));
  },
};
for (const name of ["express", "fastify", "lambda-edge"]) {
  await build({
    ...common,
    entryPoints: [`${root}src/${name}.js`],
    outfile: `${out}/${name}.cjs`,
    plugins: [shareIndex],
  });
}

for (const file of readdirSync(`${root}types`)) {
  if (file.endsWith(".d.ts") && file !== "worker.d.ts")
    writeFileSync(
      `${root}types/${file.replace(/\.d\.ts$/, ".d.cts")}`,
      readFileSync(`${root}types/${file}`, "utf8").replace(/"\.\/(index|core)\.js"/g, '"./$1.cjs"'),
    );
}
