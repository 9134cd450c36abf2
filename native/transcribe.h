// transcribe(samples, params, onEvent?): { promise, abort }
// The baton (TranscribeJob) is filled on the JS thread before queueing; Execute() only touches
// whisper.cpp and plain C++ data; the result is turned into JS objects back on the JS thread.
#pragma once

#include <napi.h>

namespace tingwu {

class WhisperModel;
Napi::Value StartTranscription(const Napi::CallbackInfo &info, WhisperModel *model);

}  // namespace tingwu
