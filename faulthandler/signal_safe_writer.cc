#include "faulthandler/signal_safe_writer.h"

#include <unistd.h>

#include <cerrno>

namespace interpsan {

void WriteAll(int fd, const char* data, size_t len) {
  if (fd < 0) return;
  while (len > 0) {
    ssize_t n = write(fd, data, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    data += n;
    len -= static_cast<size_t>(n);
  }
}

SignalSafeWriter& SignalSafeWriter::Char(char c) {
  if (pos_ + 1 < size_) {
    buf_[pos_++] = c;
  } else {
    truncated_ = true;
  }
  return *this;
}

SignalSafeWriter& SignalSafeWriter::Str(const char* s) {
  if (s == nullptr) s = "(null)";
  for (; *s; s++) Char(*s);
  return *this;
}

SignalSafeWriter& SignalSafeWriter::Dec(int64_t v) {
  char tmp[24];
  int n = 0;
  uint64_t u =
      v < 0 ? static_cast<uint64_t>(-(v + 1)) + 1 : static_cast<uint64_t>(v);
  do {
    tmp[n++] = static_cast<char>('0' + u % 10);
    u /= 10;
  } while (u != 0);
  if (v < 0) Char('-');
  while (n > 0) Char(tmp[--n]);
  return *this;
}

SignalSafeWriter& SignalSafeWriter::Hex(uint64_t v) {
  static const char kDigits[] = "0123456789abcdef";
  char tmp[16];
  int n = 0;
  do {
    tmp[n++] = kDigits[v & 0xf];
    v >>= 4;
  } while (v != 0);
  Str("0x");
  while (n > 0) Char(tmp[--n]);
  return *this;
}

SignalSafeWriter& SignalSafeWriter::JsonStr(const char* s) {
  static const char kDigits[] = "0123456789abcdef";
  Char('"');
  for (const unsigned char* p =
           reinterpret_cast<const unsigned char*>(s ? s : "");
       *p; p++) {
    unsigned char c = *p;
    if (c == '"' || c == '\\') {
      Char('\\').Char(static_cast<char>(c));
    } else if (c == '\n') {
      Str("\\n");
    } else if (c < 0x20) {
      Str("\\u00").Char(kDigits[c >> 4]).Char(kDigits[c & 0xf]);
    } else {
      Char(static_cast<char>(c));
    }
  }
  return Char('"');
}

void SignalSafeWriter::Flush() {
  static const char kNote[] = "[truncated]\n";
  for (int i = -1; i < mirror_count_; i++) {
    int fd = i < 0 ? fd_ : mirrors_[i].load(std::memory_order_relaxed);
    if (fd < 0 || (i >= 0 && fd == fd_)) continue;
    WriteAll(fd, buf_, pos_);
    if (truncated_) WriteAll(fd, kNote, sizeof(kNote) - 1);
  }
  Reset();
}

}  // namespace interpsan
