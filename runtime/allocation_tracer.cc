#include "runtime/allocation_tracer.h"

namespace interpsan {

std::atomic<bool> g_tracing{false};
std::atomic<bool> g_traced_ever{false};
AllocationTracer g_tracer = {nullptr, nullptr, nullptr, nullptr};
std::atomic<uint32_t> g_code_epoch{1};

void InstallAllocationTracer(const AllocationTracer& tracer) {
  g_tracer = tracer;
}

}  // namespace interpsan
