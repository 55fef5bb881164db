// How a cooperative call on a socket or pipe waits in its greenlet while the others run, and how
// closing a descriptor ends those waits.
//
// A call tries first without blocking (fd_call.hpp); when the descriptor is not ready it waits
// here:
// - wait_ready(): until the descriptor is readable or writable (the hub's poll), then the caller
//   tries again;
// - receive_in_backend(): a socket receive the backend performs itself (in the io_uring ring; by
//   readiness then a MSG_DONTWAIT receive on epoll), so that data arriving costs no second call.
// Both end with EBADF when the program closes the descriptor, or replaces it (dup2, dup3), or
// closes it with close_range, closefrom or fclose: descriptor_closed() / descriptors_closed(),
// called by those interposers once the descriptor is gone. Natively a blocked call would keep
// waiting (or see a reused descriptor number); here it fails, as the runtime's own calls do.
//
// Results are the kernel's way: >= 0, or -errno. -EAGAIN means the call's deadline passed
// (SO_RCVTIMEO, SO_SNDTIMEO), -EINTR that the wait was cut short by something else than the
// descriptor or the deadline. Call them in program context: they enter the runtime themselves.
#pragma once

#include <cstdint>

#include "cogent/clock.hpp"
#include "cogent/detail/io_operation.hpp"

namespace cogent::shim {

/// Waits until `fd` is ready for `events` (POLLIN or POLLOUT; an error or hang-up counts as
/// ready) or `deadline` passes: 0, -EAGAIN, -EBADF or -EINTR. `api` names the call for a report
/// of a wait that can never end.
long wait_ready(int fd, short events, TimePoint deadline, const char* api);

/// Performs the socket receive `request` (kRecv, kRecvv or kRecvFrom, without MSG_DONTWAIT) in
/// the backend, waiting until it is done or `deadline` passes: bytes, or -errno.
long receive_in_backend(const detail::IoRequest& request, TimePoint deadline, const char* api);

/// Sleeps until `until` (or a kill): pacing for calls whose descriptor says it is ready but that
/// still cannot proceed.
void pause_until(TimePoint until);

/// `fd` was closed or replaced by the program: its waiters end with EBADF. Does nothing unless
/// called by the program's code on the hub thread (a close made by the runtime itself, by another
/// OS thread, or by a signal handler that interrupted the runtime wakes nobody, as natively).
void descriptor_closed(int fd) noexcept;
/// The same for every descriptor in [first, last].
void descriptors_closed(unsigned first, unsigned last) noexcept;

}  // namespace cogent::shim
