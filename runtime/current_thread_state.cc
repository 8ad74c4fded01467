#include "runtime/current_thread_state.h"

#include <dlfcn.h>
#include <link.h>

namespace interpsan {

std::atomic<intptr_t> CurrentThreadState::offset_{0};

namespace {

struct TlsSearch {
  uintptr_t module_base;  // load address of libpython
  void* tls_block;        // this thread's TLS block of libpython
  size_t tls_size;
};

int FindPythonTls(struct dl_phdr_info* info, size_t, void* data) {
  auto* search = static_cast<TlsSearch*>(data);
  if (info->dlpi_addr != search->module_base) return 0;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    if (info->dlpi_phdr[i].p_type == PT_TLS) {
      search->tls_block = info->dlpi_tls_data;
      search->tls_size = info->dlpi_phdr[i].p_memsz;
    }
  }
  return 1;
}

}  // namespace

bool CurrentThreadState::Discover(PyThreadState* tstate) {
  if (tstate == nullptr || offset_.load() != 0) return offset_.load() != 0;
#if !defined(__x86_64__) && !defined(__aarch64__)
  return false;
#else
  // libpython is the module that exports CPython's accessor.
  Dl_info info;
  void* accessor = dlsym(RTLD_DEFAULT, "PyThreadState_GetUnchecked");
  if (accessor == nullptr)
    accessor = dlsym(RTLD_DEFAULT, "_PyThreadState_UncheckedGet");
  if (accessor == nullptr || dladdr(accessor, &info) == 0) return false;
  TlsSearch search{reinterpret_cast<uintptr_t>(info.dli_fbase), nullptr, 0};
  dl_iterate_phdr(&FindPythonTls, &search);
  if (search.tls_block == nullptr || search.tls_size < sizeof(void*))
    return false;
  // Exactly one pointer-sized slot of libpython's (small) TLS block must
  // hold this thread's state.
  auto* slots = static_cast<PyThreadState**>(search.tls_block);
  int found = -1;
  for (size_t i = 0; i < search.tls_size / sizeof(void*); i++) {
    if (slots[i] == tstate) {
      if (found >= 0) return false;  // ambiguous: stay on the portable path
      found = static_cast<int>(i);
    }
  }
  if (found < 0) return false;
  intptr_t offset = reinterpret_cast<intptr_t>(&slots[found]) -
                    static_cast<intptr_t>(ThreadPointer());
  if (offset == 0) return false;
  t_offset_ = offset;  // this thread's read was just checked
  offset_.store(offset);
  return true;
#endif
}

PyThreadState* CurrentThreadState::SlowGet() {
  intptr_t offset = offset_.load(std::memory_order_relaxed);
  if (offset == 0) return interpsan_shim_current_tstate();
  PyThreadState* fast =
      *reinterpret_cast<PyThreadState* const*>(ThreadPointer() + offset);
  // A thread without a thread state reads null through either path.
  if (fast == nullptr) return nullptr;
  PyThreadState* slow = interpsan_shim_current_tstate();
  if (slow != fast) {
    // libpython's TLS is not at the same offset in this thread (dynamic
    // TLS): never trust the fast path again.
    offset_.store(0);
    return slow;
  }
  t_offset_ = offset;
  return fast;
}

}  // namespace interpsan
