// A transcription in a fresh Node process: the loader's choice and the backends load once per
// process, so tests of those choices run here instead of in the test's own process.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { expect } from "vitest";
import { PACKAGE_ROOT } from "../../lib/native.js";

/**
 * Loads the scripted "mini" model in a child (tsx), transcribes 5 s of audio with
 * `transcribeOptions`, and returns the value of `report`, a JS expression over `result` and
 * `runtimeInfo`. A non-zero exit fails the test with the child's stderr.
 */
export function scriptedRunInChild<T>(env: NodeJS.ProcessEnv, report: string, transcribeOptions: Record<string, unknown> = {}): T {
  const script = `
    const { Whisper, runtimeInfo } = await import(${JSON.stringify(path.join(PACKAGE_ROOT, "lib", "index.ts"))});
    const { scriptedModelPath, makeAudio } = await import(${JSON.stringify(path.join(PACKAGE_ROOT, "test", "fixtures", "models.ts"))});
    const model = await Whisper.load(await scriptedModelPath({ dims: "mini" }), { threads: 2 });
    const result = await model.transcribe(makeAudio(5), ${JSON.stringify(transcribeOptions)});
    await model.dispose();
    console.log(JSON.stringify(${report}));`;
  const child = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    cwd: PACKAGE_ROOT,
    env,
    encoding: "utf8",
    timeout: 120_000,
  });
  expect(child.status, child.stderr).toBe(0);
  return JSON.parse(child.stdout.trim().split("\n").at(-1) ?? "{}") as T;
}
