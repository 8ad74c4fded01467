#include "faulthandler/module_map.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace interpsan {
namespace {

const char* ParseHex(const char* p, const char* end, uintptr_t* out) {
  uintptr_t v = 0;
  for (; p < end; p++) {
    char c = *p;
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else {
      break;
    }
    v = (v << 4) | static_cast<uintptr_t>(d);
  }
  *out = v;
  return p;
}

struct MapsLine {
  uintptr_t start, end, file_offset;
  const char* path;  // not NUL-terminated
  size_t path_len;
};

// Parses one line; returns the start of the next.
const char* ParseLine(const char* p, const char* end, MapsLine* line) {
  const char* eol = p;
  while (eol < end && *eol != '\n') eol++;
  line->path = nullptr;
  line->path_len = 0;
  p = ParseHex(p, eol, &line->start);
  if (p < eol && *p == '-') p++;
  p = ParseHex(p, eol, &line->end);
  // perms
  while (p < eol && *p == ' ') p++;
  while (p < eol && *p != ' ') p++;
  while (p < eol && *p == ' ') p++;
  p = ParseHex(p, eol, &line->file_offset);
  // dev, inode
  for (int field = 0; field < 2; field++) {
    while (p < eol && *p == ' ') p++;
    while (p < eol && *p != ' ') p++;
  }
  while (p < eol && *p == ' ') p++;
  if (p < eol && *p == '/') {
    line->path = p;
    line->path_len = static_cast<size_t>(eol - p);
  }
  return eol < end ? eol + 1 : end;
}

bool SamePath(const MapsLine& a, const MapsLine& b) {
  if (a.path_len != b.path_len || a.path == nullptr || b.path == nullptr) {
    return false;
  }
  for (size_t i = 0; i < a.path_len; i++) {
    if (a.path[i] != b.path[i]) return false;
  }
  return true;
}

}  // namespace

bool ModuleMap::Load(char* buf, size_t size) {
  int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  size_t len = 0;
  while (len < size) {
    ssize_t n = read(fd, buf + len, size - len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    len += static_cast<size_t>(n);
  }
  close(fd);
  buf_ = buf;
  len_ = len;
  return len > 0;
}

bool ModuleMap::Resolve(uintptr_t pc, char* path, size_t path_size,
                        uintptr_t* offset) const {
  const char* end = buf_ + len_;
  MapsLine hit{};
  bool found = false;
  for (const char* p = buf_; p && p < end;) {
    MapsLine line;
    p = ParseLine(p, end, &line);
    if (pc >= line.start && pc < line.end && line.path != nullptr) {
      hit = line;
      found = true;
      break;
    }
  }
  if (!found) return false;
  // The load base is the start of the file's mapping at file offset 0.
  uintptr_t base = hit.start - hit.file_offset;
  for (const char* p = buf_; p < end;) {
    MapsLine line;
    p = ParseLine(p, end, &line);
    if (line.file_offset == 0 && SamePath(line, hit)) {
      base = line.start;
      break;
    }
  }
  size_t n = hit.path_len < path_size - 1 ? hit.path_len : path_size - 1;
  for (size_t i = 0; i < n; i++) path[i] = hit.path[i];
  path[n] = '\0';
  *offset = pc - base;
  return true;
}

}  // namespace interpsan
