// The one place the compiled addon is loaded, and the hand-written type of its surface.
// Everything here mirrors native/*.cc; the TypeScript layer validates and defaults every value
// before it crosses, so the C++ side can stay thin.
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
  cudaVersion: string | null;
  dynamicBackends: boolean;
  addonPath: string;
  backends: string[];
  devices: NativeDevice[];
}

export interface NativeBinding {
  WhisperModel: {
    load(source: string | Uint8Array, params: NativeContextParams): Promise<NativeModel>;
  };
  runtimeInfo(): NativeRuntimeInfo;
}

export interface LoadedBinding {
  binding: NativeBinding;
  /** Absolute path of the .node file in use. */
  file: string;
}

let cached: LoadedBinding | undefined;
let failure: NativeLoadError | undefined;

/**
 * Loads the addon once. Order: `TINGWU_WHISPER_BINARY` (an explicit .node path), then
 * node-gyp-build (a local build in build/Release, then a matching prebuild).
 * Throws NativeLoadError listing every attempt and how to fix it.
 */
export function loadNative(): LoadedBinding {
  if (cached) return cached;
  if (failure) throw failure;
  const attempts: string[] = [];
  const explicit = process.env.TINGWU_WHISPER_BINARY;
  if (explicit) {
    try {
      cached = { binding: require(path.resolve(explicit)) as NativeBinding, file: path.resolve(explicit) };
      return cached;
    } catch (error) {
      attempts.push(`TINGWU_WHISPER_BINARY=${explicit}: ${(error as Error).message}`);
    }
  } else {
    try {
      const nodeGypBuild = require("node-gyp-build") as { resolve(dir: string): string };
      const file = nodeGypBuild.resolve(PACKAGE_ROOT);
      cached = { binding: require(file) as NativeBinding, file };
      return cached;
    } catch (error) {
      attempts.push(`node-gyp-build in ${PACKAGE_ROOT} (build/Release, then prebuilds/): ${firstLine(error)}`);
    }
  }
  failure = new NativeLoadError(
    [
      "The tingwu-whisper native addon could not be loaded. Tried:",
      ...attempts.map((a) => `  - ${a}`),
      "How to fix:",
      "  - build it from source: `npm rebuild tingwu-whisper` (needs cmake, a C++17 compiler and the nodejs-whisper@0.3.1 package),",
      "    or inside this package: `npm run build:native`;",
      "  - or point TINGWU_WHISPER_BINARY at a built tingwu_whisper*.node file.",
    ].join("\n"),
  );
  throw failure;
}

function firstLine(error: unknown): string {
  return String((error as Error)?.message ?? error).split("\n")[0] ?? "";
}
