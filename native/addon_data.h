// Per-environment state of the addon (one per Node.js main thread or worker_thread).
#pragma once

#include <napi.h>

#include <set>

namespace tingwu {

class WhisperModel;
struct LoadedModel;

struct AddonData {
  Napi::FunctionReference model_constructor;
  // Live models, so the environment cleanup hook can stop their work and free them.
  std::set<WhisperModel *> models;
  // Handed from a finished load to the WhisperModel constructor it calls (set just before, taken
  // by the constructor). No napi External: its bookkeeping lives until the next GC, which
  // LeakSanitizer reports at exit. Null otherwise, so JS can't construct a model itself.
  LoadedModel *pending_model = nullptr;
};

inline AddonData *GetAddonData(Napi::Env env) { return env.GetInstanceData<AddonData>(); }

}  // namespace tingwu
