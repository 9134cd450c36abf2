export { Whisper, runtimeInfo } from "./whisper.js";
export type {
  DetectLanguageOptions,
  LanguageDetection,
  LoadOptions,
  ModelInfo,
  Segment,
  Timings,
  Token,
  TranscribeOptions,
  TranscribeResult,
} from "./whisper.js";
export { AbortError, DisposedError, ModelLoadError, NativeLoadError, TranscriptionError, WhisperError } from "./errors.js";
export { LANGUAGES } from "./languages.js";
export { languageName, normalizeLanguage } from "./options.js";

// TingWu backend layer
export { loadSettings, SettingsError, ASR_BACKENDS } from "./config.js";
export type { Settings } from "./config.js";
export { getBackend, registerBackend, registeredBackends, WhisperBackend, ModelManager } from "./backends/index.js";
export type {
  ASRBackend,
  BackendFactory,
  BackendInfo,
  BackendOptions,
  BackendResult,
  BackendTranscribeOptions,
  ModelState,
  SentenceInfo,
  WhisperBackendOptions,
  WhisperBackendResult,
} from "./backends/index.js";
export { pcm16ToFloat32, float32ToPcm16 } from "./audio/pcm.js";
export { decodeAudio, decodeRawPcm16 } from "./audio/decode.js";
export type { DecodeAudioOptions, DecodedAudio } from "./audio/decode.js";
export { AudioDecodeError, parseWav, resample } from "./audio/wav.js";
export { toSentenceInfo } from "./tingwu/sentence-info.js";
export { buildHotwordPrompt } from "./tingwu/hotwords.js";
export { formatTimestamp, toSrt, toVtt, toTsv, toTxt } from "./tingwu/formats.js";
export { resolveModelFile, ModelNotFoundError, ModelDownloadError } from "./models/resolve.js";
export { inspectGgmlModel, GgmlFormatError } from "./models/ggml-format.js";
