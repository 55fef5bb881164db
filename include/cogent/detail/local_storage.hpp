// The per-greenlet storage behind cogent::local<T>: each greenlet (or spawned task) that touches a
// local gets a small list of {key, value, deleter}, destroyed newest first when it dies. A
// greenlet that never touches a local pays one null pointer in its core. Not part of the public
// API.
#pragma once

#include <cstdint>

namespace cogent::detail {

class GreenletCore;

/// Destroys one value. Must not touch the cogent::local that made it: that may be gone already.
using LocalDeleter = void (*)(void* value) noexcept;
/// Makes the current greenlet's value for the cogent::local at `self`.
using LocalMaker = void* (*)(const void* self);

/// A key never handed out before in this process, so a value outliving its local cannot be
/// mistaken for the value of a newer one.
std::uint64_t new_local_key() noexcept;

/// The current greenlet's (or task's) value for `key`, null if it has none. Throws
/// std::logic_error inside the hub (a link callback or posted function); `api` names the call.
void* find_local(std::uint64_t key, const char* api);

/// As find_local, but a missing value is made by `make(self)` and kept until the greenlet dies.
/// On a thread without a hub yet, creates it: the value then belongs to the main greenlet.
void* get_local(std::uint64_t key, const char* api, LocalMaker make, const void* self,
                LocalDeleter destroy);

/// Destroys the current greenlet's value for `key` now, if it has one.
void reset_local(std::uint64_t key, const char* api);

/// Destroys every value of `core`, newest first: at its death, or for a main greenlet when its hub
/// goes away.
void destroy_locals(GreenletCore& core) noexcept;

}  // namespace cogent::detail
