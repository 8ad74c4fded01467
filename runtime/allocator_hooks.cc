#include "runtime/allocator_hooks.h"

#include <Python.h>

#include <cstring>

#include "runtime/allocation_tracer.h"
#include "runtime/anomaly.h"
#include "runtime/arena_map.h"
#include "runtime/interpreter_registry.h"
#include "runtime/owner_record.h"
#include "runtime/python_shim.h"
#include "runtime/small_block_traces.h"
#include "runtime/static_memory_map.h"

#define INTERPSAN_LIKELY(x) __builtin_expect(!!(x), 1)
#define INTERPSAN_UNLIKELY(x) __builtin_expect(!!(x), 0)

namespace interpsan {
namespace {

struct Originals {
  PyMemAllocatorEx raw;
  PyMemAllocatorEx obj;  // pymalloc: small obj blocks only
};
Originals g_orig;
bool g_installed = false;
size_t g_small_limit = 512;  // pymalloc's SMALL_REQUEST_THRESHOLD

inline bool ChecksOn(uint32_t bits) {
  return (g_enabled_checks & bits) != 0 && !ReentryGuard::active;
}

inline bool IsSmall(size_t n) { return n - 1 < g_small_limit; }

// The size class of a small block (`p` in a pymalloc arena): inline on the
// traced paths, where an out-of-line call per block showed in the profile
// (python_shim.h checks the layout per version).
inline size_t SmallSize(const void* p) {
  return interpsan_small_block_size_inline(p);
}

// ---- tracemalloc's share of the hooks --------------------------------------

inline uint32_t TraceNew(Domain domain, OwnerSlot slot, size_t size) {
  if (__builtin_expect(!g_tracing.load(std::memory_order_relaxed), 1)) return 0;
  if (ReentryGuard::active) return 0;
  return g_tracer.on_alloc(domain, slot, size);
}

inline void TraceGone(uint32_t trace_id, size_t size) {
  if (trace_id != 0) g_tracer.on_free(trace_id, size);
}

// AllocatorHooks::last_traced (allocator_hooks.h): cleared when that block
// is freed, so a later reuse of the same address is retraced.
inline void ForgetLastTraced(const void* p) {
  if (AllocatorHooks::last_traced == p) AllocatorHooks::last_traced = nullptr;
}

// A small block just came from pymalloc: trace it by its size class, the
// size its free will report.
// TraceSmall once g_tracing was seen on (just before the block was
// allocated: if it went off since, on_alloc still decides per interpreter).
inline void TraceSmallWhileTracing(void* p, Domain domain) {
  if (p == nullptr || ReentryGuard::active) return;
  OwnerSlot slot = InterpreterRegistry::CurrentSlot();
  uint32_t id = g_tracer.on_alloc(domain, slot, SmallSize(p));
  if (id != 0) {
    SmallBlockTraces::Set(p, id);
    AllocatorHooks::last_traced = p;
  }
}

// Out of line for the mem domain, calloc and realloc: inline, its registers
// and spill slot would cost every untraced call a bigger stack frame.
__attribute__((noinline)) void TraceSmallOutOfLine(void* p, Domain domain) {
  TraceSmallWhileTracing(p, domain);
}

inline void TraceSmall(void* p, Domain domain) {
  if (__builtin_expect(!g_tracing.load(std::memory_order_relaxed), 1)) return;
  TraceSmallOutOfLine(p, domain);
}

// UntraceSmall once g_traced_ever is known to be set.
inline void UntraceSmallEver(void* p) {
  ForgetLastTraced(p);
  uint32_t id = SmallBlockTraces::Take(p);
  if (id != 0) g_tracer.on_free(id, SmallSize(p));
}

inline void UntraceSmall(void* p) {
  if (__builtin_expect(!g_traced_ever.load(std::memory_order_relaxed), 1))
    return;
  UntraceSmallEver(p);
}

// ---- header blocks -------------------------------------------------------

// Freed header blocks wait here before going back to malloc. free() reuses
// the first 16 bytes of a chunk (and unmaps large ones), which is exactly
// where the header lives; while a block waits, its header still says
// "freed", so a second free of it is reported as a double free instead of
// being read from recycled memory. Per thread: no lock.
constexpr int kQuarantineSlots = 64;
struct Quarantine {
  BlockHeader* ring[kQuarantineSlots] = {};
  unsigned next = 0;
  ~Quarantine() {
    for (BlockHeader*& h : ring) {
      if (h != nullptr) g_orig.raw.free(g_orig.raw.ctx, h);
      h = nullptr;
    }
  }
};
thread_local Quarantine t_quarantine;

void ReleaseHeader(BlockHeader* header) {
  if (header->trace_id != 0) ForgetLastTraced(header->user());
  TraceGone(header->trace_id, header->size);
  header->trace_id = 0;
  header->magic = kFreedMagic;
  Quarantine& q = t_quarantine;
  BlockHeader* oldest = q.ring[q.next];
  q.ring[q.next] = header;
  q.next = (q.next + 1) % kQuarantineSlots;
  if (oldest != nullptr) g_orig.raw.free(g_orig.raw.ctx, oldest);
}

void* HeaderAlloc(Domain domain, size_t n, bool zero) {
  if (n > kMaxHeaderBlockSize - sizeof(BlockHeader)) return nullptr;
  void* raw =
      zero ? g_orig.raw.calloc(g_orig.raw.ctx, 1, n + sizeof(BlockHeader))
           : g_orig.raw.malloc(g_orig.raw.ctx, n + sizeof(BlockHeader));
  if (INTERPSAN_UNLIKELY(raw == nullptr)) return nullptr;
  auto* header = static_cast<BlockHeader*>(raw);
  header->magic = kLiveMagic;
  header->trace_id = 0;
  header->size = n;
  OwnerSlot owner = InterpreterRegistry::CurrentSlot();
  header->owner = owner;
  header->domain = static_cast<uint8_t>(domain);
  header->trace_id = TraceNew(domain, owner, n);
  if (header->trace_id != 0) AllocatorHooks::last_traced = header->user();
  return header->user();
}

// A header that is not live: report it (if asked) and say so. The caller
// then leaves the pointer alone: it is not ours to give to free().
bool HeaderIsBad(Domain call, const void* p, bool realloc) {
  const BlockHeader* header = BlockHeader::FromUser(p);
  if (INTERPSAN_LIKELY(header->magic == kLiveMagic)) return false;
  if (ChecksOn(kCheckDomain)) {
    BlockAnomaly a{};
    a.kind = header->magic == kFreedMagic ? AnomalyKind::kDoubleFree
                                          : AnomalyKind::kInvalidFree;
    a.call_domain = call;
    a.block_domain = call;
    a.block = p;
    a.current = InterpreterRegistry::CurrentSlot();
    (void)realloc;
    HandleAnomaly(a);
  }
  return true;
}

// One report of a bad free or realloc: by another interpreter than the
// block's owner (`cross`), or through the wrong domain.
Resolution ReportBadFree(bool cross, bool realloc, Domain call,
                         Domain block_domain, const void* block, size_t size,
                         OwnerSlot owner, OwnerSlot current) {
  BlockAnomaly a{};
  if (cross) {
    a.kind = realloc ? AnomalyKind::kCrossInterpreterRealloc
                     : AnomalyKind::kCrossInterpreterFree;
  } else {
    a.kind = realloc ? AnomalyKind::kWrongDomainRealloc
                     : AnomalyKind::kWrongDomainFree;
  }
  a.call_domain = call;
  a.block_domain = block_domain;
  a.block = block;
  a.size = size;
  a.owner = owner;
  a.current = current;
  return HandleAnomaly(a);
}

// The reports behind CheckHeader, out of line (see ReportSmallDomain).
__attribute__((noinline, cold)) bool ReportHeader(Domain call,
                                                  BlockHeader* header,
                                                  bool realloc,
                                                  OwnerSlot current, bool cross,
                                                  bool wrong_domain) {
  Domain block_domain = header->block_domain();
  OwnerSlot owner = static_cast<OwnerSlot>(header->owner);
  if (cross &&
      ReportBadFree(true, realloc, call, block_domain, header->user(),
                    header->size, owner, current) == Resolution::kLeak) {
    return false;
  }
  // The block is ours and malloc-backed whatever its domain: freeing it
  // correctly is always safe, so the handler's answer only matters for the
  // report.
  if (wrong_domain) {
    ReportBadFree(false, realloc, call, block_domain, header->user(),
                  header->size, owner, InterpreterRegistry::CurrentSlot());
  }
  return true;
}

// Checks owner and domain of a live header block. Returns false if the
// block must be left alone (kLeak).
inline bool CheckHeader(Domain call, BlockHeader* header, bool realloc) {
  if (ReentryGuard::active) return true;
  uint32_t checks = g_enabled_checks;
  Domain block_domain = header->block_domain();
  OwnerSlot current = kNoOwner;
  bool cross = false;
  // Raw blocks are process-wide by design: any thread may free them.
  if (block_domain != Domain::kRaw && (checks & kCheckFree)) {
    current = InterpreterRegistry::CurrentSlot();
    OwnerSlot owner = static_cast<OwnerSlot>(header->owner);
    cross = current != kNoOwner && owner != kNoOwner && current != owner;
  }
  bool wrong_domain = block_domain != call && (checks & kCheckDomain) != 0;
  if (INTERPSAN_LIKELY(!cross && !wrong_domain)) return true;
  return ReportHeader(call, header, realloc, current, cross, wrong_domain);
}

void HeaderFree(Domain call, void* p) {
  if (HeaderIsBad(call, p, false)) return;
  BlockHeader* header = BlockHeader::FromUser(p);
  if (g_enabled_checks != 0 && !CheckHeader(call, header, false)) return;
  ReleaseHeader(header);
}

void* HeaderRealloc(Domain call, void* p, size_t n) {
  if (HeaderIsBad(call, p, true)) return nullptr;
  BlockHeader* header = BlockHeader::FromUser(p);
  if (g_enabled_checks != 0 && !CheckHeader(call, header, true)) {
    // Leave the old block to its owner; give the caller a fresh copy.
    size_t old = header->size;
    void* q = HeaderAlloc(header->block_domain(), n, false);
    if (q != nullptr) memcpy(q, p, old < n ? old : n);
    return q;
  }
  if (n > kMaxHeaderBlockSize - sizeof(BlockHeader)) return nullptr;
  uint32_t old_trace = header->trace_id;
  size_t old_size = header->size;
  auto* moved = static_cast<BlockHeader*>(
      g_orig.raw.realloc(g_orig.raw.ctx, header, n + sizeof(BlockHeader)));
  if (moved == nullptr) return nullptr;
  moved->size = n;  // owner and domain stay: the block is still the owner's
  // Like stock tracemalloc: a resized block is traced anew, here.
  TraceGone(old_trace, old_size);
  moved->trace_id =
      TraceNew(moved->block_domain(), static_cast<OwnerSlot>(moved->owner), n);
  return moved->user();
}

// ---- pymalloc small blocks ----------------------------------------------

// The checks that need the owner and domain of small blocks. With either
// on, every free of a small block reads the current interpreter, and the
// arena's domain bits (arena_map.h) are kept: set on a mem allocation,
// cleared when the block is released. Fixed at Install.
constexpr uint32_t kSmallBlockChecks = kCheckFree | kCheckDomain;

inline bool DomainBitsKept() {
  return (g_enabled_checks & kSmallBlockChecks) != 0;
}

// A small block of `domain` just came from pymalloc (or nullptr).
inline void* NewSmall(Domain domain, void* p) {
  if (p == nullptr) return p;
  if (domain == Domain::kMem && DomainBitsKept()) ArenaMap::MarkMemBlock(p);
  TraceSmall(p, domain);
  return p;
}

// The domain a small block was allocated through. Without the bits (no
// small-block check on), the caller's domain is all there is to go by.
inline Domain SmallDomain(const void* p, Domain call) {
  if (!DomainBitsKept()) return call;
  return ArenaMap::IsMemBlock(p) ? Domain::kMem : Domain::kObj;
}

// What a free or realloc of a small block may do with it.
enum class SmallVerdict : uint8_t {
  kRelease,  // the caller's own live block (maybe through the wrong domain)
  kForeign,  // another interpreter's: never hand it to this pymalloc
  kDead,     // not a live block (double or invalid free): leave it alone
};

// A mem-domain call on a block whose domain bit is clear, or an obj-domain
// call on one whose bit is set, out of line (see CheckSmall). Under the
// caller's own GIL: the block is in the calling interpreter's arena.
__attribute__((noinline, cold)) SmallVerdict ReportSmallDomain(
    Domain call, void* p, Domain block, OwnerSlot owner, bool realloc) {
  OwnerSlot current = InterpreterRegistry::CurrentSlot();
  if (call == Domain::kMem) {
    // No mem block starts here: a live obj block (wrong domain), a block
    // already freed (double free: the bit is cleared on every release), or
    // no block at all.
    int state = interpsan_shim_small_block_state(p);
    if (state != 0) {
      BlockAnomaly a{};
      a.kind =
          state == 1 ? AnomalyKind::kDoubleFree : AnomalyKind::kInvalidFree;
      a.call_domain = call;
      a.block_domain = call;
      a.block = p;
      a.current = current;
      HandleAnomaly(a);
      return SmallVerdict::kDead;
    }
  }
  ReportBadFree(false, realloc, call, block, p, SmallSize(p), owner, current);
  // Both domains are served by this interpreter's pymalloc: releasing the
  // block correctly is always safe.
  return SmallVerdict::kRelease;
}

// A free or realloc of another interpreter's small block, out of line.
// Reads the foreign block's domain bit (atomic, never written here).
__attribute__((noinline, cold)) void ReportSmallCross(Domain call, void* p,
                                                      OwnerSlot owner,
                                                      bool realloc,
                                                      OwnerSlot current) {
  Domain block = SmallDomain(p, call);
  size_t size = SmallSize(p);
  ReportBadFree(true, realloc, call, block, p, size, owner, current);
  if (block != call && (g_enabled_checks & kCheckDomain)) {
    ReportBadFree(false, realloc, call, block, p, size, owner, current);
  }
}

// Checks a free or realloc of an arena block through the mem or obj domain,
// and gives the block's domain. Cheap on the fast path: the current
// interpreter, one domain bit, two compares.
inline SmallVerdict CheckSmall(Domain call, void* p, OwnerSlot owner,
                               bool realloc, Domain* block) {
  *block = call;
  uint32_t checks = g_enabled_checks;
  if (!(checks & kSmallBlockChecks)) return SmallVerdict::kRelease;
  if (ReentryGuard::active) {
    // interpsan's own calls (the reporter's): its own blocks, unchecked,
    // but their bits stay right.
    *block = SmallDomain(p, call);
    return SmallVerdict::kRelease;
  }
  OwnerSlot current = InterpreterRegistry::CurrentSlot();
  if (INTERPSAN_UNLIKELY(current != owner && current != kNoOwner)) {
    if (checks & kCheckFree) {
      ReportSmallCross(call, p, owner, realloc, current);
      // Whatever the handler says: another interpreter's pymalloc must
      // never see the block. It stays allocated (a leak, not corruption).
      return SmallVerdict::kForeign;
    }
    // Not checked: this pymalloc refuses the block and hands it to the raw
    // domain (RawCallOnSmallBlock), which keeps it. Its domain bit belongs
    // to its owner: not touched.
    return SmallVerdict::kRelease;
  }
  *block = SmallDomain(p, call);
  if (INTERPSAN_LIKELY(*block == call)) return SmallVerdict::kRelease;
  if (checks & kCheckDomain) {
    return ReportSmallDomain(call, p, *block, owner, realloc);
  }
  // Not reported (the domain check is off), but a mem block freed twice
  // must not reach pymalloc twice (header blocks are kept from free() the
  // same way).
  if (call == Domain::kMem && interpsan_shim_small_block_state(p) != 0) {
    return SmallVerdict::kDead;
  }
  return SmallVerdict::kRelease;
}

// A pymalloc block freed or resized through the raw domain. pymalloc itself
// does that with blocks outside the calling interpreter's arenas (a
// cross-interpreter free that the free check did not stop): the owner then
// differs from the caller, and is reported if the free check is on (the
// mem or obj call before it was judged for its domain already). With the
// caller's own block it can only be a wrong-domain call, reported under the
// domain check. Either way the block is never given back to pymalloc from
// here: that would come straight back.
void RawCallOnSmallBlock(void* p, OwnerSlot owner, bool realloc) {
  uint32_t checks = g_enabled_checks;
  if (checks == 0 || ReentryGuard::active) return;
  OwnerSlot current = InterpreterRegistry::CurrentSlot();
  Domain block = SmallDomain(p, Domain::kObj);
  size_t size = SmallSize(p);
  if (current != owner) {
    if ((checks & kCheckFree) && current != kNoOwner) {
      ReportBadFree(true, realloc, block, block, p, size, owner, current);
    }
    return;
  }
  if (checks & kCheckDomain) {
    ReportBadFree(false, realloc, Domain::kRaw, block, p, size, owner, current);
  }
}

// The end of a small free once tracing has ever been on (out of line: the
// fast path then needs no stack frame).
__attribute__((noinline)) void UntraceAndFreeSmall(void* p) {
  UntraceSmallEver(p);
  g_orig.obj.free(g_orig.obj.ctx, p);
}

// Any free of a small block that the fast path below does not clear:
// under the reentry guard, by another interpreter, or a domain mismatch.
__attribute__((noinline)) void SmallFreeSlow(Domain call, void* p,
                                             OwnerSlot owner) {
  Domain block;
  if (CheckSmall(call, p, owner, false, &block) != SmallVerdict::kRelease) {
    return;
  }
  if (block == Domain::kMem && DomainBitsKept()) ArenaMap::ClearMemBlock(p);
  UntraceSmall(p);
  g_orig.obj.free(g_orig.obj.ctx, p);
}

// On every free of a small block (about one per object), so written out
// for the common case: the caller's own block through its own domain.
template <Domain kCall>
__attribute__((always_inline)) inline void SmallFree(void* p, OwnerSlot owner) {
  if (g_enabled_checks & kSmallBlockChecks) {
    if (INTERPSAN_UNLIKELY(ReentryGuard::active)) {
      return SmallFreeSlow(kCall, p, owner);
    }
    if (INTERPSAN_UNLIKELY(!InterpreterRegistry::OwnerIsCurrentFast(owner))) {
      return SmallFreeSlow(kCall, p, owner);
    }
    if (INTERPSAN_UNLIKELY(ArenaMap::IsMemBlock(p) !=
                           (kCall == Domain::kMem))) {
      return SmallFreeSlow(kCall, p, owner);
    }
    if (kCall == Domain::kMem) ArenaMap::ClearMemBlock(p);
  }
  if (INTERPSAN_UNLIKELY(g_traced_ever.load(std::memory_order_relaxed))) {
    return UntraceAndFreeSmall(p);
  }
  g_orig.obj.free(g_orig.obj.ctx, p);
}

void* SmallRealloc(Domain call, void* p, OwnerSlot owner, size_t n) {
  Domain block;
  SmallVerdict verdict = CheckSmall(call, p, owner, true, &block);
  if (verdict == SmallVerdict::kDead) return nullptr;
  bool ours = verdict == SmallVerdict::kRelease;
  bool bits = block == Domain::kMem && DomainBitsKept();
  // The block keeps its domain whatever the call's (as a header block keeps
  // its header's).
  if (ours && IsSmall(n)) {
    UntraceSmall(p);
    if (bits) ArenaMap::ClearMemBlock(p);
    void* q = g_orig.obj.realloc(g_orig.obj.ctx, p, n);
    void* live = q != nullptr ? q : p;  // on failure p is still live
    if (bits) ArenaMap::MarkMemBlock(live);
    TraceSmall(live, block);
    return q;
  }
  // Moving out of pymalloc (n > 512 or 0), or out of another interpreter's
  // arena: copy into a new block, then release the old block only if it is
  // ours to release.
  size_t old = SmallSize(p);
  void* q = IsSmall(n) ? NewSmall(block, g_orig.obj.malloc(g_orig.obj.ctx, n))
                       : HeaderAlloc(block, n, false);
  if (q == nullptr) return nullptr;
  memcpy(q, p, old < n ? old : n);
  if (ours) {
    if (bits) ArenaMap::ClearMemBlock(p);
    UntraceSmall(p);
    g_orig.obj.free(g_orig.obj.ctx, p);
  }
  return q;
}

// ---- the three domains ----------------------------------------------------

// The mem and obj domains share pymalloc for 1..512 bytes (as in stock
// CPython); the raw domain never uses it (no GIL, no interpreter).
constexpr bool UsesPymalloc(Domain domain) { return domain != Domain::kRaw; }

// A small obj block needs nothing after pymalloc unless it is traced: then
// the hook is a tail call (no stack frame).
inline bool SmallObjNeedsNothing() {
  return INTERPSAN_LIKELY(!g_tracing.load(std::memory_order_relaxed));
}

template <Domain kDomain>
void* HookMalloc(void*, size_t n) {
  if (UsesPymalloc(kDomain) && INTERPSAN_LIKELY(IsSmall(n))) {
    if (kDomain == Domain::kObj) {
      if (SmallObjNeedsNothing()) return g_orig.obj.malloc(g_orig.obj.ctx, n);
      void* p = g_orig.obj.malloc(g_orig.obj.ctx, n);
      TraceSmallWhileTracing(p, kDomain);
      return p;
    }
    return NewSmall(kDomain, g_orig.obj.malloc(g_orig.obj.ctx, n));
  }
  return HeaderAlloc(kDomain, n, false);
}

template <Domain kDomain>
void* HookCalloc(void*, size_t nelem, size_t elsize) {
  if (elsize != 0 && nelem > SIZE_MAX / elsize) return nullptr;
  size_t n = nelem * elsize;
  if (UsesPymalloc(kDomain) && INTERPSAN_LIKELY(IsSmall(n))) {
    if (kDomain == Domain::kObj && SmallObjNeedsNothing()) {
      return g_orig.obj.calloc(g_orig.obj.ctx, nelem, elsize);
    }
    return NewSmall(kDomain, g_orig.obj.calloc(g_orig.obj.ctx, nelem, elsize));
  }
  return HeaderAlloc(kDomain, n, true);
}

template <Domain kDomain>
void HookFree(void*, void* p) {
  if (p == nullptr) return;
  OwnerSlot arena_owner = ArenaMap::LookupMapped(p);
  if (arena_owner != kNoOwner) {
    if (kDomain == Domain::kRaw) {
      // A pymalloc block reaching the raw domain: a wrong-domain free, or
      // pymalloc itself handing over a block that is not in the calling
      // interpreter's arenas (a cross-interpreter free that the free check
      // did not stop). Giving it back to pymalloc would come straight back
      // here; no allocator may have it. It stays allocated.
      RawCallOnSmallBlock(p, arena_owner, false);
      return;
    }
    SmallFree<kDomain>(p, arena_owner);
    return;
  }
  HeaderFree(kDomain, p);
}

template <Domain kDomain>
void* HookRealloc(void*, void* p, size_t n) {
  if (p == nullptr) return HookMalloc<kDomain>(nullptr, n);
  OwnerSlot arena_owner = ArenaMap::LookupMapped(p);
  if (arena_owner != kNoOwner && kDomain == Domain::kRaw) {
    // As in HookFree: never hand a pymalloc block back from the raw domain.
    RawCallOnSmallBlock(p, arena_owner, true);
    size_t old = SmallSize(p);
    void* q = HeaderAlloc(Domain::kRaw, n, false);
    if (q != nullptr) memcpy(q, p, old < n ? old : n);
    return q;
  }
  if (arena_owner != kNoOwner) return SmallRealloc(kDomain, p, arena_owner, n);
  return HeaderRealloc(kDomain, p, n);
}

template <Domain kDomain>
PyMemAllocatorEx MakeHook() {
  return PyMemAllocatorEx{nullptr, &HookMalloc<kDomain>, &HookCalloc<kDomain>,
                          &HookRealloc<kDomain>, &HookFree<kDomain>};
}

}  // namespace

void AllocatorHooks::Install(uint32_t checks) {
  if (g_installed) return;
  // The hooks tell pymalloc's blocks from headed ones by the arena table
  // (and read it unguarded): no table, no hooks (process_setup.cc reports
  // that degraded mode).
  ArenaMap::Init();
  if (!ArenaMap::Active()) return;
  g_installed = true;
  g_enabled_checks = checks;
  g_small_limit = interpsan_shim_small_request_threshold();
  StaticMemoryMap::Refresh();
  ArenaMap::Install();
  PyMem_GetAllocator(PYMEM_DOMAIN_RAW, &g_orig.raw);
  PyMem_GetAllocator(PYMEM_DOMAIN_OBJ, &g_orig.obj);
  PyMemAllocatorEx raw = MakeHook<Domain::kRaw>();
  PyMemAllocatorEx mem = MakeHook<Domain::kMem>();
  PyMemAllocatorEx obj = MakeHook<Domain::kObj>();
  PyMem_SetAllocator(PYMEM_DOMAIN_RAW, &raw);
  PyMem_SetAllocator(PYMEM_DOMAIN_MEM, &mem);
  PyMem_SetAllocator(PYMEM_DOMAIN_OBJ, &obj);
}

bool AllocatorHooks::installed() { return g_installed; }

bool AllocatorHooks::ReinstallIfReset() {
  if (!g_installed) return false;
  PyMemAllocatorEx current;
  PyMem_GetAllocator(PYMEM_DOMAIN_RAW, &current);
  if (current.malloc == &HookMalloc<Domain::kRaw>) return false;
  ArenaMap::Install();
  PyMemAllocatorEx raw = MakeHook<Domain::kRaw>();
  PyMemAllocatorEx mem = MakeHook<Domain::kMem>();
  PyMemAllocatorEx obj = MakeHook<Domain::kObj>();
  PyMem_SetAllocator(PYMEM_DOMAIN_RAW, &raw);
  PyMem_SetAllocator(PYMEM_DOMAIN_MEM, &mem);
  PyMem_SetAllocator(PYMEM_DOMAIN_OBJ, &obj);
  return true;
}

size_t AllocatorHooks::BlockSize(const void* p) {
  if (p == nullptr) return 0;
  if (ArenaMap::Lookup(p) != kNoOwner) {
    return SmallSize(p);
  }
  const BlockHeader* header = BlockHeader::FromUser(p);
  return header->magic == kLiveMagic ? header->size : 0;
}

namespace {

// RetraceBlock's header-block (and static memory) case, out of line.
__attribute__((noinline)) void RetraceHeaderBlock(const void* p) {
  if (StaticMemoryMap::Contains(p)) return;
  BlockHeader* header = BlockHeader::FromUser(p);
  if (header->magic != kLiveMagic || header->trace_id == 0) return;
  header->trace_id = g_tracer.on_retrace(header->trace_id, header->size);
}

// RetraceBlock for a block that is not last_traced.
inline void RetraceOtherBlock(const void* p) {
  if (ReentryGuard::active || g_tracer.on_retrace == nullptr) return;
  if (ArenaMap::Lookup(p) == kNoOwner) return RetraceHeaderBlock(p);
  uint32_t* entry = SmallBlockTraces::EntryOf(p);
  uint32_t id = *entry;
  if (id == 0) return;
  uint32_t now = g_tracer.on_retrace(id, SmallSize(p));
  if (now != id) *entry = now;
}

}  // namespace

void AllocatorHooks::RetraceBlock(const void* p) {
  if (TakeLastTraced(p)) return;  // just traced, by its allocation
  RetraceOtherBlock(p);
}

void AllocatorHooks::RetraceBlockThen(const void* p, void (*then)(PyObject*),
                                      PyObject* op) {
  RetraceOtherBlock(p);
  return then(op);
}

uint32_t AllocatorHooks::TraceIdOf(const void* p) {
  if (p == nullptr) return 0;
  if (ArenaMap::Lookup(p) != kNoOwner) return SmallBlockTraces::Get(p);
  if (StaticMemoryMap::Contains(p)) return 0;
  const BlockHeader* header = BlockHeader::FromUser(p);
  return header->magic == kLiveMagic ? header->trace_id : 0;
}

}  // namespace interpsan
