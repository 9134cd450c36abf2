#!/usr/bin/env node
// npm install hook: keep a prebuilt or already built addon when one loads on this machine (tested
// in a child process, so a broken binary can't take npm down); otherwise build from source: the
// CPU variant, or with TINGWU_WHISPER_VARIANT=cuda the CUDA one (scripts/build-cuda.sh).
//   TINGWU_WHISPER_SKIP_BUILD=1    do nothing
//   TINGWU_WHISPER_FORCE_BUILD=1   build even when a binary loads
import { spawnSync } from "node:child_process";
import path from "node:path";
import { ROOT } from "./build-flags.mjs";
import { chooseCudaBinary, nativeCandidates, probeInChild, requestedVariant } from "./native-binaries.mjs";
import { NODEJS_WHISPER_VERSION, whisperCppDir } from "./whisper-source.mjs";

if (process.env.TINGWU_WHISPER_SKIP_BUILD === "1") process.exit(0);

let variant;
try {
  variant = requestedVariant() ?? "cpu";
} catch (error) {
  console.error(`tingwu-whisper: ${error.message}`);
  process.exit(1);
}

if (!process.env.TINGWU_WHISPER_FORCE_BUILD) {
  // The loader's own policy (scripts/native-binaries.mjs): same candidates, same order, same test
  // load in a child process; for CUDA, the newest major this machine's driver supports.
  const candidates = nativeCandidates(ROOT, variant);
  if (variant === "cuda") {
    const choice = chooseCudaBinary(candidates, { probe: (file, major) => probeInChild(file, process.env, major), requireDevice: false });
    for (const line of choice.skipped) console.error(`tingwu-whisper: passed over ${line.replace(`${ROOT}${path.sep}`, "")}`);
    if (choice.candidate) {
      console.error(`tingwu-whisper: using ${path.relative(ROOT, choice.candidate.file)} (${choice.reason})`);
      process.exit(0);
    }
  } else {
    for (const { file } of candidates) {
      const probe = probeInChild(file);
      if (probe.ok) {
        console.error(`tingwu-whisper: using ${path.relative(ROOT, file)}`);
        process.exit(0);
      }
      console.error(`tingwu-whisper: ${path.relative(ROOT, file)} does not load here (${probe.error})`);
    }
  }
}

console.error(`tingwu-whisper: no usable ${variant} binary; building it from source (needs cmake and a C++17 compiler)`);
// The whisper.cpp source is needed only now, to compile.
try {
  process.env.WHISPER_CPP_DIR = whisperCppDir({ root: ROOT });
} catch (error) {
  console.error(`tingwu-whisper: ${error.message}. Set WHISPER_CPP_DIR to a whisper.cpp v1.9.1 tree, or install nodejs-whisper@${NODEJS_WHISPER_VERSION}.`);
  process.exit(1);
}
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
