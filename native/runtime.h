// runtimeInfo(): what was built (whisper.cpp version, variant, CUDA) and what this machine offers.
#pragma once

#include <napi.h>

namespace tingwu {

Napi::Value RuntimeInfo(const Napi::CallbackInfo &info);
// Loads dynamically built ggml backends that sit next to the addon (portable builds).
void LoadBackends();

}  // namespace tingwu
