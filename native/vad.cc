#include "vad.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "job_handle.h"
#include "log.h"
#include "whisper.h"

namespace tingwu {
namespace {

// Windows per whisper_vad_detect_speech_no_reset call: the abort flag is checked between pieces
// (about 4 s of audio each). The LSTM state carries over, so the result equals one whole run.
constexpr int kWindowsPerPiece = 128;
// Silero's window at 16 kHz (the model file's n_window; whisper.cpp only ships 16 kHz models).
constexpr int kWindow = 512;

struct VadJob {
  std::string model_path;
  std::vector<float> samples;
  int threads = 1;
  bool use_gpu = false;
  int gpu_device = 0;
  std::shared_ptr<std::atomic<bool>> aborted = std::make_shared<std::atomic<bool>>(false);

  std::vector<float> probs;
  int window = 0;
  std::string error;
  std::string error_code;
};

class VadWorker : public Napi::AsyncWorker {
 public:
  VadWorker(Napi::Env env, std::shared_ptr<VadJob> job)
      : Napi::AsyncWorker(env, "tingwu:vad"), deferred_(Napi::Promise::Deferred::New(env)), job_(std::move(job)) {}

  Napi::Promise Promise() const { return deferred_.Promise(); }

  void Execute() override {
    try {
      Run(*job_);
    } catch (const std::exception &e) {
      job_->error = std::string("whisper.cpp threw during voice activity detection: ") + e.what();
      job_->error_code = "ERR_VAD";
    } catch (...) {
      job_->error = "whisper.cpp threw an unknown exception during voice activity detection";
      job_->error_code = "ERR_VAD";
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    if (!job_->error.empty()) {
      Napi::Error error = Napi::Error::New(env, job_->error);
      error.Set("code", Napi::String::New(env, job_->error_code));
      deferred_.Reject(error.Value());
      return;
    }
    Napi::Float32Array probs = Napi::Float32Array::New(env, job_->probs.size());
    std::copy(job_->probs.begin(), job_->probs.end(), probs.Data());
    Napi::Object out = Napi::Object::New(env);
    out.Set("probs", probs);
    out.Set("windowSamples", Napi::Number::New(env, job_->window));
    deferred_.Resolve(out);
  }

  void OnError(const Napi::Error &e) override { deferred_.Reject(e.Value()); }

 private:
  static void Run(VadJob &job) {
    LogCapture capture;
    whisper_vad_context_params cparams = whisper_vad_default_context_params();
    cparams.n_threads = job.threads;
    cparams.use_gpu = job.use_gpu;
    cparams.gpu_device = job.gpu_device;
    std::unique_ptr<whisper_vad_context, void (*)(whisper_vad_context *)> vctx(
        whisper_vad_init_from_file_with_params(job.model_path.c_str(), cparams), whisper_vad_free);
    if (!vctx) {
      std::string why = capture.LastProblems();
      job.error = "whisper.cpp could not load the VAD model " + job.model_path + (why.empty() ? "" : ": " + why);
      job.error_code = "ERR_VAD_MODEL";
      return;
    }
    const int n = static_cast<int>(job.samples.size());
    job.window = kWindow;
    if (n == 0) return;
    whisper_vad_reset_state(vctx.get());
    const int piece = kWindowsPerPiece * job.window;
    job.probs.reserve(static_cast<size_t>(n / job.window + 1));
    for (int start = 0; start < n; start += piece) {
      if (job.aborted->load()) {
        job.error = "The voice activity detection was aborted";
        job.error_code = "ABORT_ERR";
        return;
      }
      const int len = std::min(piece, n - start);
      if (!whisper_vad_detect_speech_no_reset(vctx.get(), job.samples.data() + start, len)) {
        job.error = "whisper.cpp failed to run the VAD model: " + capture.LastProblems();
        job.error_code = "ERR_VAD";
        return;
      }
      const int got = whisper_vad_n_probs(vctx.get());
      const float *p = whisper_vad_probs(vctx.get());
      job.probs.insert(job.probs.end(), p, p + got);
    }
  }

  Napi::Promise::Deferred deferred_;
  std::shared_ptr<VadJob> job_;
};

}  // namespace

Napi::Value DetectSpeech(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsString() || !info[2].IsObject()) {
    throw Napi::TypeError::New(env, "detectSpeech(modelPath, samples, params): modelPath must be a string and params an object");
  }
  if (!info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw Napi::TypeError::New(env, "detectSpeech(modelPath, samples, params): samples must be a Float32Array");
  }
  auto job = std::make_shared<VadJob>();
  job->model_path = info[0].As<Napi::String>().Utf8Value();
  auto samples = info[1].As<Napi::Float32Array>();
  job->samples.assign(samples.Data(), samples.Data() + samples.ElementLength());
  Napi::Object params = info[2].As<Napi::Object>();
  job->threads = params.Get("threads").ToNumber().Int32Value();
  job->use_gpu = params.Get("gpu").ToBoolean().Value();
  job->gpu_device = params.Get("gpuDevice").ToNumber().Int32Value();

  auto *worker = new VadWorker(env, job);
  Napi::Promise promise = worker->Promise();
  worker->Queue();

  return JobHandle(env, promise, job->aborted);
}

}  // namespace tingwu
