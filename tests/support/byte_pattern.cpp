#include "support/byte_pattern.hpp"

#include <algorithm>
#include <cstring>

namespace cogent::test {

std::uint64_t BytePattern::word(std::uint64_t index) const noexcept {
  // splitmix64: every 8-byte word of the stream is distinct and position-dependent, so a
  // dropped, repeated or reordered chunk never matches by accident.
  std::uint64_t z = seed_ * 0x9e3779b97f4a7c15ULL + index + 1;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void BytePattern::fill(std::uint64_t offset, void* out, std::size_t len) const noexcept {
  auto* p = static_cast<unsigned char*>(out);
  std::size_t i = 0;
  // Head up to a word boundary, whole words, then the tail.
  while (i < len && ((offset + i) & 7) != 0) {
    const std::uint64_t at = offset + i;
    p[i++] = static_cast<unsigned char>(word(at >> 3) >> ((at & 7) * 8));
  }
  for (; i + 8 <= len; i += 8) {
    const std::uint64_t w = word((offset + i) >> 3);
    std::memcpy(p + i, &w, 8);  // little-endian: byte k of the word is at offset 8n + k
  }
  for (; i < len; ++i) {
    const std::uint64_t at = offset + i;
    p[i] = static_cast<unsigned char>(word(at >> 3) >> ((at & 7) * 8));
  }
}

std::size_t BytePattern::mismatch(std::uint64_t offset, const void* data,
                                  std::size_t len) const noexcept {
  const auto* p = static_cast<const unsigned char*>(data);
  unsigned char expected[4096];
  for (std::size_t done = 0; done < len;) {
    const std::size_t n = std::min(len - done, sizeof expected);
    fill(offset + done, expected, n);
    if (std::memcmp(expected, p + done, n) != 0) {
      std::size_t k = 0;
      while (expected[k] == p[done + k]) ++k;
      return done + k;
    }
    done += n;
  }
  return len;
}

std::string BytePattern::bytes(std::uint64_t offset, std::size_t len) const {
  std::string s(len, '\0');
  fill(offset, s.data(), len);
  return s;
}

Fnv1a& Fnv1a::update(const void* data, std::size_t len) noexcept {
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < len; ++i) {
    hash_ ^= p[i];
    hash_ *= 0x100000001b3ULL;
  }
  return *this;
}

}  // namespace cogent::test
