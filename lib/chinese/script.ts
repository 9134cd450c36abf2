// Output script for Chinese text, with OpenCC (opencc-js, the JavaScript port of the OpenCC
// dictionaries). Whisper answers Mandarin in Simplified or Traditional characters, often mixed
// within one file; TingWu's users write Simplified.
import OpenCC from "opencc-js";

/** The scripts Chinese output can be written in; `"as-is"` keeps whisper.cpp's characters. */
export const CHINESE_SCRIPTS = ["simplified", "traditional", "traditional-tw", "traditional-hk", "as-is"] as const;
export type ChineseScript = (typeof CHINESE_SCRIPTS)[number];

// Source variant for each target. Whisper's Traditional output is mostly Taiwan-style, so
// Simplified starts from "tw" (its variant characters, e.g. 裡, convert too); the Traditional
// targets start from Simplified ("cn"), which leaves characters already Traditional alone.
// "twp" adds Taiwan's phrases (软件 -> 軟體), what OpenCC's s2twp gives Taiwanese readers.
const LOCALES: Record<Exclude<ChineseScript, "as-is">, { from: "tw" | "cn"; to: "cn" | "t" | "twp" | "hk" }> = {
  simplified: { from: "tw", to: "cn" },
  traditional: { from: "cn", to: "t" },
  "traditional-tw": { from: "cn", to: "twp" },
  "traditional-hk": { from: "cn", to: "hk" },
};

const converters = new Map<ChineseScript, (text: string) => string>();

/** A converter to `script` (built once per script; OpenCC's dictionaries take ~100 ms to load). */
export function chineseConverter(script: ChineseScript): (text: string) => string {
  if (script === "as-is") return (text) => text;
  const known = converters.get(script);
  if (known) return known;
  const convert: (text: string) => string = OpenCC.Converter(LOCALES[script]);
  converters.set(script, convert);
  return convert;
}

/** Checks a `chineseScript` option; the error names `option`. */
export function parseChineseScript(value: unknown, option = "chineseScript"): ChineseScript {
  if (typeof value !== "string") {
    throw new TypeError(`Expected one of ${CHINESE_SCRIPTS.join(", ")} for ${option} but received ${value === null ? "null" : typeof value}`);
  }
  const key = value.trim().toLowerCase();
  if (!(CHINESE_SCRIPTS as readonly string[]).includes(key)) {
    throw new RangeError(`Expected one of ${CHINESE_SCRIPTS.join(", ")} for ${option} but received ${JSON.stringify(value)}`);
  }
  return key as ChineseScript;
}
