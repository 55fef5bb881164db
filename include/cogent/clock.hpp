// The clock every cogent deadline is measured on, and the conversion rules for durations:
// a negative duration counts as zero, a huge one saturates instead of overflowing.
//
//   cogent::sleep(250ms);            // any std::chrono duration is accepted
#pragma once

#include <chrono>

namespace cogent {

using Clock = std::chrono::steady_clock;
using Duration = Clock::duration;
using TimePoint = Clock::time_point;

/// The deadline `d` from now. Zero and negative durations give TimePoint::min(), a deadline that
/// has always passed (without reading the clock: sleep(0s) is a hot path); overflow saturates
/// to "never".
template <class Rep, class Period>
TimePoint deadline_after(std::chrono::duration<Rep, Period> d) noexcept {
  if (d <= d.zero()) return TimePoint::min();
  const TimePoint now = Clock::now();
  using Wide = std::chrono::duration<long double, std::nano>;
  const Wide room = std::chrono::duration_cast<Wide>(TimePoint::max() - now);
  if (std::chrono::duration_cast<Wide>(d) >= room) return TimePoint::max();
  return now + std::chrono::duration_cast<Duration>(std::chrono::ceil<Duration>(d));
}

}  // namespace cogent
