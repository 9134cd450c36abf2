// The one place the compiled addon is loaded, and the hand-written type of its surface.
// Everything here mirrors native/*.cc; the TypeScript layer validates and defaults every value
// before it crosses, so the C++ side can stay thin.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { NativeLoadError } from "./errors.js";

const require = createRequire(import.meta.url);

/** The package root (this file lives in lib/ when run from source and in dist/ when built). */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

export interface NativeContextParams {
  gpu: boolean;
  gpuDevice: number;
  flashAttention: boolean;
}

export interface NativeTranscribeParams {
  threads: number;
  language: string;
  translate: boolean;
  initialPrompt: string;
  temperature: number;
  temperatureIncrement: number;
  beamSize: number;
  bestOf: number;
  noTimestamps: boolean;
  tokenTimestamps: boolean;
  includeTokens: boolean;
  maxSegmentLength: number;
  splitOnWord: boolean;
  maxTokensPerSegment: number;
  suppressBlank: boolean;
  suppressNonSpeechTokens: boolean;
  noSpeechThreshold: number;
  entropyThreshold: number;
  logprobThreshold: number;
  offsetMs: number;
  durationMs: number;
  noContext: boolean;
  singleSegment: boolean;
}

export interface NativeToken {
  id: number;
  text: string;
  p: number;
  start: number;
  end: number;
  special: boolean;
}

export interface NativeSegment {
  start: number;
  end: number;
  text: string;
  noSpeechProb: number;
  speakerTurnNext: boolean;
  tokens?: NativeToken[];
}

export interface NativeTimings {
  computeMs: number;
  sampleMs?: number;
  encodeMs?: number;
  decodeMs?: number;
  batchdMs?: number;
  promptMs?: number;
}

export interface NativeTranscribeResult {
  segments: NativeSegment[];
  language: string;
  languageProbability?: number;
  timings: NativeTimings;
}

export type NativeEvent = (type: "progress" | "segment", payload: number | NativeSegment) => void;

export interface NativeJob<T = NativeTranscribeResult> {
  promise: Promise<T>;
  abort(): void;
}

export interface NativeModelInfo {
  type: string;
  multilingual: boolean;
  ftype: number;
  nVocab: number;
  nAudioCtx: number;
  nAudioState: number;
  nAudioHead: number;
  nAudioLayer: number;
  nTextCtx: number;
  nTextState: number;
  nTextHead: number;
  nTextLayer: number;
  nMels: number;
  gpuRequested: boolean;
  flashAttention: boolean;
  device: "cpu" | "gpu";
  deviceName: string;
  deviceDescription: string;
  states: number;
}

export interface NativeLanguageDetection {
  language: string;
  probability: number;
  probabilities: Record<string, number>;
}

export interface NativeModel {
  transcribe(samples: Float32Array, params: NativeTranscribeParams, onEvent?: NativeEvent): NativeJob;
  detectLanguage(samples: Float32Array, params: { threads: number; offsetMs: number }): Promise<NativeLanguageDetection>;
  info(): NativeModelInfo;
  /** Frees the context and its states (aborting and waiting for stragglers). Idempotent. */
  free(): void;
  activeJobs(): number;
}

export interface NativeDevice {
  name: string;
  description: string;
  type: "cpu" | "gpu" | "igpu" | "accel" | "unknown";
  backend: string;
  memoryFree: number;
  memoryTotal: number;
}

export interface NativeRuntimeInfo {
  whisperCppVersion: string;
  systemInfo: string;
  variant: string;
  cudaCompiled: boolean;
  /** The CUDA toolkit version the binary was compiled with (cuda variant), else null. */
  cudaVersion: string | null;
  /** The CUDA runtime (libcudart) in use, e.g. "13.5"; null in CPU builds. */
  cudaRuntimeVersion: string | null;
  /** The CUDA version the installed driver supports, e.g. "13.0"; null without a driver. */
  cudaDriverVersion: string | null;
  dynamicBackends: boolean;
  addonPath: string;
  /**
   * The CPU backend module in use when backends are loaded at run time (portable builds), e.g.
   * "libggml-cpu-zen4" (ggml's choice) or "tingwu-cpu-avx512fp16" (AVX512-FP16 arithmetic);
   * null when the CPU backend is compiled into the addon.
   */
  cpuBackend: string | null;
  backends: string[];
  devices: NativeDevice[];
}

