// Settings (environment, CLI overrides) -> the whisper backend's options, for the server's model
// manager and the CLI alike.
import type { Settings } from "../config.js";
import type { WhisperBackendOptions } from "./whisper.js";

/** The backend options that `settings` describe (the pool size becomes `concurrency`). */
export function backendOptionsFromSettings(settings: Settings): WhisperBackendOptions {
  return {
    model: settings.whisperModel,
    language: settings.whisperLanguage,
    device: settings.device,
    threads: settings.whisperThreads,
    concurrency: settings.whisperPoolSize,
    gpuDevice: settings.whisperGpuDevice,
    downloadRoot: settings.whisperDownloadRoot,
    modelUrl: settings.whisperModelUrl,
    vad: settings.whisperVad,
    vadModel: settings.whisperVadModel,
    ...(settings.whisperModelSha256 ? { sha256: settings.whisperModelSha256 } : {}),
    chineseScript: settings.whisperZhScript,
    chinesePunctuation: settings.whisperZhPunctuation,
    chinesePrompt: settings.whisperZhPrompt,
  };
}
