// The one place the compiled addon is loaded, and the hand-written type of its surface.
// Everything here mirrors native/*.cc; the TypeScript layer validates and defaults every value
// before it crosses, so the C++ side can stay thin.
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describeMissingCudaLibraries, findCudaLibraries, preloadCudaLibraries } from "../scripts/cuda-libs.mjs";
import { chooseCudaBinary, cudaDriverPresent, nativeCandidates, probeInChild } from "../scripts/native-binaries.mjs";
import type { NativeVariant, ProbeResult } from "../scripts/native-binaries.mjs";
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

export interface NativeJob {
  promise: Promise<NativeTranscribeResult>;
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
}

export type { CudaChoice, NativeCandidate, NativeVariant, ProbeResult } from "../scripts/native-binaries.mjs";
export { cudaDriverPresent, nativeCandidates, probeInChild } from "../scripts/native-binaries.mjs";

/** Why the loader chose the binary in use (`runtimeInfo().binaryChoice`). */
export interface BinaryChoice {
  /** Where it came from. */
  source: "TINGWU_WHISPER_BINARY" | "prebuild" | "local build";
  /** Why this one, in one line (for CUDA: the driver's CUDA version and the GPUs it saw). */
  reason: string;
  /** Candidates tried and passed over before this one, with the reason. */
  skipped: string[];
}

export interface LoadedBinding extends BinaryChoice {
  binding: NativeBinding;
  /** Absolute path of the .node file in use. */
  file: string;
  /** Which kind of binary it is ("cuda" for GGML_CUDA builds). */
  variant: NativeVariant;
}

export interface ResolveOptions {
  /** The package root holding build/ and prebuilds/. */
  root: string;
  env?: NodeJS.ProcessEnv;
  /** Whether the CUDA driver library is installed (default: looks for libcuda.so.1). */
  cudaDriverPresent?: () => boolean;
  /** Test-loads a binary out of process (default: a child node process). */
  probe?: (file: string, cudaMajor?: number) => ProbeResult;
}

/**
 * Picks and loads a binary. Order: `TINGWU_WHISPER_BINARY` (an explicit .node path);
 * `TINGWU_WHISPER_VARIANT=cpu|cuda` (only that variant); otherwise CUDA when the driver is
 * installed and a CUDA binary, test-loaded in a child process, sees a GPU and is of a CUDA major
 * the driver supports (cuda13 before cuda12; scripts/native-binaries.mjs); then the CPU prebuild;
 * then a local build. Throws NativeLoadError listing every attempt and how to fix it.
 */
export function loadNativeFrom(options: ResolveOptions): LoadedBinding {
  const env = options.env ?? process.env;
  const probe = options.probe ?? ((file: string, cudaMajor?: number) => probeInChild(file, env, cudaMajor));
  const hasDriver = options.cudaDriverPresent ?? (() => cudaDriverPresent(env));
  const tried: string[] = [];
  const requireBinary = (file: string, cudaMajor?: number): NativeBinding | undefined => {
    // A CUDA binary's RUNPATH is $ORIGIN: its CUDA libraries come from the library path, or from
    // the wheel/toolkit folders scripts/cuda-libs.mjs finds, loaded here by their full path.
    const libs = cudaMajor ? findCudaLibraries(cudaMajor, { env }) : undefined;
    if (libs) preloadCudaLibraries(libs);
    try {
      return require(file) as NativeBinding;
    } catch (error) {
      const missing = libs && libs.missing.length > 0 ? `; ${describeMissingCudaLibraries(libs)}` : "";
      tried.push(`${file}: ${firstLine(error)}${missing}`);
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
    const major = /cuda(\d+)/.exec(path.basename(path.dirname(file)) + path.basename(file))?.[1];
    const binding = requireBinary(file, major ? Number(major) : undefined);
    if (binding) {
      const variant = binding.runtimeInfo().cudaCompiled ? "cuda" : "cpu";
      return { binding, file, variant, source: "TINGWU_WHISPER_BINARY", reason: "TINGWU_WHISPER_BINARY names it", skipped: [] };
    }
    throw loadError(tried, "TINGWU_WHISPER_BINARY");
  }

  const requested = env.TINGWU_WHISPER_VARIANT?.trim().toLowerCase() || undefined;
  if (requested !== undefined && requested !== "cpu" && requested !== "cuda") {
    throw new NativeLoadError(`Expected cpu or cuda for TINGWU_WHISPER_VARIANT but received ${JSON.stringify(env.TINGWU_WHISPER_VARIANT)}`);
  }

  let whyNotCuda = "";
  if (requested === "cuda" || (requested === undefined && process.platform === "linux")) {
    const candidates = nativeCandidates(options.root, "cuda");
    const driver = requested === "cuda" || candidates.length === 0 ? true : hasDriver();
    if (!driver) {
      for (const c of candidates) tried.push(`${c.file}: skipped, the CUDA driver (libcuda.so.1) is not installed`);
      whyNotCuda = "the CUDA driver (libcuda.so.1) is not installed";
    } else if (candidates.length > 0) {
      const choice = chooseCudaBinary(candidates, { probe, requireDevice: requested === undefined });
      tried.push(...choice.skipped);
      whyNotCuda = choice.reason;
      if (choice.candidate) {
        const { file, source, cudaMajor } = choice.candidate;
        const binding = requireBinary(file, cudaMajor);
        if (binding) return { binding, file, variant: "cuda", source, reason: choice.reason, skipped: [...choice.skipped] };
        whyNotCuda = `${file} loaded in a child process but not in this one`;
      }
    }
    if (requested === "cuda") {
      if (candidates.length === 0) tried.push(`no CUDA binary in ${path.join(options.root, "prebuilds")} or ${path.join(options.root, "build")}`);
      throw loadError(tried, "cuda");
    }
  }

  const cpu = nativeCandidates(options.root, "cpu");
  for (const candidate of cpu) {
    const skipped = [...tried];
    const binding = requireBinary(candidate.file);
    if (binding) {
      const reason =
        requested === "cpu"
          ? "TINGWU_WHISPER_VARIANT=cpu"
          : whyNotCuda
            ? `CPU ${candidate.source}: no CUDA binary was used (${whyNotCuda})`
            : `CPU ${candidate.source}: no CUDA binary here`;
      return { binding, file: candidate.file, variant: "cpu", source: candidate.source, reason, skipped };
    }
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
          "    it finds a CUDA toolkit or assembles CUDA 13 from PyPI wheels; `npm run build:cuda -- --cuda-major 12`",
          "    builds CUDA 12.4 for older drivers; see docs/CUDA.md),",
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

function firstLine(error: unknown): string {
  return String((error as Error)?.message ?? error).split("\n")[0] ?? "";
}