export interface NativeBinding {
  WhisperModel: {
    load(source: string | Uint8Array, params: NativeContextParams): Promise<NativeModel>;
  };
  runtimeInfo(): NativeRuntimeInfo;
  /** Silero VAD (whisper.cpp's whisper_vad_*): one speech probability per 512-sample window. */
  detectSpeech(modelPath: string, samples: Float32Array, params: NativeVadParams): NativeJob<NativeVadResult>;
}

export interface NativeVadParams {
  threads: number;
  gpu: boolean;
  gpuDevice: number;
}

export interface NativeVadResult {
  probs: Float32Array;
  windowSamples: number;
}

export type NativeVariant = "cpu" | "cuda";

export interface LoadedBinding {
  binding: NativeBinding;
  /** Absolute path of the .node file in use. */
  file: string;
  /** Which kind of binary it is ("cuda" for GGML_CUDA builds). */
  variant: NativeVariant;
  /** Where it came from. */
  source: "TINGWU_WHISPER_BINARY" | "prebuild" | "local build";
  /** Candidates tried and passed over before this one, with the reason. */
  skipped: string[];
}

/** A binary the loader may use. */
export interface NativeCandidate {
  file: string;
  variant: NativeVariant;
  source: "prebuild" | "local build";
}

/** What a child process saw when it loaded a binary. */
export interface ProbeResult {
  ok: boolean;
  /** GPU devices the binary sees (CUDA devices for the cuda variant). */
  gpus: number;
  /** Why it failed (ok: false), in one line. */
  error?: string;
}

export interface ResolveOptions {
  /** The package root holding build/ and prebuilds/. */
  root: string;
  env?: NodeJS.ProcessEnv;
  /** Whether the CUDA driver library is installed (default: looks for libcuda.so.1). */
  cudaDriverPresent?: () => boolean;
  /** Test-loads a binary out of process (default: a child node process). */
  probe?: (file: string) => ProbeResult;
}

const PROBE_TIMEOUT_MS = 60_000;
// Loaded in a child so that a binary which crashes, aborts or hangs on load (a broken CUDA
// install, a driver mismatch) takes down the child, not this process.
const PROBE_SCRIPT = `
const info = require(process.argv[1]).runtimeInfo();
process.stdout.write(JSON.stringify({ gpus: info.devices.filter((d) => d.type === "gpu").length }));
`;

/** Test-loads a .node file in a child node process and reports what it saw. */
export function probeInChild(file: string, env: NodeJS.ProcessEnv = process.env): ProbeResult {
  const child = spawnSync(process.execPath, ["-e", PROBE_SCRIPT, file], {
    env,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    timeout: PROBE_TIMEOUT_MS,
    killSignal: "SIGKILL",
  });
  if (child.error && (child.error as NodeJS.ErrnoException).code === "ETIMEDOUT") {
    return { ok: false, gpus: 0, error: `the test load in a child process hung for ${PROBE_TIMEOUT_MS / 1000} s` };
  }
  if (child.error) return { ok: false, gpus: 0, error: `could not start a child process: ${child.error.message}` };
  if (child.status !== 0) {
    const how = child.signal ? `was killed by ${child.signal}` : `exited with code ${child.status}`;
    const why = lastErrorLine(child.stderr);
    return { ok: false, gpus: 0, error: `the test load in a child process ${how}${why ? `: ${why}` : ""}` };
  }
  try {
    const { gpus } = JSON.parse(child.stdout) as { gpus: number };
    return { ok: true, gpus };
  } catch {
    return { ok: false, gpus: 0, error: "the test load in a child process printed no runtime info" };
  }
}

