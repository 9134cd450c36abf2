// Captures whisper.cpp / ggml log output so the addon never prints, and so load and
// transcription errors can carry whisper.cpp's own explanation back to JavaScript.
#pragma once

#include <string>

namespace tingwu {

// Routes whisper.cpp and ggml logging through the addon. Idempotent.
void InstallLogHandler();

// While alive, error and warning lines logged on the constructing thread are kept here.
class LogCapture {
 public:
  LogCapture();
  ~LogCapture();
  LogCapture(const LogCapture &) = delete;
  LogCapture &operator=(const LogCapture &) = delete;

  void Append(int level, const char *text);
  // The last error/warning lines (at most max_lines), for error messages.
  std::string LastProblems(size_t max_lines = 4) const;

 private:
  LogCapture *previous_;
  std::string problems_;
};

}  // namespace tingwu
