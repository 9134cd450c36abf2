// The addon in a worker_thread: terminating the worker mid-transcription must stop whisper.cpp,
// free the model through the environment cleanup hook and leave the host process healthy.
import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { Whisper } from "../../lib/index.js";
import { SCRIPT, makeAudio, scriptedModelPath } from "../fixtures/models.js";

const workerSource = `
const { parentPort, workerData } = require("node:worker_threads");
const binding = require(workerData.binary);
(async () => {
  const model = await binding.WhisperModel.load(workerData.model, { gpu: false, gpuDevice: 0, flashAttention: true });
  const samples = new Float32Array(16000 * 120);
  const params = { threads: 1, language: "en", translate: false, promptTokens: new Int32Array(0), temperature: 0, temperatureIncrement: 0.2,
    beamSize: 1, bestOf: 5, noTimestamps: false, tokenTimestamps: false, includeTokens: false, maxSegmentLength: 0,
    splitOnWord: false, maxTokensPerSegment: 0, suppressBlank: true, suppressNonSpeechTokens: false, noSpeechThreshold: 0.6,
    entropyThreshold: 2.4, logprobThreshold: -1, offsetMs: 0, durationMs: 0, noContext: true, singleSegment: false };
  const job = model.transcribe(samples, params, () => {});
  parentPort.postMessage("running");
  await job.promise;
  parentPort.postMessage("finished");
})().catch((e) => parentPort.postMessage("error: " + e.message));
`;

describe("worker threads", () => {
  it("terminating a worker mid-run frees its model and the host keeps working", async () => {
    const { runtimeInfo } = await import("../../lib/index.js");
    const binary = runtimeInfo().binary;
    const modelFile = await scriptedModelPath({ dims: "tiny" });
    for (let round = 0; round < 2; round++) {
      const worker = new Worker(workerSource, { eval: true, workerData: { binary, model: modelFile } });
      const first = await new Promise<string>((resolve, reject) => {
        worker.once("message", resolve);
        worker.once("error", reject);
      });
      expect(first).toBe("running");
      const later: string[] = [];
      worker.on("message", (m: string) => later.push(m));
      await new Promise((r) => setTimeout(r, 100));
      const exitCode = await worker.terminate();
      expect(later).toEqual([]); // it was still running when terminated
      expect(exitCode).toBe(1); // terminated, not crashed
    }
    // The host still transcribes correctly afterwards.
    const model = await Whisper.load(await scriptedModelPath({ dims: "mini" }), { threads: 1 });
    try {
      expect((await model.transcribe(makeAudio(5), { language: "en" })).text).toBe(SCRIPT.text);
    } finally {
      await model.dispose();
    }
  });
});
