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