/** Whether the NVIDIA driver's libcuda.so.1 is installed (without loading it). */
export function cudaDriverPresent(env: NodeJS.ProcessEnv = process.env): boolean {
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

interface NodeGypBuildTags {
  parseTuple(name: string): { name: string } | undefined;
  matchTuple(platform: string, arch: string): (tuple: unknown) => boolean;
  compareTuples(a: unknown, b: unknown): number;
  parseTags(file: string): { file: string } | undefined;
  matchTags(runtime: string, abi: string): (tags: unknown) => boolean;
  compareTags(runtime: string): (a: unknown, b: unknown) => number;
}

/** node-gyp-build's choice of .node file in `dir/prebuilds/<platform>-<arch>[/sub]`, using its own matching rules. */
function prebuildIn(dir: string, sub?: string): string | undefined {
  const ngb = require("node-gyp-build") as NodeGypBuildTags;
  const tuple = readdir(path.join(dir, "prebuilds"))
    .map((name) => ngb.parseTuple(name))
    .filter(ngb.matchTuple(process.platform, process.arch))
    .sort(ngb.compareTuples)[0] as { name: string } | undefined;
  if (!tuple) return undefined;
  const folder = path.join(dir, "prebuilds", tuple.name, ...(sub ? [sub] : []));
  const winner = readdir(folder)
    .map((file) => ngb.parseTags(file))
    .filter(ngb.matchTags("node", process.versions.modules))
    .sort(ngb.compareTags("node"))[0] as { file: string } | undefined;
  return winner && path.join(folder, winner.file);
}

/** CUDA majors present under `names` (e.g. cuda13, cuda12), newest first. */
function cudaMajors(names: string[]): number[] {
  return names
    .map((name) => /^cuda(\d+)$/.exec(name)?.[1])
    .filter((m): m is string => m !== undefined)
    .map(Number)
    .sort((a, b) => b - a);
}

/**
 * Every binary of a variant that exists under `root`, in the order they are tried: prebuilds
 * (prebuildify layout: `prebuilds/linux-x64/*.node` for CPU, `prebuilds/linux-x64/cuda<major>/`
 * for CUDA), then local builds (`build/Release`, `build/portable`, `build/cuda<major>`).
 */
export function nativeCandidates(root: string, variant: NativeVariant): NativeCandidate[] {
  const out: NativeCandidate[] = [];
  const add = (file: string | undefined, source: NativeCandidate["source"]) => {
    if (file && fs.existsSync(file)) out.push({ file, variant, source });
  };
  const tupleDir = path.join(root, "prebuilds", `${process.platform}-${process.arch}`);
  if (variant === "cpu") {
    add(prebuildIn(root), "prebuild");
    for (const dir of ["Release", "portable"]) add(path.join(root, "build", dir, "tingwu_whisper.node"), "local build");
  } else {
    for (const major of cudaMajors(readdir(tupleDir))) add(prebuildIn(root, `cuda${major}`), "prebuild");
    for (const major of cudaMajors(readdir(path.join(root, "build")))) {
      add(path.join(root, "build", `cuda${major}`, `tingwu_whisper_cuda${major}.node`), "local build");
    }
  }
  return out;
}

/**
 * Picks and loads a binary. Order: `TINGWU_WHISPER_BINARY` (an explicit .node path);
 * `TINGWU_WHISPER_VARIANT=cpu|cuda` (only that variant); otherwise CUDA when the driver is
 * installed and a CUDA binary, test-loaded in a child process, sees a GPU; then the CPU prebuild;
 * then a local build. Throws NativeLoadError listing every attempt and how to fix it.
 */
export function loadNativeFrom(options: ResolveOptions): LoadedBinding {
  const env = options.env ?? process.env;
  const probe = options.probe ?? ((file: string) => probeInChild(file, env));
  const hasDriver = options.cudaDriverPresent ?? (() => cudaDriverPresent(env));
  const tried: string[] = [];
  const requireBinary = (file: string): NativeBinding | undefined => {
    try {
      return require(file) as NativeBinding;
    } catch (error) {
      tried.push(`${file}: ${firstLine(error)}`);
      return undefined;
    }
  };

  // Read by the addon when it loads its CPU backend (native/runtime.cc); a typo must not pass silently.
  const fp16 = env.TINGWU_CPU_FP16?.trim().toLowerCase();
  if (fp16 && !["0", "1", "off", "on", "false", "true", "no", "yes"].includes(fp16)) {
    throw new NativeLoadError(`Expected 0, 1, off, on, false, true, no or yes for TINGWU_CPU_FP16 but received ${JSON.stringify(env.TINGWU_CPU_FP16)}`);
  }

  const explicit = env.TINGWU_WHISPER_BINARY;
  if (explicit) {
    const file = path.resolve(explicit);
    const binding = requireBinary(file);
    if (binding) return { binding, file, variant: binding.runtimeInfo().cudaCompiled ? "cuda" : "cpu", source: "TINGWU_WHISPER_BINARY", skipped: [] };
    throw loadError(tried, "TINGWU_WHISPER_BINARY");
  }

  const requested = env.TINGWU_WHISPER_VARIANT?.trim().toLowerCase() || undefined;
  if (requested !== undefined && requested !== "cpu" && requested !== "cuda") {
    throw new NativeLoadError(`Expected cpu or cuda for TINGWU_WHISPER_VARIANT but received ${JSON.stringify(env.TINGWU_WHISPER_VARIANT)}`);
  }

  if (requested === "cuda" || (requested === undefined && process.platform === "linux")) {
    const candidates = nativeCandidates(options.root, "cuda");
    const driver = requested === "cuda" || candidates.length === 0 ? true : hasDriver();
    if (!driver) {
      for (const c of candidates) tried.push(`${c.file}: skipped, the CUDA driver (libcuda.so.1) is not installed`);
    } else {
      for (const candidate of candidates) {
        const result = probe(candidate.file);
        if (!result.ok) {
          tried.push(`${candidate.file}: ${result.error ?? "failed to load"}`);
        } else if (requested === undefined && result.gpus === 0) {
          tried.push(`${candidate.file}: loads, but sees no CUDA device (check nvidia-smi and the driver version)`);
        } else {
          const binding = requireBinary(candidate.file);
          if (binding) return { binding, file: candidate.file, variant: "cuda", source: candidate.source, skipped: tried };
        }
      }
    }
    if (requested === "cuda") {
      if (candidates.length === 0) tried.push(`no CUDA binary in ${path.join(options.root, "prebuilds")} or ${path.join(options.root, "build")}`);
      throw loadError(tried, "cuda");
    }
  }

  const cpu = nativeCandidates(options.root, "cpu");
  for (const candidate of cpu) {
    const binding = requireBinary(candidate.file);
    if (binding) return { binding, file: candidate.file, variant: "cpu", source: candidate.source, skipped: tried };
  }
  if (cpu.length === 0) tried.push(`no CPU binary in ${path.join(options.root, "prebuilds")} or ${path.join(options.root, "build")}`);
  throw loadError(tried, requested ?? "auto");
}

let cached: LoadedBinding | undefined;
let failure: NativeLoadError | undefined;

/** Loads the addon once (see loadNativeFrom for the order) from this package. */
export function loadNative(): LoadedBinding {
  if (cached) return cached;
  if (failure) throw failure;
  try {
    cached = loadNativeFrom({ root: PACKAGE_ROOT });
    return cached;
  } catch (error) {
    failure = error as NativeLoadError;
    throw failure;
  }
}

function loadError(tried: string[], mode: "TINGWU_WHISPER_BINARY" | "cpu" | "cuda" | "auto"): NativeLoadError {
  const fixes =
    mode === "cuda"
      ? [
          "  - build the CUDA variant: `npm run build:cuda` in the package (needs cmake and a C++17 compiler;",
          "    it finds a CUDA toolkit or assembles CUDA 13 from PyPI wheels; see docs/CUDA.md),",
          "  - or unset TINGWU_WHISPER_VARIANT to fall back to the CPU binary.",
        ]
      : [
          "  - build it from source: `npm rebuild tingwu-whisper` (needs cmake, a C++17 compiler and the nodejs-whisper@0.3.1 package;",
          "    npm 11 skips dependencies' install scripts until `npm install-scripts approve tingwu-whisper`),",
          "    or inside this package: `npm run build:native` (CPU) or `npm run build:cuda` (CUDA);",
          "  - or point TINGWU_WHISPER_BINARY at a built tingwu_whisper*.node file.",
        ];
  return new NativeLoadError(
    [
      `The tingwu-whisper native addon could not be loaded (${mode === "auto" ? "automatic choice" : mode === "TINGWU_WHISPER_BINARY" ? "TINGWU_WHISPER_BINARY" : `TINGWU_WHISPER_VARIANT=${mode}`}). Tried:`,
      ...tried.map((t) => `  - ${t}`),
      "How to fix:",
      ...fixes,
    ].join("\n"),
  );
}

function readdir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

function firstLine(error: unknown): string {
  return String((error as Error)?.message ?? error).split("\n")[0] ?? "";
}

function lastErrorLine(stderr: string): string {
  const lines = stderr.split("\n").map((l) => l.trim()).filter(Boolean);
  return lines.find((l) => /Error:/.test(l)) ?? lines.at(-1) ?? "";
}
