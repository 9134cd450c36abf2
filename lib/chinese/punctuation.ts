// Full-width punctuation where the text around it is Chinese: Whisper often writes "你好,世界"
// with ASCII marks. Only marks next to a CJK character change, and not between a CJK character
// and a Latin letter or digit after it, so "3.14", "e.g." and "Node.js" inside Chinese text stay.

const FULL_WIDTH: Record<string, string> = { ",": "，", ".": "。", "?": "？", "!": "！", ":": "：", ";": "；" };

/** CJK ideographs (the unified blocks and extension A) and CJK symbols and punctuation. */
export function isCjk(ch: string | undefined): boolean {
  if (ch === undefined) return false;
  const c = ch.codePointAt(0)!;
  return (c >= 0x4e00 && c <= 0x9fff) || (c >= 0x3400 && c <= 0x4dbf) || (c >= 0x20000 && c <= 0x2ffff) || (c >= 0x3000 && c <= 0x303f) || (c >= 0xff00 && c <= 0xffef);
}

const ASCII_WORD = /[A-Za-z0-9]/;

/**
 * Rewrites `, . ? ! : ;` as full-width where they belong to Chinese text: right after a CJK
 * character (and not before a Latin letter or digit), or right before one ("3.14,很好"). `before`/`after` are the text around `text` (the neighbouring tokens), so a token
 * holding only "," decides as it would inside its segment. With `dropSpaces`, spaces right after
 * a rewritten mark go too ("你好, 世界" -> "你好，世界"); tokens keep theirs, so their texts still
 * line up with their timestamps.
 */
export function fullWidthPunctuation(text: string, context: { before?: string; after?: string; dropSpaces?: boolean } = {}): string {
  if (!/[,.?!:;]/.test(text)) return text;
  const before = [...(context.before ?? "")];
  const chars = [...before, ...text, ...(context.after ?? "")];
  const end = before.length + [...text].length;
  let out = "";
  let dropping = false;
  for (let i = before.length; i < end; i++) {
    const ch = chars[i]!;
    if (dropping && ch === " ") continue;
    dropping = false;
    const wide = FULL_WIDTH[ch];
    const [prev, next] = [chars[i - 1], chars[i + 1]];
    const chinese = (isCjk(prev) && !ASCII_WORD.test(next ?? "")) || (isCjk(next) && prev !== undefined && prev !== " ");
    if (wide !== undefined && chinese) {
      out += wide;
      dropping = context.dropSpaces ?? false;
    } else {
      out += ch;
    }
  }
  return out;
}
