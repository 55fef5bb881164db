// Errors raised by cogent. Library failures derive from cogent::Error; I/O failures are
// std::system_error carrying the errno.
//
//   try { g.get(); } catch (const cogent::GreenletExit&) { /* g was killed */ }
#pragma once

#include <stdexcept>
#include <string>

namespace cogent {

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
