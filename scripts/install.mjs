#!/usr/bin/env node
// npm install hook: use a prebuilt or already built addon when one loads on this machine,
// otherwise build the CPU variant from source (GGML_CUDA stays off unless asked for with
// TINGWU_WHISPER_VARIANT=cuda). TINGWU_WHISPER_SKIP_BUILD=1 skips everything.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { ROOT } from "./build-flags.mjs";

if (process.env.TINGWU_WHISPER_SKIP_BUILD === "1") process.exit(0);

const variant = process.env.TINGWU_WHISPER_VARIANT || "cpu";
if (variant === "cpu" && !process.env.TINGWU_WHISPER_FORCE_BUILD) {
  // Test-load in a child process: a broken binary must not take npm down with it.
  const probe = spawnSync(
    process.execPath,
    ["-e", "const b=require(require('node-gyp-build').resolve(process.argv[1])); b.runtimeInfo();", ROOT],
    { cwd: ROOT, stdio: "pipe", encoding: "utf8" },
  );
  if (probe.status === 0) {
    console.error("tingwu-whisper: using the existing native build");
    process.exit(0);
  }
}
console.error(`tingwu-whisper: no usable prebuilt binary; building the ${variant} variant from source`);
const build = spawnSync(process.execPath, [path.join(ROOT, "scripts", "build-native.mjs"), "--variant", variant], {
  cwd: ROOT,
  stdio: "inherit",
});
process.exit(build.status ?? 1);
