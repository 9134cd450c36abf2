// The compiled addon's surface, by hand: each type mirrors what native/*.cc takes or returns. The
// TypeScript layer validates and defaults every value before it crosses, so the C++ side stays thin.
// The loader (lib/native.ts) re-exports these.
export interface NativeContextParams {
  gpu: boolean;
  gpuDevice: number;
  flashAttention: boolean;
}

export interface NativeTranscribeParams {
  threads: number;
  language: string;
  translate: boolean;
  /** Decoder prompt ids from lib/prompt/tokenizer.ts (whisper.cpp's text tokenizer is never used). */
  promptTokens: Int32Array;
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
  /** Every token id's bytes end to end (id i: `bytes[offsets[i], offsets[i + 1])`), extra tokens included (whisper_token_to_str). */
  vocabulary(): { bytes: Buffer; offsets: Int32Array };
  /** whisper.cpp's own tokenizer: only for checking lib/prompt/tokenizer.ts on short texts (it overflows the stack on long ones). */
  referenceTokenize(text: string): Int32Array;
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
