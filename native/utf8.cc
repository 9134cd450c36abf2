#include "utf8.h"

namespace tingwu {

size_t Utf8CompleteLength(const std::string &s) {
  const size_t n = s.size();
  // A sequence is at most 4 bytes, so only the last 3 bytes can start an unfinished one.
  for (size_t back = 1; back <= 4 && back <= n; ++back) {
    const auto c = static_cast<unsigned char>(s[n - back]);
    if ((c & 0xC0) == 0x80) continue;  // continuation byte: keep looking for the lead byte
    size_t need;
    if (c < 0x80) {
      need = 1;
    } else if ((c & 0xE0) == 0xC0) {
      need = 2;
    } else if ((c & 0xF0) == 0xE0) {
      need = 3;
    } else if ((c & 0xF8) == 0xF0) {
      need = 4;
    } else {
      return n;  // invalid lead byte: nothing to wait for
    }
    return back < need ? n - back : n;
  }
  return n;
}

std::string Utf8Joiner::Push(const std::string &bytes) {
  carry_ += bytes;
  const size_t complete = Utf8CompleteLength(carry_);
  std::string out = carry_.substr(0, complete);
  carry_.erase(0, complete);
  return out;
}

std::string Utf8Joiner::Finish() {
  std::string out;
  out.swap(carry_);
  return out;
}

}  // namespace tingwu
