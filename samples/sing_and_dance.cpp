// Concurrency without threads: one greenlet sings every 30 ms, another dances every 45 ms, and
// their lines interleave although both run on the same OS thread. While one sleeps, the hub runs
// the other; nobody waits for anybody, so the whole show takes as long as the longer part
// (6 x 45 ms), not the sum of both.
//
//   sing_and_dance [--lines N]          (N lines each, default 6)

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <thread>

#include <cogent/cogent.hpp>

using namespace std::chrono_literals;

namespace {

long elapsed_ms(cogent::TimePoint since) {
  return static_cast<long>(
      std::chrono::duration_cast<std::chrono::milliseconds>(cogent::Clock::now() - since).count());
}

// Prints `word` `lines` times, sleeping `every` before each line; returns the thread it ran on.
std::thread::id perform(const char* word, cogent::Duration every, int lines,
                        cogent::TimePoint start) {
  for (int i = 1; i <= lines; ++i) {
    cogent::sleep(every);  // suspends this greenlet only: the other one runs meanwhile
    std::printf("%4ld ms  %s %d\n", elapsed_ms(start), word, i);
  }
  return std::this_thread::get_id();
}

}  // namespace

int main(int argc, char** argv) {
  int lines = 6;
  if (argc == 3 && std::string_view(argv[1]) == "--lines") lines = std::atoi(argv[2]);
  if (argc != 1 && (argc != 3 || lines <= 0)) {
    std::fprintf(stderr, "usage: sing_and_dance [--lines N]\n");
    return 2;
  }

  const auto start = cogent::Clock::now();
  auto singer = cogent::spawn(perform, "sing", cogent::Duration(30ms), lines, start);
  auto dancer = cogent::spawn(perform, "dance", cogent::Duration(45ms), lines, start);
  // get() waits for each greenlet and returns what it returned.
  const bool one_thread =
      singer.get() == std::this_thread::get_id() && dancer.get() == std::this_thread::get_id();

  std::printf("both on one OS thread: %s\n", one_thread ? "yes" : "no");
  std::printf("took %ld ms; one after the other would take %d ms\n", elapsed_ms(start),
              lines * (30 + 45));
  return one_thread ? 0 : 1;
}
