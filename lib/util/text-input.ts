// The one way text input becomes typed values: environment variables, CLI flags (through the
// settings), form fields and query strings. A parser turns trimmed text into a value or says what
// it expected; textInput() wraps it in a zod schema whose issue reads
// `expected <what> but received "<text>"`, which each caller prefixes with the name the user wrote
// (WHISPER_THREADS, --threads, the form field).
import { z } from "zod";
import { normalizeLanguage } from "../languages.js";
import type { Language } from "../languages.js";

export type Parsed<T> = { ok: true; value: T } | { ok: false; expected: string };
export const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
export const fail = (expected: string): Parsed<never> => ({ ok: false, expected });
export type TextParser<T> = (text: string) => Parsed<T>;

export interface TextInputOptions<T, F> {
  /** The value when the input is absent. */
  fallback: () => F;
  /** The value when the input is blank. Default: `fallback`. */
  blank?: () => F;
  /** Values already typed (a JSON body's `true` or `0.5`) that are taken as they are, after `check`. */
  native?: (value: unknown) => value is T;
}

/** A zod schema for one text input: absent or blank give the fallbacks, the rest goes through `parse`. */
export function textInput<T, F = T>(parse: TextParser<T>, options: TextInputOptions<T, F>) {
  return z.unknown().optional().transform((raw, ctx): T | F => {
    if (raw === undefined) return options.fallback();
    let text: string;
    if (typeof raw === "string") text = raw.trim();
    else if (options.native?.(raw)) text = String(raw);
    else {
      ctx.issues.push({ code: "custom", message: `expected a single text value but received ${Array.isArray(raw) ? "several" : typeof raw}`, input: raw });
      return z.NEVER;
    }
    if (text === "") return (options.blank ?? options.fallback)();
    const result = parse(text);
    if (result.ok) return result.value;
    ctx.issues.push({ code: "custom", message: `expected ${result.expected} but received ${JSON.stringify(raw)}`, input: raw });
    return z.NEVER;
  });
}

/** One of `values`, any case. */
export function oneOf<const T extends readonly [string, ...string[]]>(values: T): TextParser<T[number]> {
  return (text) => {
    const word = text.toLowerCase();
    return (values as readonly string[]).includes(word) ? ok(word as T[number]) : fail(`one of ${values.join(", ")}`);
  };
}

/** Decimal digits only (no sign, exponent or hex), `min` to `max`. */
export function integer(min: number, max: number): TextParser<number> {
  return (text) => {
    const value = /^\+?\d+$/.test(text) ? Number(text) : Number.NaN;
    return Number.isSafeInteger(value) && value >= min && value <= max ? ok(value) : fail(`an integer between ${min} and ${max}`);
  };
}

/** A decimal number greater than 0 and at most `max`. */
export function positiveNumber(max: number): TextParser<number> {
  return (text) => {
    const value = /^\+?(\d+\.?\d*|\.\d+)$/.test(text) ? Number(text) : Number.NaN;
    return value > 0 && value <= max ? ok(value) : fail(`a number greater than 0 and at most ${max}`);
  };
}

/** Any number JavaScript reads (`0.5`, `1e-3`) from `min` to `max`; an integer when `whole`. */
export function numberBetween(min: number, max: number, whole = false): TextParser<number> {
  return (text) => {
    const value = Number(text);
    return Number.isFinite(value) && value >= min && value <= max && (!whole || Number.isInteger(value))
      ? ok(value)
      : fail(`${whole ? "an integer" : "a number"} between ${min} and ${max}`);
  };
}

const TRUE_WORDS = ["true", "1", "yes", "on"];
const FALSE_WORDS = ["false", "0", "no", "off"];

/** The words {@link boolean} accepts, for messages and docs. */
export const BOOLEAN_WORDS = "true/false, 1/0, yes/no or on/off";

/** true/false, 1/0, yes/no, on/off, any case. */
export const boolean: TextParser<boolean> = (text) => {
  const word = text.toLowerCase();
  if (TRUE_WORDS.includes(word)) return ok(true);
  if (FALSE_WORDS.includes(word)) return ok(false);
  return fail(BOOLEAN_WORDS);
};

/** A language code or English name, or `auto` (lib/languages.ts decides which). */
export const language: TextParser<Language> = (text) => {
  try {
    return ok(normalizeLanguage(text));
  } catch {
    return fail('"auto", empty, or a language code or English name whisper knows (zh, en, ja, chinese, ...)');
  }
};

/** Any text, trimmed. */
export const anyText: TextParser<string> = (text) => ok(text);
