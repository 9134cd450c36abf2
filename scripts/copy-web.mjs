// Copies the web page (lib/server/web: plain HTML, CSS and JavaScript, nothing to compile) into
// dist/server/web, where the compiled server looks for it. Run by `npm run build:ts`.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const from = path.join(root, "lib", "server", "web");
const to = path.join(root, "dist", "server", "web");
fs.rmSync(to, { recursive: true, force: true });
fs.cpSync(from, to, { recursive: true });
// stderr: `npm pack --json` runs this (prepare) and its stdout must stay JSON.
console.error(`copied ${fs.readdirSync(to).length} web files to ${path.relative(root, to)}`);
