// The one owner of how large a request's text fields may be. Whisper uses at most the last 223
// prompt tokens, so a prompt longer than a few thousand characters changes nothing; these limits
// are generous for real use and keep hostile input cheap (tokenizing the largest accepted prompt
// is measured by `npm run bench -- --tokenizer`). The routes report a field over its limit as 413
// in their dialect's error shape, naming the field and the limit.

/** Limits of the text fields, in characters (UTF-16 code units, JavaScript's `length`). */
export const FIELD_LIMITS = {
  /** A decoder prompt: OpenAI `prompt`, `/asr` `initial_prompt`, `asr_options.backend.initial_prompt`. */
  prompt: 16_384,
  /** TingWu's `hotwords` field (one term per line; only the first 50 distinct terms are used). */
  hotwords: 65_536,
} as const;

/** Request body limits besides the upload limit (WHISPER_MAX_UPLOAD_MB), in bytes. */
export const BODY_LIMITS = {
  /** A request that is not multipart/form-data: no route takes JSON, so 1 MiB is plenty. */
  nonMultipart: 1024 * 1024,
  /** Room for a form's text fields and part headers on top of the upload limit. */
  formFieldsAllowance: 1024 * 1024,
} as const;

export type LimitedField = keyof typeof FIELD_LIMITS;

/** A text field longer than its limit. */
export class FieldTooLongError extends RangeError {
  /** The request field, e.g. `prompt` or `asr_options.backend.initial_prompt`. */
  readonly field: string;
  /** The limit in characters. */
  readonly limit: number;
  /** The length received. */
  readonly length: number;

  constructor(field: string, limit: number, length: number) {
    super(`${field} is ${length} characters long; the limit is ${limit} characters`);
    this.name = "FieldTooLongError";
    this.field = field;
    this.limit = limit;
    this.length = length;
  }
}

/** The error for `value` in `field` (named as the client sent it), or undefined when it fits. */
export function checkFieldLength(field: string, kind: LimitedField, value: string | undefined): FieldTooLongError | undefined {
  const limit = FIELD_LIMITS[kind];
  return value !== undefined && value.length > limit ? new FieldTooLongError(field, limit, value.length) : undefined;
}
