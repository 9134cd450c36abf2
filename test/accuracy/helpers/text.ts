// Error rates as speech recognition reports them: edit distance between reference and hypothesis
// (substitutions + deletions + insertions) over the reference length, after normalisation.

/** Lower case, apostrophes dropped ("don't" = "dont"), every other non-letter/digit a word break. */
export function normalizeWords(text: string): string[] {
  return text
    .toLowerCase()
    .normalize("NFKC")
    .replace(/['’]/g, "")
    .replace(/[^\p{L}\p{N}]+/gu, " ")
    .trim()
    .split(/\s+/)
    .filter((w) => w !== "");
}

/** Letters and digits only, one entry per code point (for Chinese, where words aren't spaced). */
export function normalizeChars(text: string): string[] {
  return [...text.toLowerCase().normalize("NFKC").replace(/[^\p{L}\p{N}]/gu, "")];
}

/** Levenshtein distance between two token sequences. */
export function editDistance<T>(a: readonly T[], b: readonly T[]): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length]!;
}

export interface ErrorRate {
  rate: number;
  errors: number;
  length: number;
  reference: string;
  hypothesis: string;
}

function rate(ref: string[], hyp: string[], sep: string): ErrorRate {
  const errors = editDistance(ref, hyp);
  return { rate: ref.length === 0 ? (hyp.length === 0 ? 0 : 1) : errors / ref.length, errors, length: ref.length, reference: ref.join(sep), hypothesis: hyp.join(sep) };
}

/** Word error rate after {@link normalizeWords}. */
export const wordErrorRate = (reference: string, hypothesis: string): ErrorRate => rate(normalizeWords(reference), normalizeWords(hypothesis), " ");

/** Character error rate after {@link normalizeChars}. */
export const characterErrorRate = (reference: string, hypothesis: string): ErrorRate => rate(normalizeChars(reference), normalizeChars(hypothesis), "");

export const percent = (r: number): string => `${(r * 100).toFixed(1)}%`;
