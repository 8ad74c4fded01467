#include "tools/runner/options.h"

#include <cstdlib>
#include <cstring>
#include <utility>

#include "debug/checks.h"
#include "tracemalloc/traceback_table.h"

namespace interpsan {
namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool PercentDecode(const std::string& in, std::string* out) {
  out->clear();
  for (size_t i = 0; i < in.size(); i++) {
    if (in[i] != '%') {
      out->push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return false;
    int hi = HexDigit(in[i + 1]), lo = HexDigit(in[i + 2]);
    if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) return false;
    out->push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
}

bool ParseInt(const std::string& text, long min, long max, int* out) {
  if (text.empty()) return false;
  char* end = nullptr;
  long n = strtol(text.c_str(), &end, 10);
  if (*end != '\0' || n < min || n > max) return false;
  *out = static_cast<int>(n);
  return true;
}

}  // namespace

bool ParseProcessOptions(const std::string& text, ProcessOptions* out,
                         std::string* error) {
  ProcessOptions opt;
  size_t pos = 0;
  while (pos < text.size()) {
    if (text[pos] == ' ') {
      pos++;
      continue;
    }
    size_t end = text.find(' ', pos);
    if (end == std::string::npos) end = text.size();
    std::string word = text.substr(pos, end - pos);
    pos = end;
    size_t eq = word.find('=');
    std::string key = word.substr(0, eq), value;
    if (eq == std::string::npos ||
        !PercentDecode(word.substr(eq + 1), &value)) {
      *error = std::string(kOptionsVariable) + ": malformed word '" + word +
               "' (expected key=value, value percent-encoded)";
      return false;
    }
    bool ok = true;
    if (key == "events") {
      opt.events_path = value;
    } else if (key == "interpreters") {
      ok = ParseInt(value, 1, 1024, &opt.interpreters);
      if (!ok) *error = "-n needs a number of interpreters from 1 to 1024";
    } else if (key == "checks") {
      opt.checks_list = value;
    } else if (key == "keep_going") {
      ok = value == "0" || value == "1";
      opt.keep_going = value == "1";
      if (!ok) *error = "keep_going must be 0 or 1";
    } else if (key == "trace_malloc") {
      ok = ParseInt(value, 0, kMaxTraceFrames, &opt.trace_frames);
      if (!ok) {
        *error = "--trace-malloc needs a number of frames from 0 to " +
                 std::to_string(kMaxTraceFrames);
      }
    } else if (key == "suppressions") {
      opt.suppressions_path = value;
    } else if (key == "audit") {
      ok = value == "changed" || value == "each-test" || value == "end";
      opt.audit = value;
      if (!ok) *error = "--audit must be changed, each-test or end";
    } else {
      ok = false;
      *error = std::string(kOptionsVariable) + ": unknown option '" + key + "'";
    }
    if (!ok) return false;
  }
  if (!ParseChecks(opt.checks_list, &opt.checks, error)) return false;
  if (!opt.suppressions_path.empty() &&
      !LoadSuppressions(opt.suppressions_path, &opt.suppressions, error)) {
    return false;
  }
  *out = std::move(opt);
  return true;
}

bool ReadOptionsFromEnvironment(ProcessOptions* out, bool* present,
                                std::string* error) {
  const char* value = getenv(kOptionsVariable);
  *present = value != nullptr && *value != '\0';
  if (!*present) return false;
  std::string text = value;  // unsetenv may free `value`
  unsetenv(kOptionsVariable);
  return ParseProcessOptions(text, out, error);
}

}  // namespace interpsan
