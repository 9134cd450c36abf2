// Multipart forms as plain objects for zod. @fastify/multipart (attachFieldsToBody) buffers the
// parts; the hook below flattens them into `{ name: string | UploadedFile | (string | UploadedFile)[] }`
// so each route validates its form with one zod schema, like a JSON body.
import type { MultipartFile } from "@fastify/multipart";
import type { FastifyRequest } from "fastify";
import { z } from "zod";
import { CHINESE_SCRIPTS } from "../chinese/index.js";
import type { ChineseScript } from "../chinese/index.js";
import { checkFieldLength, FIELD_LIMITS } from "../limits.js";
import type { FieldTooLongError, LimitedField } from "../limits.js";
import { BOOLEAN_WORDS, boolean, language, numberBetween, oneOf, textInput } from "../util/text-input.js";

/** A file part of a form, read into memory (bounded by WHISPER_MAX_UPLOAD_MB). */
export interface UploadedFile {
  readonly kind: "file";
  /** The client's file name ("" when it sent none). */
  readonly filename: string;
  readonly mimetype: string;
  readonly data: Buffer;
}

interface RawPart {
  type?: unknown;
  value?: unknown;
  filename?: unknown;
  mimetype?: unknown;
  _buf?: unknown;
}

function flattenPart(part: RawPart): string | UploadedFile | undefined {
  if (part.type === "file") {
    return {
      kind: "file",
      filename: typeof part.filename === "string" ? part.filename : "",
      mimetype: typeof part.mimetype === "string" ? part.mimetype : "application/octet-stream",
      data: Buffer.isBuffer(part._buf) ? part._buf : Buffer.alloc(0),
    };
  }
  if (part.type === "field") return typeof part.value === "string" ? part.value : JSON.stringify(part.value);
  return undefined;
}

const uploadedBytes = new WeakMap<FastifyRequest, number>();

/**
 * The multipart plugin's `onFile`: buffers each file part (the plugin enforces the per-file
 * limit) and refuses the request once its files add up to more than `maxBytes`, so a form with
 * many parts can't hold more than the limit in memory.
 */
export function bufferFilesUpTo(maxBytes: number, tooLarge: () => Error) {
  return async function onFile(this: FastifyRequest, part: MultipartFile): Promise<void> {
    const data = await part.toBuffer();
    const total = (uploadedBytes.get(this) ?? 0) + data.length;
    uploadedBytes.set(this, total);
    if (total > maxBytes) throw tooLarge();
  };
}

/** preValidation hook: replaces the multipart plugin's part objects with plain values. */
export async function flattenMultipartBody(request: FastifyRequest): Promise<void> {
  if (!request.isMultipart() || request.body === null || typeof request.body !== "object") return;
  const flat: Record<string, unknown> = {};
  for (const [name, entry] of Object.entries(request.body as Record<string, RawPart | RawPart[]>)) {
    const value = Array.isArray(entry) ? entry.map(flattenPart).filter((v) => v !== undefined) : flattenPart(entry);
    if (value !== undefined) flat[name] = value;
  }
  request.body = flat;
}

export function isUploadedFile(value: unknown): value is UploadedFile {
  return typeof value === "object" && value !== null && (value as UploadedFile).kind === "file" && Buffer.isBuffer((value as UploadedFile).data);
}

/** A required file field. */
export function fileField(description: string) {
  return z
    .custom<UploadedFile>(isUploadedFile, { message: "expected a file upload (multipart/form-data file part)" })
    .meta({ type: "string", format: "binary", description });
}

/** One or more file parts under the same name, as an array. */
export function filesField(description: string) {
  return z
    .union([fileField(description), z.array(fileField(description)).min(1)])
    .transform((value) => (Array.isArray(value) ? value : [value]))
    .meta({ type: "array", items: { type: "string", format: "binary" }, description });
}

/**
 * A form or query boolean: true/false/1/0/yes/no/on/off, any case (or a JSON boolean). An
 * `undefined` fallback leaves the choice to the server's setting (`defaultText` says which).
 */
export function boolField<F extends boolean | undefined>(fallback: F, description: string, defaultText = String(fallback)) {
  return textInput<boolean, F>(boolean, { fallback: () => fallback, native: (v): v is boolean => typeof v === "boolean" }).meta({
    anyOf: [{ type: "boolean" }, { type: "string", enum: ["true", "false", "1", "0", "yes", "no", "on", "off"] }],
    description: `${description} (${BOOLEAN_WORDS}). Default ${defaultText}.`,
  });
}

/** A form or query number (sent as text, or a JSON number). */
export function numberField(min: number, max: number, description: string, integer = false) {
  return textInput<number, number | undefined>(numberBetween(min, max, integer), { fallback: () => undefined, native: (v): v is number => typeof v === "number" }).meta({
    anyOf: [{ type: integer ? "integer" : "number", minimum: min, maximum: max }, { type: "string" }],
    description,
  });
}

/** An optional text field; a field sent twice is an error rather than a silent pick. */
export function textField(description: string) {
  return z.string({ error: "expected a single text value" }).optional().meta({ description });
}

/** The zod issue for a field over its limit; the error handler answers it with 413 (toHttpError). */
export function tooLongIssue(error: FieldTooLongError) {
  return { code: "custom" as const, message: error.message, params: { tooLong: { field: error.field, limit: error.limit } } };
}

/** An optional text field with a length limit from lib/limits.ts (`field`: the name the client sent). */
export function limitedTextField(description: string, field: string, kind: LimitedField) {
  return textField(`${description}. At most ${FIELD_LIMITS[kind]} characters (413 above)`).superRefine((value, ctx) => {
    const tooLong = checkFieldLength(field, kind, value);
    if (tooLong) ctx.addIssue(tooLongIssue(tooLong));
  });
}

/** An optional output script for Chinese text (TranscribeOptions.chineseScript); omitted: the server's WHISPER_ZH_SCRIPT. */
export function chineseScriptField(description = `Script of Chinese output: ${CHINESE_SCRIPTS.join(", ")}. Default: the server's WHISPER_ZH_SCRIPT (simplified)`) {
  return textInput<ChineseScript, undefined>(oneOf(CHINESE_SCRIPTS), { fallback: () => undefined }).meta({ type: "string", description });
}

/** An optional language field: a code or English name, normalised here; empty or absent is `undefined` (lib/languages.ts says what that means). */
export function languageTextField(description: string) {
  return textInput<string, string | undefined>(language, { fallback: () => undefined }).meta({ type: "string", description });
}
