// The whisper.cpp source is needed only to compile: WHISPER_CPP_DIR, else the installed
// nodejs-whisper (a devDependency), else its tarball from the npm registry, unpacked under build/.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { PACKAGE_ROOT } from "../../lib/native.js";
// @ts-expect-error plain ESM script without declarations
import { NODEJS_WHISPER_VERSION, whisperCppDir } from "../../scripts/whisper-source.mjs";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tingwu-src-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const env = { ...process.env };
delete env.WHISPER_CPP_DIR;

describe("whisperCppDir", () => {
  it("is not a runtime dependency of the package", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, "package.json"), "utf8")) as Record<string, Record<string, string>>;
    expect(pkg.dependencies).not.toHaveProperty("nodejs-whisper");
    expect(pkg.devDependencies?.["nodejs-whisper"]).toBe(NODEJS_WHISPER_VERSION);
  });

  it("takes WHISPER_CPP_DIR, and refuses one without whisper.h", () => {
    const installed = whisperCppDir({ root: PACKAGE_ROOT, env }) as string;
    expect(whisperCppDir({ root: tmp, env: { ...env, WHISPER_CPP_DIR: installed } })).toBe(installed);
    expect(() => whisperCppDir({ root: tmp, env: { ...env, WHISPER_CPP_DIR: tmp } })).toThrow(/does not contain include\/whisper\.h/);
  });

  it("takes the installed nodejs-whisper in a checkout", () => {
    expect(whisperCppDir({ root: PACKAGE_ROOT, env })).toBe(path.join(PACKAGE_ROOT, "node_modules", "nodejs-whisper", "cpp", "whisper.cpp"));
  });

  it("without it, fetches the pinned tarball from the registry once and unpacks only the source", () => {
    const root = path.join(tmp, "installed-package");
    fs.mkdirSync(root);
    fs.writeFileSync(path.join(root, "package.json"), JSON.stringify({ name: "x", version: "1.0.0" }));
    const lines: string[] = [];
    const dir = whisperCppDir({ root, env, log: (l: string) => lines.push(l) }) as string;
    expect(dir).toBe(path.join(root, "build", `whisper.cpp-${NODEJS_WHISPER_VERSION}`));
    expect(fs.readFileSync(path.join(dir, "include", "whisper.h"), "utf8")).toContain("whisper_full");
    expect(fs.existsSync(path.join(root, "node_modules"))).toBe(false); // nothing installed
    expect(lines).toEqual([`tingwu-whisper: fetching the whisper.cpp source (nodejs-whisper@${NODEJS_WHISPER_VERSION}) from the npm registry`]);
    expect(whisperCppDir({ root, env, log: (l: string) => lines.push(l) })).toBe(dir);
    expect(lines).toHaveLength(1);
  }, 600_000);
});
