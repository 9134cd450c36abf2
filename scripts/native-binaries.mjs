// The one loader policy: which binaries exist and in what order (prebuilds, then local builds;
// CUDA majors newest first, compared as numbers), the test load in a child process, and which
// CUDA major the installed driver can run. Plain ESM so that lib/native.ts (run time) and
// scripts/install.mjs (npm install, before any TypeScript is built) call the same code.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { describeMissingCudaLibraries, findCudaLibraries, withCudaLibraryPath } from "./cuda-libs.mjs";

const require = createRequire(import.meta.url);

export const PROBE_TIMEOUT_MS = 60_000;

/**
 * TINGWU_WHISPER_VARIANT: `cpu` or `cuda` (any case), or undefined when unset or blank. Throws a
 * RangeError naming the variable otherwise. The loader, the install script and the build script
 * read it through here.
 */
export function requestedVariant(env = process.env) {
  const text = env.TINGWU_WHISPER_VARIANT?.trim().toLowerCase();
  if (!text) return undefined;
  if (text !== "cpu" && text !== "cuda") {
    throw new RangeError(`Expected cpu or cuda for TINGWU_WHISPER_VARIANT but received ${JSON.stringify(env.TINGWU_WHISPER_VARIANT)}`);
  }
  return text;
}

function readdir(dir) {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

/** CUDA majors present among folder names (cuda13, cuda12, ...), newest first, as numbers. */
export function cudaMajors(names) {
  return names
    .map((name) => /^cuda(\d+)$/.exec(name)?.[1])
    .filter((m) => m !== undefined)
    .map(Number)
    .sort((a, b) => b - a);
}

/** node-gyp-build's choice of .node file in `root/prebuilds/<platform>-<arch>[/sub]`, by its own matching rules. */
function prebuildIn(root, sub) {
  const ngb = require("node-gyp-build");
  const tuple = readdir(path.join(root, "prebuilds"))
    .map((name) => ngb.parseTuple(name))
    .filter(ngb.matchTuple(process.platform, process.arch))
    .sort(ngb.compareTuples)[0];
  if (!tuple) return undefined;
  const folder = path.join(root, "prebuilds", tuple.name, ...(sub ? [sub] : []));
  const winner = readdir(folder)
    .map((file) => ngb.parseTags(file))
    .filter(ngb.matchTags("node", process.versions.modules))
    .sort(ngb.compareTags("node"))[0];
  return winner && path.join(folder, winner.file);
}

/**
 * Every binary of a variant under `root`, in the order they are tried: prebuilds
 * (`prebuilds/linux-x64/*.node` for CPU, `prebuilds/linux-x64/cuda<major>/` for CUDA), then local
 * builds (`build/Release`, `build/portable`, `build/cuda<major>`). CUDA: newest major first.
 */
export function nativeCandidates(root, variant) {
  const out = [];
  const add = (file, source, cudaMajor) => {
    if (file && fs.existsSync(file)) out.push({ file, variant, source, ...(cudaMajor ? { cudaMajor } : {}) });
  };
  const tupleDir = path.join(root, "prebuilds", `${process.platform}-${process.arch}`);
  if (variant === "cpu") {
    add(prebuildIn(root), "prebuild");
    for (const dir of ["Release", "portable"]) add(path.join(root, "build", dir, "tingwu_whisper.node"), "local build");
  } else {
    for (const major of cudaMajors(readdir(tupleDir))) add(prebuildIn(root, `cuda${major}`), "prebuild", major);
    for (const major of cudaMajors(readdir(path.join(root, "build")))) {
      add(path.join(root, "build", `cuda${major}`, `tingwu_whisper_cuda${major}.node`), "local build", major);
    }
  }
  return out;
}

// Loaded in a child so that a binary which crashes, aborts or hangs on load (a broken CUDA
// install, a driver mismatch) takes down the child, not this process.
const PROBE_SCRIPT = `
const info = require(process.argv[1]).runtimeInfo();
process.stdout.write(JSON.stringify({ gpus: info.devices.filter((d) => d.type === "gpu").length, cudaDriverVersion: info.cudaDriverVersion ?? null }));
`;

function lastErrorLine(stderr) {
  const lines = stderr.split("\n").map((l) => l.trim()).filter(Boolean);
  return lines.find((l) => /Error:/.test(l)) ?? lines.at(-1) ?? "";
}

/**
 * Test-loads a .node file in a child node process. For a CUDA binary the child gets the CUDA
 * libraries of its major on LD_LIBRARY_PATH from wherever scripts/cuda-libs.mjs finds them.
 * @returns {{ ok: boolean, gpus: number, cudaDriverVersion?: string|null, error?: string }}
 */
export function probeInChild(file, env = process.env, cudaMajor) {
  const libs = cudaMajor ? findCudaLibraries(cudaMajor, { env }) : undefined;
  const child = spawnSync(process.execPath, ["-e", PROBE_SCRIPT, file], {
    env: libs ? withCudaLibraryPath(env, libs) : env,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    timeout: PROBE_TIMEOUT_MS,
    killSignal: "SIGKILL",
  });
  if (child.error && child.error.code === "ETIMEDOUT") {
    return { ok: false, gpus: 0, error: `the test load in a child process hung for ${PROBE_TIMEOUT_MS / 1000} s` };
  }
  if (child.error) return { ok: false, gpus: 0, error: `could not start a child process: ${child.error.message}` };
  if (child.status !== 0) {
    const how = child.signal ? `was killed by ${child.signal}` : `exited with code ${child.status}`;
    const why = lastErrorLine(child.stderr);
    const missing = libs && libs.missing.length > 0 ? `; ${describeMissingCudaLibraries(libs)}` : "";
    return { ok: false, gpus: 0, error: `the test load in a child process ${how}${why ? `: ${why}` : ""}${missing}` };
  }
  try {
    const { gpus, cudaDriverVersion } = JSON.parse(child.stdout);
    return { ok: true, gpus, cudaDriverVersion };
  } catch {
    return { ok: false, gpus: 0, error: "the test load in a child process printed no runtime info" };
  }
}

/** Whether the NVIDIA driver's libcuda.so.1 is installed (without loading it). */
export function cudaDriverPresent(env = process.env) {
  if (process.platform !== "linux") return false;
  const multiarch = `${process.arch === "arm64" ? "aarch64" : "x86_64"}-linux-gnu`;
  const dirs = [
    ...(env.LD_LIBRARY_PATH ?? "").split(":").filter(Boolean),
    `/usr/lib/${multiarch}`,
    `/lib/${multiarch}`,
    "/usr/lib64",
    "/usr/lib",
    "/usr/local/nvidia/lib64", // NVIDIA's container runtime
    "/usr/lib/wsl/lib", // WSL 2
  ];
  if (dirs.some((dir) => fs.existsSync(path.join(dir, "libcuda.so.1")))) return true;
  try {
    return fs.readFileSync("/etc/ld.so.cache").includes("libcuda.so.1");
  } catch {
    return false;
  }
}

/**
 * Whether a driver that supports CUDA `driverVersion` ("12.2", from cudaDriverGetVersion) runs a
 * binary built with CUDA `major`: CUDA's minor-version compatibility lets any driver of the same
 * major run it (R525+ for 12, R580+ for 13). Unknown driver version: undefined.
 */
export function driverRunsCudaMajor(driverVersion, major) {
  const driverMajor = Number(/^(\d+)\./.exec(driverVersion ?? "")?.[1]);
  if (!Number.isFinite(driverMajor)) return undefined;
  return driverMajor >= Number(major);
}

/** The oldest Linux driver branch of each CUDA major (minor-version compatibility). */
export const MIN_DRIVER = { 12: "525.60.13", 13: "580.65.06" };

/**
 * Picks a CUDA binary among `candidates` (nativeCandidates order) by test-loading each in a child:
 * the newest major the installed driver supports and that loads. With `requireDevice` (the
 * automatic choice) it must also see a GPU.
 * @returns {{ candidate?: object, reason: string, skipped: string[] }}
 */
export function chooseCudaBinary(candidates, { probe, requireDevice }) {
  const skipped = [];
  for (const candidate of candidates) {
    const result = probe(candidate.file, candidate.cudaMajor);
    const name = `cuda${candidate.cudaMajor ?? "?"}`;
    if (!result.ok) {
      skipped.push(`${candidate.file}: ${result.error ?? "failed to load"}`);
      continue;
    }
    const runs = driverRunsCudaMajor(result.cudaDriverVersion, candidate.cudaMajor);
    if (runs === false) {
      const min = MIN_DRIVER[candidate.cudaMajor];
      skipped.push(
        `${candidate.file}: the installed driver supports CUDA ${result.cudaDriverVersion}, a ${name} binary needs a driver for CUDA ${candidate.cudaMajor}${min ? ` (${min} or newer)` : ""}`,
      );
      continue;
    }
    if (requireDevice && result.gpus === 0) {
      skipped.push(`${candidate.file}: loads, but sees no CUDA device (check nvidia-smi and the driver version)`);
      continue;
    }
    const passed = skipped.length > 0 ? `; passed over: ${skipped.map((s) => path.basename(path.dirname(s.split(":")[0]))).join(", ")}` : "";
    const reason =
      runs === true
        ? `${name} ${candidate.source}: the driver supports CUDA ${result.cudaDriverVersion} and the binary sees ${result.gpus} GPU${result.gpus === 1 ? "" : "s"}${passed}`
        : `${name} ${candidate.source}: asked for with TINGWU_WHISPER_VARIANT=cuda; no driver answered, so it runs on the CPU${passed}`;
    return { candidate, reason, skipped };
  }
  return { reason: "no CUDA binary loads and runs with this driver", skipped };
}
