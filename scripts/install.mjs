#!/usr/bin/env node
// npm install hook: keep a prebuilt or already built addon when one loads on this machine (tested
// in a child process, so a broken binary can't take npm down); otherwise build from source: the
// CPU variant, or with TINGWU_WHISPER_VARIANT=cuda the CUDA one (scripts/build-cuda.sh).
//   TINGWU_WHISPER_SKIP_BUILD=1    do nothing
//   TINGWU_WHISPER_FORCE_BUILD=1   build even when a binary loads
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { ROOT } from "./build-flags.mjs";

const require = createRequire(import.meta.url);

if (process.env.TINGWU_WHISPER_SKIP_BUILD === "1") process.exit(0);

const variant = (process.env.TINGWU_WHISPER_VARIANT || "cpu").toLowerCase();
if (variant !== "cpu" && variant !== "cuda") {
  console.error(`tingwu-whisper: expected cpu or cuda for TINGWU_WHISPER_VARIANT but received ${JSON.stringify(variant)}`);
  process.exit(1);
}

/** Binaries of the variant, in the loader's order (lib/native.ts): prebuilds, then local builds. */
function candidates() {
  const tuple = path.join(ROOT, "prebuilds", `${process.platform}-${process.arch}`);
  const list = (dir) => (fs.existsSync(dir) ? fs.readdirSync(dir) : []);
  if (variant === "cpu") {
    const out = [];
    try {
      // node-gyp-build's own choice among the prebuilds (PREBUILDS_ONLY: not build/Release).
      process.env.PREBUILDS_ONLY = "1";
      out.push(require("node-gyp-build").resolve(ROOT));
    } catch {
      // no prebuild for this platform
    }
    out.push(path.join(ROOT, "build", "Release", "tingwu_whisper.node"), path.join(ROOT, "build", "portable", "tingwu_whisper.node"));
    return out.filter((f) => fs.existsSync(f));
  }
  const majors = (names) => names.filter((n) => /^cuda\d+$/.test(n)).sort().reverse();
  return [
    ...majors(list(tuple)).flatMap((d) => list(path.join(tuple, d)).filter((f) => f.endsWith(".node")).map((f) => path.join(tuple, d, f))),
    ...majors(list(path.join(ROOT, "build"))).map((d) => path.join(ROOT, "build", d, `tingwu_whisper_${d}.node`)),
  ].filter((f) => fs.existsSync(f));
}

if (!process.env.TINGWU_WHISPER_FORCE_BUILD) {
  for (const file of candidates()) {
    const probe = spawnSync(process.execPath, ["-e", "require(process.argv[1]).runtimeInfo()", file], {
      stdio: "pipe",
      encoding: "utf8",
      timeout: 60_000,
    });
    if (probe.status === 0) {
      console.error(`tingwu-whisper: using ${path.relative(ROOT, file)}`);
      process.exit(0);
    }
    const why = (probe.stderr || "").split("\n").find((l) => /Error/.test(l)) ?? `exit ${probe.status ?? probe.signal}`;
    console.error(`tingwu-whisper: ${path.relative(ROOT, file)} does not load here (${why.trim()})`);
  }
}

console.error(`tingwu-whisper: no usable ${variant} binary; building it from source (needs cmake and a C++17 compiler)`);
const [cmd, args] =
  variant === "cuda"
    ? ["bash", [path.join(ROOT, "scripts", "build-cuda.sh")]]
    : [process.execPath, [path.join(ROOT, "scripts", "build-native.mjs"), "--variant", "cpu"]];
const build = spawnSync(cmd, args, { cwd: ROOT, stdio: "inherit" });
if (build.status !== 0) {
  console.error(
    "tingwu-whisper: the build failed. Install cmake and a C++17 compiler and run `npm rebuild tingwu-whisper`, " +
      "or set TINGWU_WHISPER_SKIP_BUILD=1 and point TINGWU_WHISPER_BINARY at a built .node file.",
  );
}
process.exit(build.status ?? 1);
