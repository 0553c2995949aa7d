// Time source seam. Production code asks a Clock for the current UTC time so tests can use a
// FakeClock and stay repeatable. Timestamps are microseconds since the Unix epoch, UTC.
//
// SystemClock is thread-safe. FakeClock is not; use it from one thread.
#ifndef ASSAY_COMMON_CLOCK_H_
#define ASSAY_COMMON_CLOCK_H_

#include <cstdint>
#include <string>

namespace assay::common {

class Clock {
 public:
  virtual ~Clock() = default;
  // Current UTC time in microseconds since 1970-01-01T00:00:00Z.
  virtual int64_t NowMicros() const = 0;
};

class SystemClock final : public Clock {
 public:
  int64_t NowMicros() const override;
  // A process-wide instance.
  static const SystemClock& Get();
};

class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t now_micros) : now_micros_(now_micros) {}
  int64_t NowMicros() const override { return now_micros_; }
  void Advance(int64_t micros) { now_micros_ += micros; }

 private:
  int64_t now_micros_;
};

// Formats microseconds since the epoch as RFC 3339 UTC with microseconds:
// "2026-11-28T02:46:28.123456Z".
std::string FormatUtcMicros(int64_t micros);

}  // namespace assay::common

#endif  // ASSAY_COMMON_CLOCK_H_
