// detectSpeech(modelPath, samples, params): { promise, abort }
// Runs the Silero VAD model (whisper.cpp's whisper_vad_*) over 16 kHz samples and resolves with
// one speech probability per 512-sample window. Turning probabilities into speech segments and
// chunks is policy and lives in TypeScript (lib/vad/).
#pragma once

#include <napi.h>

namespace tingwu {

Napi::Value DetectSpeech(const Napi::CallbackInfo &info);

}  // namespace tingwu
