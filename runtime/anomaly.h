// anomaly.h: what the runtime hands to the checking layer.
//
// The hooks in runtime/ notice that something is off with a block or an
// object (cheap compares on the fast path) and pass a BlockAnomaly to the
// handler that debug/ installs. The handler reports it and decides what
// happens to the block. Keeping the handler behind a pointer keeps runtime/
// free of any dependency on the reporting machinery.
//
// Thread safety: SetAnomalyHandler is called once at start-up, before any
// interpreter exists. Handle() may run on any thread, with the GIL of the
// current interpreter held (or, for raw-domain calls, no GIL at all).
#ifndef INTERPSAN_RUNTIME_ANOMALY_H_
#define INTERPSAN_RUNTIME_ANOMALY_H_

#include <cstddef>
#include <cstdint>

#include "runtime/owner_record.h"

typedef struct _object PyObject;

namespace interpsan {

enum class AnomalyKind : uint8_t {
  kCrossInterpreterFree,  // block freed by an interpreter that does not own it
  kCrossInterpreterRealloc,  // block resized by an interpreter that does not
                             // own it
  kCrossInterpreterDealloc,  // object deallocated by a non-owner interpreter
  kWrongDomainFree,          // block freed through another domain's API
  kWrongDomainRealloc,       // block resized through another domain's API
  kInvalidFree,              // pointer that no interpsan allocator handed out
  kDoubleFree,               // block already freed
};

// Which checks are on; --checks selects them. Bit per family.
enum CheckBits : uint32_t {
  kCheckFree = 1u << 0,     // cross-interpreter free/realloc of blocks
  kCheckDomain = 1u << 1,   // wrong domain, invalid and double free
  kCheckDealloc = 1u << 2,  // cross-interpreter deallocation of objects
  kCheckAllBlock = kCheckFree | kCheckDomain | kCheckDealloc,
  kCheckCapi = 1u << 3,      // C-API calls from extensions on foreign objects
  kCheckRefcount = 1u << 4,  // refcount operations (extensions rebuilt with
                             // `interpsan cflags`)
  kCheckAudit = 1u << 5,     // object graph and static memory at checkpoints
  kCheckAll = kCheckAllBlock | kCheckCapi | kCheckRefcount | kCheckAudit,
};

struct BlockAnomaly {
  AnomalyKind kind;
  Domain call_domain;   // the API used now
  Domain block_domain;  // the API that allocated the block
  const void* block;    // user pointer
  size_t size;          // block size if known, else 0
  OwnerSlot owner;
  OwnerSlot current;
  PyObject* object;  // for object anomalies, else nullptr
};

// What to do with the block after the report.
enum class Resolution : uint8_t {
  kProceed,  // do what was asked (safe for this anomaly)
  kLeak,     // keep the block alive and untouched: handing it to the wrong
             // allocator would corrupt that allocator
};

using AnomalyHandler = Resolution (*)(const BlockAnomaly&);

void SetAnomalyHandler(AnomalyHandler handler);
// Reports through the installed handler. Returns kLeak if none is installed
// (never corrupt an allocator for want of a reporter).
Resolution HandleAnomaly(const BlockAnomaly& anomaly);

// The enabled checks (CheckBits). Read on hot paths: a plain load.
extern uint32_t g_enabled_checks;

// Per-thread re-entrancy guard: while set, hooks run without checks (the
// reporter itself may call into CPython).
struct ReentryGuard {
  // Inline with a constant initializer: no TLS wrapper call on the hot
  // paths that test it.
  static inline thread_local bool active = false;
  bool was_active;
  ReentryGuard() : was_active(active) { active = true; }
  ~ReentryGuard() { active = was_active; }
};

}  // namespace interpsan

#endif  // INTERPSAN_RUNTIME_ANOMALY_H_
