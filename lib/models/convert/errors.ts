import { WhisperError } from "../../errors.js";

export type ConvertErrorCode =
  /** The input path does not exist. */
  | "ENOENT"
  /** The input is neither a CTranslate2 nor a Hugging Face safetensors Whisper model. */
  | "UNKNOWN_FORMAT"
  /** A file of the source model ends early or is malformed, or a side file it needs (config.json) is missing. */
  | "CORRUPT_SOURCE"
  /** A valid model that whisper.cpp can't represent (other architecture, untied output, dtype). */
  | "UNSUPPORTED"
  /** A tensor the mapping needs is missing, or has the wrong shape. */
  | "BAD_TENSOR"
  /** The vocabulary or tokenizer files are missing or don't fit the model. */
  | "BAD_VOCAB"
  /** The output file exists and overwriting was not allowed. */
  | "EEXIST";

/** A model could not be converted to whisper.cpp's ggml format; `code` says why. */
export class ConvertError extends WhisperError {
  declare readonly code: ConvertErrorCode;
  constructor(message: string, code: ConvertErrorCode, options?: { cause?: unknown }) {
    super(message, code, options);
  }
}
