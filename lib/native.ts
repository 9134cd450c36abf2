// The one place the compiled addon is loaded: which binary (the policy shared with the install
// script lives in scripts/native-binaries.mjs), its CUDA libraries, and why it was chosen. The
// addon's types are in lib/native-binding.ts.
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describeMissingCudaLibraries, findCudaLibraries, preloadCudaLibraries } from "../scripts/cuda-libs.mjs";
import { chooseCudaBinary, cudaDriverPresent, nativeCandidates, probeInChild, requestedVariant } from "../scripts/native-binaries.mjs";
import type { NativeVariant, ProbeResult } from "../scripts/native-binaries.mjs";
import { NativeLoadError } from "./errors.js";
import { BOOLEAN_WORDS, boolean } from "./util/text-input.js";

const require = createRequire(import.meta.url);

/** The package root (this file lives in lib/ when run from source and in dist/ when built). */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

export type * from "./native-binding.js";
import type { NativeBinding } from "./native-binding.js";

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

  // Decided here, read by the addon when it loads its CPU backend (native/runtime.cc), which only
  // knows "0": any false word becomes "0" in this process's environment; a typo must not pass silently.
  const fp16Text = env.TINGWU_CPU_FP16?.trim();
  if (fp16Text) {
    const fp16 = boolean(fp16Text);
    if (!fp16.ok) throw new NativeLoadError(`Expected ${BOOLEAN_WORDS} for TINGWU_CPU_FP16 but received ${JSON.stringify(env.TINGWU_CPU_FP16)}`);
    if (!fp16.value) process.env.TINGWU_CPU_FP16 = "0";
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

  let requested: NativeVariant | undefined;
  try {
    requested = requestedVariant(env);
  } catch (error) {
    throw new NativeLoadError((error as Error).message);
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
