#include "common/clock.h"

#include <chrono>

#include "absl/strings/str_format.h"
#include "common/civil_time.h"

namespace assay::common {

int64_t SystemClock::NowMicros() const {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

const SystemClock& SystemClock::Get() {
  static const SystemClock clock;
  return clock;
}

std::string FormatUtcMicros(int64_t micros) { return FormatTimestampMicros(micros); }

}  // namespace assay::common
