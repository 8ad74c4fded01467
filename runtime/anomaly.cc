#include "runtime/anomaly.h"

#include <atomic>

namespace interpsan {
namespace {
std::atomic<AnomalyHandler> g_handler{nullptr};
}  // namespace

uint32_t g_enabled_checks = 0;

void SetAnomalyHandler(AnomalyHandler handler) {
  g_handler.store(handler, std::memory_order_release);
}

Resolution HandleAnomaly(const BlockAnomaly& anomaly) {
  AnomalyHandler handler = g_handler.load(std::memory_order_acquire);
  if (handler == nullptr) return Resolution::kLeak;
  ReentryGuard guard;
  return handler(anomaly);
}

}  // namespace interpsan
