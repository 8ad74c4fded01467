// symbol_interposition.h: how interpsan stands in for a libpython function.
//
// The executable (linked with -rdynamic) or the LD_PRELOAD library defines
// the function under libpython's name; the dynamic linker then binds every
// caller that goes through the PLT (libpython itself included: the pyenv
// builds are not -fno-semantic-interposition) to interpsan's definition,
// which calls the real one found with RTLD_NEXT.
//
// Thread safety: ResolveNext may race with itself (same answer, stored
// atomically); both functions are lock-free.
#ifndef INTERPSAN_RUNTIME_SYMBOL_INTERPOSITION_H_
#define INTERPSAN_RUNTIME_SYMBOL_INTERPOSITION_H_

#include <dlfcn.h>

#include <atomic>

namespace interpsan {

// Stores the next definition of `name` after ours (libpython's) in *real,
// once. Returns false if there is none.
template <typename Fn>
bool ResolveNext(std::atomic<Fn>* real, const char* name) {
  if (real->load(std::memory_order_acquire) != nullptr) return true;
  real->store(reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name)),
              std::memory_order_release);
  return real->load(std::memory_order_acquire) != nullptr;
}

// True if the process binds `name` to `ours`: interposition works for
// every caller that goes through the dynamic symbol table.
inline bool ProcessBindsTo(const char* name, const void* ours) {
  return dlsym(RTLD_DEFAULT, name) == ours;
}

}  // namespace interpsan

#endif  // INTERPSAN_RUNTIME_SYMBOL_INTERPOSITION_H_
