// The stored hotword lists: files under DATA_DIR, serialised changes, limits.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { HotwordStore, MAX_HOTWORD_LENGTH, MAX_STORED_HOTWORDS } from "../../lib/tingwu/hotword-store.js";

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "hotword-store-"));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("HotwordStore", () => {
  it("starts empty without files and writes nothing until changed", async () => {
    const store = new HotwordStore(dir);
    await store.loadAll();
    expect(store.list("hotwords")).toEqual([]);
    expect(fs.existsSync(path.join(dir, "hotwords"))).toBe(false);
  });

  it("concurrent appends all land, and the file matches memory", async () => {
    const store = new HotwordStore(dir);
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store.append("hotwords", [`term${i}`, "shared"])));
    expect(results.map((r) => r.added).reduce((a, b) => a + b)).toBe(21);
    expect(store.list("hotwords")).toHaveLength(21);
    expect(fs.readFileSync(store.file("hotwords"), "utf8")).toBe(`${store.list("hotwords").join("\n")}\n`);
    expect(fs.readdirSync(path.join(dir, "hotwords"))).toEqual(["hotwords.txt"]);
  });

  it("reload reads hand edits (comments, blanks, duplicates dropped); an empty list leaves an empty file", async () => {
    const store = new HotwordStore(dir);
    await store.replace("context", ["x"]);
    fs.writeFileSync(store.file("context"), "# comment\r\n  听悟 \n\n听悟\nTingWu\n");
    expect(await store.reload("context")).toBe(2);
    expect(store.list("context")).toEqual(["听悟", "TingWu"]);
    expect(await store.replace("context", [])).toBe(0);
    expect(fs.readFileSync(store.file("context"), "utf8")).toBe("");
  });

  it("refuses a term with a line break, a term too long, too many terms, and keeps the list", async () => {
    const store = new HotwordStore(dir);
    await store.replace("hotwords", ["keep"]);
    await expect(store.replace("hotwords", ["ok", "a\nb"])).rejects.toThrow(new TypeError("Expected one line for hotwords[1] but it contains a line break"));
    await expect(store.append("hotwords", ["x".repeat(MAX_HOTWORD_LENGTH + 1)])).rejects.toThrow(RangeError);
    const many = Array.from({ length: MAX_STORED_HOTWORDS + 1 }, (_, i) => `t${i}`);
    await expect(store.replace("hotwords", many)).rejects.toThrow(`Expected at most ${MAX_STORED_HOTWORDS} hotwords but received ${MAX_STORED_HOTWORDS + 1}`);
    expect(store.list("hotwords")).toEqual(["keep"]);
    expect(fs.readFileSync(store.file("hotwords"), "utf8")).toBe("keep\n");
  });
});
