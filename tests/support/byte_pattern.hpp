// Deterministic byte streams for transfer tests: the byte at any offset of a stream is a function
// of (seed, offset), so a receiver checks each chunk as it arrives, whatever sizes the transfer
// was cut into, without keeping the whole stream. Fnv1a is an incremental checksum for messages.
//
//   BytePattern p(7);
//   p.fill(offset, buf, n);                 // sender
//   REQUIRE(p.mismatch(offset, buf, n) == n);   // receiver: n means every byte matched
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace cogent::test {

class BytePattern {
 public:
  explicit BytePattern(std::uint64_t seed) noexcept : seed_(seed) {}

  /// The stream's bytes [offset, offset + len) into `out`.
  void fill(std::uint64_t offset, void* out, std::size_t len) const noexcept;
  /// How many leading bytes of `data` match the stream at `offset`: `len` when all do.
  std::size_t mismatch(std::uint64_t offset, const void* data, std::size_t len) const noexcept;
  /// The stream's bytes [offset, offset + len) as a string.
  std::string bytes(std::uint64_t offset, std::size_t len) const;

 private:
  std::uint64_t word(std::uint64_t index) const noexcept;
  std::uint64_t seed_;
};

/// 64-bit FNV-1a, fed piece by piece.
class Fnv1a {
 public:
  Fnv1a& update(const void* data, std::size_t len) noexcept;
  std::uint64_t value() const noexcept { return hash_; }

 private:
  std::uint64_t hash_ = 0xcbf29ce484222325ULL;
};

}  // namespace cogent::test
