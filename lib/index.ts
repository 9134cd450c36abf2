export { Whisper, runtimeInfo } from "./whisper.js";
export type {
  DetectLanguageOptions,
  LanguageDetection,
  LoadOptions,
  ModelInfo,
  RuntimeInfo,
  Segment,
  Timings,
  Token,
  TranscribeOptions,
  TranscribeResult,
} from "./whisper.js";
export { DECODING_DEFAULTS } from "./options.js";
export { Streamer } from "./stream/index.js";
export type { StreamFinal, StreamOptions, StreamPartial, StreamSentence, StreamStats } from "./stream/index.js";
export { AbortError, DisposedError, ModelLoadError, NativeLoadError, TranscriptionError, WhisperError } from "./errors.js";
export type { BinaryChoice } from "./native.js";
export { LANGUAGES } from "./languages.js";
export { AUTO_LANGUAGE, DEFAULT_LANGUAGE, LANGUAGE_WHEN_OMITTED, languageName, normalizeLanguage, requestLanguage } from "./languages.js";
export type { Language } from "./languages.js";

// TingWu backend layer
export { loadSettings, SettingsError, ASR_BACKENDS, DEVICES, LOG_LEVELS, SETTINGS_VARIABLES } from "./config.js";
export type { Settings, SettingsIssue, AsrBackendType, Device, LogLevel } from "./config.js";
export { backendOptionsFromSettings, BUILT_IN_BACKENDS, canStream, getBackend, registerBackend, registeredBackends, WhisperBackend, ModelManager } from "./backends/index.js";
export type {
  ASRBackend,
  BackendFactory,
  BackendInfo,
  BackendOptions,
  BackendResult,
  BackendStreamOptions,
  BackendTranscribeOptions,
  DetailedBackendResult,
  ModelState,
  SamplesTranscribeOptions,
  SentenceInfo,
  StreamingBackend,
  WhisperBackendOptions,
  WhisperBackendResult,
} from "./backends/index.js";
export { pcm16ToFloat32, float32ToPcm16 } from "./audio/pcm.js";
export { decodeAudio, decodeRawPcm16 } from "./audio/decode.js";
export type { DecodeAudioOptions, DecodedAudio } from "./audio/decode.js";
export { AudioDecodeError, isWav, parseWav } from "./audio/wav.js";
export type { AudioDecodeErrorCode, WavAudio } from "./audio/wav.js";
export { Resampler, resample } from "./audio/resample.js";
export { decodeWithFfmpeg, ffmpegAvailable } from "./audio/ffmpeg.js";
export { toSentenceInfo } from "./tingwu/sentence-info.js";
export { buildHotwordPrompt, parseHotwordTerms, HOTWORD_PROMPT_PREFIX } from "./tingwu/hotwords.js";
export { formatTimestamp, toSrt, toVtt, toTsv, toTxt } from "./formats/subtitles.js";
export { renderTranscript, transcribeOptionsFor, TRANSCRIPT_FORMATS } from "./formats/render.js";
export type { RenderableTranscript, RenderOptions, TranscriptFormat } from "./formats/render.js";
export type { TimestampStyle } from "./formats/subtitles.js";
export { resolveModelFile, ModelNotFoundError, ModelDownloadError } from "./models/resolve.js";
export type { ResolveModelOptions, DownloadProgress } from "./models/resolve.js";
export { downloadFile } from "./models/download.js";
export { parseModelSpec, modelFileName, DEFAULT_MODEL_BASE_URL, DEFAULT_DOWNLOAD_ROOT } from "./models/names.js";
export { formatProgress, formatBytes, formatDuration } from "./models/progress.js";
export { inspectGgmlModel } from "./models/ggml/inspect.js";
export { GgmlFormatError } from "./models/ggml/format.js";
export { resolveVadModelFile, parseVadModel, VAD_MODEL_NAMES, DEFAULT_VAD_MODEL_BASE_URL } from "./vad/model.js";
export type { ResolveVadModelOptions, VadModelName } from "./vad/model.js";
export { resolveVad, VAD_DEFAULTS } from "./vad/options.js";
export type { VadOptions } from "./vad/options.js";
export { convertSilero } from "./models/convert/silero.js";
// Jobs run through the CLI (`serve`, `worker`); a webhook receiver checks signatures with signWebhook.
export type { JobInfo, JobState, JobResult, ResultFormat } from "./jobs/types.js";
export { signWebhook, SIGNATURE_HEADER } from "./jobs/webhook.js";

// The HTTP service, embeddable: buildApp (routes, no listening) and startServer (listen + drain).
export { buildApp } from "./server/app.js";
export { VERSION } from "./version.js";
export type { BuildAppOptions, HttpTimeouts, LoggerOptions } from "./server/app.js";
export { startServer } from "./server/server.js";
export type { RunningServer, StartServerOptions } from "./server/server.js";
