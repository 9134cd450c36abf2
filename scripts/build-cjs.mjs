#!/usr/bin/env node
// The CommonJS copy of the library (dist-cjs/), for `require("tingwu-whisper")`. Each lib/ file is
// transpiled on its own (no bundle), so the tree and every relative path (package.json, the addon's
// prebuilds/ and build/) stay as in dist/. `import.meta.url` becomes the file's own URL. The CLI
// (top-level await) stays ESM only. Types: dist/'s declarations, copied, read as CommonJS here.
import fs from "node:fs";
import path from "node:path";
import { build } from "esbuild";
import { ROOT } from "./build-flags.mjs";

const OUT = path.join(ROOT, "dist-cjs");
const SKIP = new Set(["cli.ts"]);

/** @param {string} dir @returns {string[]} */
function sources(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(file);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts") && !SKIP.has(path.relative(path.join(ROOT, "lib"), file)) ? [file] : [];
  });
}

fs.rmSync(OUT, { recursive: true, force: true });
await build({
  entryPoints: sources(path.join(ROOT, "lib")),
  outdir: OUT,
  outbase: path.join(ROOT, "lib"),
  format: "cjs",
  platform: "node",
  target: "node20",
  bundle: false,
  sourcemap: true,
  logLevel: "warning",
  define: { "import.meta.url": "__tingwuImportMetaUrl" },
  banner: { js: 'const __tingwuImportMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
});
fs.writeFileSync(path.join(OUT, "package.json"), `${JSON.stringify({ type: "commonjs" }, null, 2)}\n`);

// Declarations, when tsc has written them (npm run build:ts does, first).
const dist = path.join(ROOT, "dist");
/** @param {string} dir */
function copyDeclarations(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) copyDeclarations(file);
    else if (entry.name.endsWith(".d.ts") && entry.name !== "cli.d.ts") {
      const target = path.join(OUT, path.relative(dist, file));
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.copyFileSync(file, target);
    }
  }
}
if (fs.existsSync(dist)) copyDeclarations(dist);

// The web page's files (plain HTML/CSS/JS) sit beside the server module that serves them.
fs.cpSync(path.join(ROOT, "lib", "server", "web"), path.join(OUT, "server", "web"), { recursive: true });
