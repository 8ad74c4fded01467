// signal_safe_writer.h: text and JSON formatting into a fixed buffer, then
// write(2). Nothing here allocates, locks or touches stdio, so it is safe
// in a signal handler (async-signal-safe).
//
// Thread safety: a writer is used by one thread at a time; give each
// concurrent user its own buffer.
#ifndef INTERPSAN_FAULTHANDLER_SIGNAL_SAFE_WRITER_H_
#define INTERPSAN_FAULTHANDLER_SIGNAL_SAFE_WRITER_H_

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace interpsan {

class SignalSafeWriter {
 public:
  // Formats into buf[0..size); Flush() writes to fd (-1: discard).
  SignalSafeWriter(char* buf, size_t size, int fd)
      : buf_(buf), size_(size), fd_(fd) {}

  SignalSafeWriter& Str(const char* s);
  SignalSafeWriter& Dec(int64_t v);
  SignalSafeWriter& Hex(uint64_t v);  // "0x..." lower case
  SignalSafeWriter& Char(char c);
  // A JSON string literal, quotes included.
  SignalSafeWriter& JsonStr(const char* s);

  // Writes the buffer to the descriptor and empties it. Text that did not
  // fit was dropped, and the output says "[truncated]".
  void Flush();
  // Empties the buffer without writing.
  void Reset() {
    pos_ = 0;
    truncated_ = false;
  }
  size_t size() const { return pos_; }
  const char* data() const { return buf_; }
  int fd() const { return fd_; }
  void set_fd(int fd) { fd_ = fd; }
  // Flush() also writes to these descriptors (entries < 0 are skipped).
  void set_mirrors(const std::atomic<int>* fds, int count) {
    mirrors_ = fds;
    mirror_count_ = count;
  }

 private:
  char* buf_;
  size_t size_;
  int fd_;
  size_t pos_ = 0;
  bool truncated_ = false;
  const std::atomic<int>* mirrors_ = nullptr;
  int mirror_count_ = 0;
};

// write(2) of all of `len` bytes, retrying on EINTR and short writes.
void WriteAll(int fd, const char* data, size_t len);

}  // namespace interpsan

#endif  // INTERPSAN_FAULTHANDLER_SIGNAL_SAFE_WRITER_H_
