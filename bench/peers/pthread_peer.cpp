// Spawn+join contender: creating and joining an OS thread that does nothing through pthreads
// directly, with default attributes (8 MiB stack, which glibc caches and reuses from one thread to
// the next). BM_SpawnJoin_Thread (thread_peer.cpp) does the same through std::thread.

#include <benchmark/benchmark.h>
#include <pthread.h>

#include <cstring>
#include <string>

namespace {

constexpr int kWarmup = 64;

void* empty_thread(void*) { return nullptr; }

bool create_and_join(benchmark::State& state) {
  pthread_t thread;
  if (int rc = pthread_create(&thread, nullptr, &empty_thread, nullptr); rc != 0) {
    state.SkipWithError((std::string("pthread_create: ") + std::strerror(rc)).c_str());
    return false;
  }
  pthread_join(thread, nullptr);
  return true;
}

void BM_SpawnJoin_Pthread(benchmark::State& state) {
  for (int i = 0; i < kWarmup; ++i) {
    if (!create_and_join(state)) return;
  }
  for (auto _ : state) {
    if (!create_and_join(state)) break;
  }
}
// The new thread's CPU time is not the calling thread's, so only wall-clock time is meaningful.
BENCHMARK(BM_SpawnJoin_Pthread)->UseRealTime();

}  // namespace
