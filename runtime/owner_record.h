// owner_record.h: who owns a block of memory, packed into 16 bytes.
//
// Ownership is recorded two ways, chosen by block size (see
// allocator_hooks.cc for the routing):
//
//   * pymalloc small blocks (mem and obj domains, 1..512 bytes) carry no
//     header. Each own-GIL interpreter has its own pymalloc arenas, so the
//     arena a block lies in names its owner, and a bit per 16 bytes of the
//     arena its domain (arena_map.h). No size class moves up.
//   * every other block (raw domain, mem and obj blocks > 512 bytes or of
//     size 0) gets this in-band header, like CPython's own debug hooks:
//
//     +--------+--------+----------------------------------+-------- - -
//     | magic  | trace  | size:46 | owner:16 | domain:2     | user data
//     | 32 bit | 32 bit |           64 bit                 |
//     +--------+--------+----------------------------------+-------- - -
//     ^ header (16 bytes, keeps the user pointer 16-byte aligned)
//
// Thread safety: a header is written once at allocation and read by whoever
// frees or reallocates the block; the allocator's own synchronisation orders
// those.
#ifndef INTERPSAN_RUNTIME_OWNER_RECORD_H_
#define INTERPSAN_RUNTIME_OWNER_RECORD_H_

#include <cstddef>
#include <cstdint>

namespace interpsan {

// An interpreter's slot in the registry. 0 means "no interpreter": memory
// allocated with no thread state, which any interpreter may free.
using OwnerSlot = uint16_t;
constexpr OwnerSlot kNoOwner = 0;

// The PEP 445 allocator domains, numbered as PyMemAllocatorDomain.
enum class Domain : uint8_t { kRaw = 0, kMem = 1, kObj = 2 };

const char* DomainName(Domain domain);
// The C functions a user calls for a domain, e.g. "PyMem_Malloc/PyMem_Free".
const char* DomainApi(Domain domain);

constexpr uint32_t kLiveMagic = 0x1a7e5a11;   // block is allocated
constexpr uint32_t kFreedMagic = 0xdeadf5ee;  // block was freed by us

struct alignas(16) BlockHeader {
  uint32_t magic;
  uint32_t trace_id;  // tracemalloc's interned traceback; 0 = not traced
  uint64_t size : 46;
  uint64_t owner : 16;
  uint64_t domain : 2;

  static BlockHeader* FromUser(const void* user) {
    return reinterpret_cast<BlockHeader*>(const_cast<void*>(user)) - 1;
  }
  void* user() { return this + 1; }
  Domain block_domain() const { return static_cast<Domain>(domain); }
};

static_assert(sizeof(BlockHeader) == 16, "header must stay 16 bytes");
static_assert(alignof(BlockHeader) == 16, "user data must stay 16-aligned");

constexpr size_t kMaxHeaderBlockSize = (uint64_t{1} << 46) - 1;

}  // namespace interpsan

#endif  // INTERPSAN_RUNTIME_OWNER_RECORD_H_
