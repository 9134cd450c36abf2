// Chinese output as its readers write it: one script (OpenCC) and full-width punctuation, applied
// to each segment and each of its tokens so sentence_info, SRT/VTT and word timestamps stay
// aligned. Only text in Chinese (the language asked for or detected) is rewritten.
import type { Segment } from "../whisper.js";
import { fullWidthPunctuation } from "./punctuation.js";
import { chineseConverter } from "./script.js";
import type { ChineseScript } from "./script.js";

export { CHINESE_SCRIPTS, chineseConverter, parseChineseScript } from "./script.js";
export type { ChineseScript } from "./script.js";
export { fullWidthPunctuation, isCjk } from "./punctuation.js";

/**
 * The service's and the backend's Chinese output when nothing is configured (TingWu's readers:
 * simplified script, full-width punctuation, a Simplified prompt). The library's own defaults
 * (`Whisper#transcribe`) leave text as decoded.
 */
export const SERVICE_CHINESE_DEFAULTS = Object.freeze({
  chineseScript: "simplified" as ChineseScript,
  chinesePunctuation: true,
  chinesePrompt: true,
});

/** What to do with Chinese output. */
export interface ChineseOutput {
  script: ChineseScript;
  punctuation: boolean;
}

/** True when there is anything to rewrite. */
export function rewritesChinese(output: ChineseOutput): boolean {
  return output.script !== "as-is" || output.punctuation;
}

/** Rewrites one segment in place (text and tokens; times untouched) and returns it. */
export function rewriteChineseSegment(segment: Segment, output: ChineseOutput): Segment {
  const convert = chineseConverter(output.script);
  const text = (t: string, before?: string, after?: string, dropSpaces = false) => {
    const converted = convert(t);
    if (!output.punctuation) return converted;
    const context: { before?: string; after?: string; dropSpaces: boolean } = { dropSpaces };
    if (before !== undefined) context.before = convert(before);
    if (after !== undefined) context.after = convert(after);
    return fullWidthPunctuation(converted, context);
  };
  if (segment.tokens) {
    const tokens = segment.tokens;
    // Neighbours' raw text: a token's punctuation decides by the characters around it.
    segment.tokens = tokens.map((token, i) => ({
      ...token,
      text: token.special ? token.text : text(token.text, tokens[i - 1]?.special ? "" : (tokens[i - 1]?.text ?? ""), tokens[i + 1]?.special ? "" : (tokens[i + 1]?.text ?? "")),
    }));
  }
  segment.text = text(segment.text, undefined, undefined, true);
  return segment;
}

/** A Simplified-Chinese sentence put before the user's prompt (see docs/CHINESE.md for its measured effect). */
export const SIMPLIFIED_PROMPT = "以下是普通话的句子。";

/** The prompt sentence in `script` ("以下是普通話的句子。" for the Traditional ones); none for `"as-is"`. */
export function scriptPrompt(script: ChineseScript): string {
  return script === "as-is" ? "" : chineseConverter(script)(SIMPLIFIED_PROMPT);
}
