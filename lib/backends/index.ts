export { BUILT_IN_BACKENDS, getBackend, registerBackend, registeredBackends } from "./registry.js";
export type { BackendFactory } from "./registry.js";
export { WhisperBackend } from "./whisper.js";
export type { WhisperBackendOptions, WhisperBackendResult, WhisperCallOptions } from "./whisper.js";
export { ModelManager } from "./model-manager.js";
export { backendOptionsFromSettings } from "./settings.js";
export type { ModelState } from "./model-manager.js";
export { canStream, DEFAULT_DEVICE, DEVICES } from "./types.js";
export type { ASRBackend, BackendInfo, BackendOptions, BackendResult, BackendStreamOptions, BackendTranscribeOptions, DetailedBackendResult, Device, SamplesTranscribeOptions, SentenceInfo, StreamingBackend } from "./types.js";
