// invariant.h: INTERPSAN_CHECK(cond), for invariants: conditions that hold
// unless interpsan itself is wrong (a table overran, a function it stands
// in for is missing, a report reached with no culprit). A failed one must
// end the process at once and say where: carrying on would turn a bug of
// interpsan's into a wrong report, or a crash somewhere else later.
//
// Not for the checked program's errors (those are violations: debug/
// report.h), nor for anything the environment can make false (a failed
// mmap, a libpython that binds a hooked symbol internally): those are
// degraded modes, reported as coverage, never aborts.
//
// On failure it writes one line to stderr (fd 2) with write(2), e.g.
//   interpsan: invariant failed: debug/object_violation.cc:16: owner != ...
// (the condition's text in full) and calls abort(), so the fatal-signal
// handler, when installed, dumps the stacks. Always on, in every build:
// the condition is one predictable branch, so keep it off the hottest
// paths all the same.
//
// Thread-safe and async-signal-safe: no allocation, no lock, no stdio; the
// line is assembled in a buffer on the stack. Usable inside signal
// handlers and allocator hooks.
//
// Note: debug/checks.inc's table rows are also spelt INTERPSAN_CHECK(...),
// an X-macro that debug/check_table.h defines only while it reads the
// table, setting this one aside (push_macro/pop_macro) meanwhile.
#ifndef INTERPSAN_RUNTIME_INVARIANT_H_
#define INTERPSAN_RUNTIME_INVARIANT_H_

#include <unistd.h>

#include <cerrno>
#include <cstdlib>

namespace interpsan {
namespace invariant_internal {

// Appends `text` to buf[*n] (truncating at `cap`).
inline void Append(char* buf, size_t* n, size_t cap, const char* text) {
  while (*text != '\0' && *n < cap) buf[(*n)++] = *text++;
}

// Writes "interpsan: invariant failed: file:line: condition\n" to fd 2
// and aborts.
[[noreturn]] __attribute__((noinline, cold)) inline void Fail(
    const char* file, int line, const char* condition) {
  char buf[512];
  const size_t cap = sizeof(buf) - 1;  // room for the newline
  size_t n = 0;
  Append(buf, &n, cap, "interpsan: invariant failed: ");
  Append(buf, &n, cap, file);
  Append(buf, &n, cap, ":");
  char digits[12];
  int d = 0;
  unsigned value = line < 0 ? 0 : static_cast<unsigned>(line);
  do {
    digits[d++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0 && d < static_cast<int>(sizeof(digits)));
  while (d > 0 && n < cap) buf[n++] = digits[--d];
  Append(buf, &n, cap, ": ");
  Append(buf, &n, cap, condition);
  buf[n++] = '\n';
  for (size_t done = 0; done < n;) {
    ssize_t w = write(2, buf + done, n - done);
    if (w > 0) {
      done += static_cast<size_t>(w);
    } else if (w == 0 || errno != EINTR) {
      break;  // stderr is gone: abort all the same
    }
  }
  abort();
}

}  // namespace invariant_internal
}  // namespace interpsan

// Evaluates `cond` once; if it is false, reports file, line and the
// condition's text on stderr and aborts (see the file comment).
#define INTERPSAN_CHECK(cond)                                           \
  do {                                                                  \
    if (__builtin_expect(!(cond), 0)) {                                 \
      ::interpsan::invariant_internal::Fail(__FILE__, __LINE__, #cond); \
    }                                                                   \
  } while (0)

#endif  // INTERPSAN_RUNTIME_INVARIANT_H_
