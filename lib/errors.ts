/** Base class of every error tingwu-whisper raises on purpose. */
export class WhisperError extends Error {
  /** A stable machine-readable code, e.g. `ERR_MODEL_LOAD`. */
  readonly code: string;
  constructor(message: string, code: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The model file is missing, unreadable, truncated or not a whisper.cpp ggml model. */
export class ModelLoadError extends WhisperError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, "ERR_MODEL_LOAD", options);
  }
}

/** The model was disposed; it can't be used any more. */
export class DisposedError extends WhisperError {
  constructor(message = "The model has been disposed; load it again to keep using it") {
    super(message, "ERR_DISPOSED");
  }
}

/** An operation was stopped through its AbortSignal. */
export class AbortError extends WhisperError {
  constructor(message = "The operation was aborted", options?: { cause?: unknown }) {
    super(message, "ABORT_ERR", options);
  }
}

/** whisper.cpp failed while transcribing (not caused by the input's shape or by an abort). */
export class TranscriptionError extends WhisperError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, "ERR_TRANSCRIBE", options);
  }
}

/** The native addon could not be loaded; the message lists what was tried and how to fix it. */
export class NativeLoadError extends WhisperError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, "ERR_NATIVE_LOAD", options);
  }
}
