import { registerBackend } from "./registry.js";
import { WhisperBackend } from "./whisper.js";
import type { WhisperBackendOptions } from "./whisper.js";

registerBackend("whisper", (options) => new WhisperBackend(options as WhisperBackendOptions));

export { getBackend, registerBackend, registeredBackends } from "./registry.js";
export type { BackendFactory } from "./registry.js";
export { WhisperBackend } from "./whisper.js";
export type { WhisperBackendOptions, WhisperBackendResult, WhisperCallOptions } from "./whisper.js";
export { ModelManager } from "./model-manager.js";
export { backendOptionsFromSettings } from "./settings.js";
export type { ModelState } from "./model-manager.js";
export type { ASRBackend, BackendInfo, BackendOptions, BackendResult, BackendStreamOptions, BackendTranscribeOptions, SentenceInfo } from "./types.js";
