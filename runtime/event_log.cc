#include "runtime/event_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <mutex>

namespace interpsan {
namespace {
int g_fd = -1;
std::mutex g_mu;
}  // namespace

bool EventLog::Open(const char* path) {
  if (path == nullptr) path = getenv("INTERPSAN_EVENTS");
  if (path == nullptr || *path == '\0') return false;
  g_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  return g_fd >= 0;
}

void EventLog::Write(const std::string& json) {
  if (g_fd < 0) return;
  std::string line = json + "\n";
  std::lock_guard<std::mutex> lock(g_mu);
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    ssize_t n = write(g_fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
}

int EventLog::fd() { return g_fd; }

}  // namespace interpsan
