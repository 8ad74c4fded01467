#include "runtime/small_block_traces.h"

namespace interpsan {

// The layout small_block_traces.h relies on (arena_map.h maps it).
static_assert(kTraceIdsBytes ==
                  (kArenaSize >> kDomainUnitShift) * sizeof(uint32_t),
              "one id per 16-byte unit of the arena");
static_assert(kTraceIdsOffset % 4096 == 0, "the ids start on a page");
static_assert(kArenaSlotBytes <= (size_t{1} << kArenaSlotShift),
              "arena, domain bitmap and ids fit in the arena's slot");

}  // namespace interpsan
