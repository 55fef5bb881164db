// Errors raised by cogent. Library failures derive from cogent::Error; I/O failures are
// std::system_error carrying the errno.
//
//   try { g.get(); } catch (const cogent::GreenletExit&) { /* g was killed */ }
#pragma once

#include <stdexcept>
#include <string>

namespace cogent {

class Timeout;

/// Base of every exception cogent itself raises.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A deadline passed: a `Timeout` expired, or a blocking call with a timeout argument that
/// reports expiry by exception.
class TimeoutError : public Error {
 public:
  TimeoutError() : Error("cogent: operation timed out") {}
  explicit TimeoutError(const Timeout* source)
      : Error("cogent: operation timed out"), source_(source) {}
  using Error::Error;

  /// The Timeout that raised this error; null for a call's own timeout argument. Lets nested
  /// scopes tell their own expiry from an outer one's: `if (e.source() != &t) throw;`.
  const Timeout* source() const noexcept { return source_; }

 private:
  const Timeout* source_ = nullptr;
};

/// A stream ended before the bytes a call needed arrived (read_exact after the peer closed).
class EndOfStream : public Error {
 public:
  using Error::Error;
};

/// A put found no free slot: put_nowait() on a full queue, or put() whose timeout passed.
class Full : public Error {
 public:
  Full() : Error("cogent: queue full") {}
  using Error::Error;
};

/// A get found no item: get_nowait() or peek_nowait() on an empty queue, or a get whose timeout
/// passed.
class Empty : public Error {
 public:
  Empty() : Error("cogent: queue empty") {}
  using Error::Error;
};

/// Raised inside a greenlet or task by `kill()`, at its next switch. Letting it propagate ends the
/// greenlet; its destructors run on the way out.
class GreenletExit : public Error {
 public:
  GreenletExit() : Error("cogent: greenlet killed") {}
  using Error::Error;
};

/// The waiting greenlet can never be woken: nothing is runnable, no timer or I/O is pending and
/// nothing outside the hub can wake it. The message lists who waits on what.
class LoopExit : public Error {
 public:
  using Error::Error;
};

}  // namespace cogent
