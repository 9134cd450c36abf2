#include "detect.h"

#include <memory>
#include <string>
#include <vector>

#include "log.h"
#include "model.h"
#include "whisper.h"

namespace tingwu {
namespace {

class DetectWorker : public Napi::AsyncWorker {
 public:
  DetectWorker(Napi::Env env, WhisperModel *model, std::vector<float> samples, int threads, int offset_ms,
               std::shared_ptr<std::atomic<bool>> flag)
      : Napi::AsyncWorker(env, "tingwu:detect-language"),
        deferred_(Napi::Promise::Deferred::New(env)),
        model_(model),
        samples_(std::move(samples)),
        threads_(threads),
        offset_ms_(offset_ms),
        flag_(std::move(flag)) {}

  Napi::Promise Promise() const { return deferred_.Promise(); }

  void Execute() override {
    Run();
    model_->JobFinished(flag_);
  }

  void OnOK() override {
    Napi::Env env = Env();
    model_->Unref();
    Napi::Object out = Napi::Object::New(env);
    out.Set("language", whisper_lang_str(lang_id_));
    out.Set("probability", Napi::Number::New(env, probs_[lang_id_]));
    Napi::Object all = Napi::Object::New(env);
    for (int i = 0; i < static_cast<int>(probs_.size()); ++i) all.Set(whisper_lang_str(i), Napi::Number::New(env, probs_[i]));
    out.Set("probabilities", all);
    deferred_.Resolve(out);
  }

  void OnError(const Napi::Error &error) override {
    model_->Unref();
    Napi::Error copy = Napi::Error::New(Env(), error.Message());
    copy.Set("code", Napi::String::New(Env(), code_));
    deferred_.Reject(copy.Value());
  }

 private:
  void Run() {
    if (flag_->load()) return Fail("ABORT_ERR", "The language detection was aborted");
    LogCapture capture;
    std::string state_error;
    whisper_state *state = model_->AcquireState(state_error);
    if (state == nullptr && !state_error.empty()) return Fail("ERR_STATE", state_error);
    whisper_context *ctx = model_->Context();
    probs_.assign(whisper_lang_max_id() + 1, 0.0f);
    const int n = static_cast<int>(samples_.size());
    int rc = state ? whisper_pcm_to_mel_with_state(ctx, state, samples_.data(), n, threads_)
                   : whisper_pcm_to_mel(ctx, samples_.data(), n, threads_);
    if (rc == 0) {
      lang_id_ = state ? whisper_lang_auto_detect_with_state(ctx, state, offset_ms_, threads_, probs_.data())
                       : whisper_lang_auto_detect(ctx, offset_ms_, threads_, probs_.data());
    }
    model_->ReleaseState(state);
    if (rc != 0 || lang_id_ < 0) {
      std::string why = capture.LastProblems();
      Fail("ERR_DETECT", "whisper.cpp could not detect the language" + (why.empty() ? std::string() : ": " + why));
    }
  }

  void Fail(const char *code, const std::string &message) {
    code_ = code;
    SetError(message);
  }

  Napi::Promise::Deferred deferred_;
  WhisperModel *model_;
  std::vector<float> samples_;
  int threads_;
  int offset_ms_;
  std::shared_ptr<std::atomic<bool>> flag_;
  std::vector<float> probs_;
  int lang_id_ = -1;
  std::string code_ = "ERR_DETECT";
};

}  // namespace

Napi::Value StartLanguageDetection(const Napi::CallbackInfo &info, WhisperModel *model) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array ||
      !info[1].IsObject()) {
    throw Napi::TypeError::New(env, "detectLanguage(samples, params): samples must be a Float32Array and params an object");
  }
  auto samples = info[0].As<Napi::Float32Array>();
  Napi::Object params = info[1].As<Napi::Object>();
  auto flag = std::make_shared<std::atomic<bool>>(false);
  auto *worker = new DetectWorker(env, model, std::vector<float>(samples.Data(), samples.Data() + samples.ElementLength()),
                                  params.Get("threads").ToNumber().Int32Value(), params.Get("offsetMs").ToNumber().Int32Value(), flag);
  model->Ref();
  model->JobStarted(flag);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

}  // namespace tingwu
