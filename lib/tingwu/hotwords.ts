// Hotwords -> whisper's initial prompt, the way TingWu's whisper backend builds it
// (src/models/backends/whisper.py: _parse_hotword_terms / _format_initial_prompt). The prompt is
// only a hint to the decoder; it is short because whisper keeps at most ~224 prompt tokens.
// Python's str.splitlines() and str.strip() are reproduced exactly (their character sets differ
// slightly from JavaScript's), so a hotword file gives the same prompt in both services.

/** Start of the prompt: "Proper nouns/abbreviations (keep them as they are if they occur):". */
export const HOTWORD_PROMPT_PREFIX = "专有名词/缩写提示（若出现请保持原样）：";
/** Terms considered at most (after de-duplication); the rest are ignored. */
export const MAX_HOTWORD_TERMS = 50;
/** Terms written out in the prompt; the remainder is only counted (`（另有N个）`). */
export const LISTED_HOTWORD_TERMS = 12;

// Python str.splitlines() boundaries (control characters among them, on purpose).
// biome-ignore lint/suspicious/noControlCharactersInRegex: Python's line boundaries include \x1c-\x1e
const PY_LINE_BREAK = /\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/;
// Python str.isspace() characters (str.strip() with no argument).
const PY_SPACE = "\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const PY_STRIP = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, "g");

/** Python's `str.strip()`. */
function pyStrip(text: string): string {
  return text.replace(PY_STRIP, "");
}

function toText(hotwords: unknown): string | undefined {
  if (hotwords === undefined || hotwords === null) return undefined;
  if (typeof hotwords === "string") return hotwords;
  if (Array.isArray(hotwords)) {
    hotwords.forEach((term, i) => {
      if (typeof term !== "string") throw new TypeError(`Expected a string for hotwords[${i}] but received ${term === null ? "null" : typeof term}`);
    });
    return hotwords.join("\n");
  }
  throw new TypeError(`Expected a newline-separated string or an array of strings for hotwords but received ${typeof hotwords}`);
}

/**
 * The hotword terms: one per line, trimmed, empty lines and `#` comment lines dropped,
 * de-duplicated (exact match, first occurrence kept, order kept). Not limited to 50.
 */
export function parseHotwordTerms(hotwords: string | readonly string[] | undefined | null): string[] {
  const text = toText(hotwords);
  if (text === undefined) return [];
  const seen = new Set<string>();
  for (const line of text.split(PY_LINE_BREAK)) {
    const term = pyStrip(line);
    if (term !== "" && !term.startsWith("#")) seen.add(term);
  }
  return [...seen];
}

/**
 * Builds whisper's initial prompt from hotwords, exactly as TingWu's whisper backend does:
 *
 * `专有名词/缩写提示（若出现请保持原样）：` + the first 12 terms joined with `", "` + `（另有N个）`
 * when there are more than 12 terms, N being the count beyond 12 of at most 50 terms (so N ≤ 38).
 * Terms come from {@link parseHotwordTerms}. A string is split on line breaks; an array is
 * treated as its elements joined with newlines.
 *
 * Returns undefined when there are no hotwords (undefined, null, empty or whitespace only).
 * TingWu quirk, kept for parity: when the text has content but every line is a `#` comment, the
 * prompt is the trimmed text itself.
 *
 * @example buildHotwordPrompt("Kubernetes\nTingWu") === "专有名词/缩写提示（若出现请保持原样）：Kubernetes, TingWu"
 */
export function buildHotwordPrompt(hotwords: string | readonly string[] | undefined | null): string | undefined {
  const text = toText(hotwords);
  if (text === undefined) return undefined;
  const stripped = pyStrip(text);
  if (stripped === "") return undefined;
  const terms = parseHotwordTerms(stripped).slice(0, MAX_HOTWORD_TERMS);
  if (terms.length === 0) return stripped;
  const listed = terms.slice(0, LISTED_HOTWORD_TERMS).join(", ");
  const more = terms.length > LISTED_HOTWORD_TERMS ? `（另有${terms.length - LISTED_HOTWORD_TERMS}个）` : "";
  return `${HOTWORD_PROMPT_PREFIX}${listed}${more}`;
}
