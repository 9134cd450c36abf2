// detectLanguage(samples, { threads, offsetMs }): Promise<{ language, probability, probabilities }>
#pragma once

#include <napi.h>

namespace tingwu {

class WhisperModel;
Napi::Value StartLanguageDetection(const Napi::CallbackInfo &info, WhisperModel *model);

}  // namespace tingwu
