// The service's hotword lists, kept in files like TingWu's (`hotwords/hotwords.txt` and
// `hotwords/hotwords-context.txt` under DATA_DIR, one term per line, `#` comments): the routes
// replace or extend them, a reload reads what is on disk (edits made by hand included). Both lists
// only ever reach whisper as the decoder prompt; whisper has no forced replacement, so "context"
// hotwords (TingWu: prompt only) and the main list differ only in the order they are merged.
import fs from "node:fs/promises";
import path from "node:path";
import { writeFileAtomic } from "../util/atomic-write.js";
import { MAX_HOTWORD_TERMS, parseHotwordTerms } from "./hotwords.js";

/** The two lists TingWu keeps. */
export type HotwordList = "hotwords" | "context";

/** File names under `<DATA_DIR>/hotwords/` (TingWu's `hotwords_file` and `hotwords_context_file`). */
export const HOTWORD_FILES: Readonly<Record<HotwordList, string>> = { hotwords: "hotwords.txt", context: "hotwords-context.txt" };

/** Terms one list may hold; a longer request is refused rather than stored. */
export const MAX_STORED_HOTWORDS = 10_000;
/** Characters one term may have. */
export const MAX_HOTWORD_LENGTH = 200;

/** How stored hotwords are merged into a request's prompt (TingWu's `hotword_injection_*`). */
export interface InjectionSettings {
  /** Use the stored lists when the request brings no hotwords of its own. */
  enabled: boolean;
  /** Terms merged at most (context list first, then the main list). */
  max: number;
}

export class HotwordStore {
  /** The folder holding the two files. */
  readonly dir: string;
  readonly #lists: Record<HotwordList, string[]> = { hotwords: [], context: [] };
  // Writes of one list are serialised so the file always matches the last accepted request.
  #writing: Promise<unknown> = Promise.resolve();

  /** @param dataDir DATA_DIR; the files live in `<dataDir>/hotwords/`. */
  constructor(dataDir: string) {
    this.dir = path.join(dataDir, "hotwords");
  }

  /** The file of a list. */
  file(list: HotwordList): string {
    return path.join(this.dir, HOTWORD_FILES[list]);
  }

  /** A copy of a list's terms. */
  list(list: HotwordList): string[] {
    return [...this.#lists[list]];
  }

  /** Reads both files (a missing file is an empty list). */
  async loadAll(): Promise<void> {
    await this.reload("hotwords");
    await this.reload("context");
  }

  /** Reads a list's file again; returns its term count. Waits for changes in progress. */
  async reload(list: HotwordList): Promise<number> {
    const run = this.#writing.then(async () => {
      let text = "";
      try {
        text = await fs.readFile(this.file(list), "utf8");
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      }
      this.#lists[list] = parseHotwordTerms(text).slice(0, MAX_STORED_HOTWORDS);
      return this.#lists[list].length;
    });
    this.#writing = run.catch(() => undefined);
    return run;
  }

  /** Replaces a list and writes its file; returns the new term count. */
  async replace(list: HotwordList, terms: readonly string[]): Promise<number> {
    const next = normalizeTerms(terms);
    await this.#update(list, () => next);
    return next.length;
  }

  /** Adds the terms not yet in a list (order kept) and writes its file; returns how many were added. */
  async append(list: HotwordList, terms: readonly string[]): Promise<{ added: number; count: number }> {
    const extra = normalizeTerms(terms);
    let added = 0;
    const count = await this.#update(list, (current) => {
      const combined = parseHotwordTerms([...current, ...extra]);
      added = combined.length - current.length;
      return combined;
    });
    return { added, count };
  }

  /**
   * The hotwords for one request's prompt: the request's own when it has any, else (when injection
   * is enabled) the stored context list then the main list, de-duplicated, at most `max` terms.
   * The prompt builder still lists at most {@link MAX_HOTWORD_TERMS}.
   */
  promptHotwords(requested: string | undefined, injection: InjectionSettings): string | undefined {
    if (requested !== undefined && requested.trim() !== "") return requested;
    if (!injection.enabled || injection.max <= 0) return undefined;
    const merged = [...new Set([...this.#lists.context, ...this.#lists.hotwords])].slice(0, Math.min(injection.max, MAX_HOTWORD_TERMS));
    return merged.length > 0 ? merged.join("\n") : undefined;
  }

  // Changes run one after another, each on the list the previous one left, so two concurrent
  // appends both land and the file always matches the list in memory.
  async #update(list: HotwordList, change: (current: readonly string[]) => string[]): Promise<number> {
    const run = this.#writing.then(async () => {
      const terms = change(this.#lists[list]);
      if (terms.length > MAX_STORED_HOTWORDS) throw new RangeError(`Expected at most ${MAX_STORED_HOTWORDS} hotwords but received ${terms.length}`);
      await writeFileAtomic(this.file(list), terms.length > 0 ? `${terms.join("\n")}\n` : "");
      this.#lists[list] = terms;
      return terms.length;
    });
    this.#writing = run.catch(() => undefined);
    return run;
  }
}

/** Trims, drops empty and `#` lines, de-duplicates; a term with a line break or over the length limit is refused. */
function normalizeTerms(terms: readonly string[]): string[] {
  terms.forEach((term, i) => {
    if (/[\r\n]/.test(term)) throw new TypeError(`Expected one line for hotwords[${i}] but it contains a line break`);
    if (term.length > MAX_HOTWORD_LENGTH) throw new RangeError(`Expected at most ${MAX_HOTWORD_LENGTH} characters for hotwords[${i}] but received ${term.length}`);
  });
  return parseHotwordTerms(terms);
}
