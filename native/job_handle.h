// The `{ promise, abort }` object every asynchronous addon call returns: `abort()` sets the job's
// flag, which its worker thread polls.
#pragma once

#include <napi.h>

#include <atomic>
#include <memory>

namespace tingwu {

inline Napi::Object JobHandle(Napi::Env env, Napi::Promise promise, std::shared_ptr<std::atomic<bool>> flag) {
  Napi::Object handle = Napi::Object::New(env);
  handle.Set("promise", promise);
  handle.Set("abort", Napi::Function::New(
                          env, [flag](const Napi::CallbackInfo &) { flag->store(true); }, "abort"));
  return handle;
}

}  // namespace tingwu
