// Thread contenders for cogent_micro_bench: two std::threads handing the CPU to each other,
// std::thread construct+join, and the kernel timer a thread arms for a timeout. Only wall-clock
// time is meaningful for the first two (the partner's CPU time is not the caller's).

#include <benchmark/benchmark.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <semaphore>
#include <string>
#include <system_error>
#include <thread>

namespace {

constexpr int kWarmup = 256;

bool pin_to(pthread_t thread, int cpu, benchmark::State& state) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (int rc = pthread_setaffinity_np(thread, sizeof set, &set); rc != 0) {
    state.SkipWithError((std::string("pthread_setaffinity_np: ") + std::strerror(rc)).c_str());
    return false;
  }
  return true;
}

// Ping-pong over two std::binary_semaphores (libstdc++: a short spin, then a futex wait): one
// iteration is the timed thread releasing `ping`, the partner acquiring it and releasing `pong`,
// and the timed thread acquiring `pong`. With same_cpu:1 both threads are pinned to the caller's
// CPU, so every hand-off is a real switch between two threads of one CPU, as between greenlets of
// one hub; with same_cpu:0 they run where the kernel puts them (on two cores, mostly spinning).
void BM_Yield_Thread(benchmark::State& state) {
  const bool same_cpu = state.range(0) != 0;
  cpu_set_t saved;
  const pthread_t self = pthread_self();
  if (int rc = pthread_getaffinity_np(self, sizeof saved, &saved); rc != 0) {
    state.SkipWithError((std::string("pthread_getaffinity_np: ") + std::strerror(rc)).c_str());
    return;
  }
  const int cpu = sched_getcpu();
  if (same_cpu && !pin_to(self, cpu, state)) return;

  std::binary_semaphore ping{0};
  std::binary_semaphore pong{0};
  std::atomic<bool> done{false};
  std::thread partner([&] {
    for (;;) {
      ping.acquire();
      if (done.load(std::memory_order_relaxed)) return;
      pong.release();
    }
  });
  if (!same_cpu || pin_to(partner.native_handle(), cpu, state)) {
    for (int i = 0; i < kWarmup; ++i) {
      ping.release();
      pong.acquire();
    }
    for (auto _ : state) {
      ping.release();
      pong.acquire();
    }
  }
  done = true;
  ping.release();
  partner.join();
  pthread_setaffinity_np(self, sizeof saved, &saved);
}
BENCHMARK(BM_Yield_Thread)->ArgName("same_cpu")->Arg(0)->Arg(1)->UseRealTime();

// std::thread constructed with an empty function and joined (default attributes: an 8 MiB stack
// that glibc caches and reuses from one thread to the next).
void BM_SpawnJoin_Thread(benchmark::State& state) {
  try {
    for (int i = 0; i < kWarmup; ++i) std::thread([] {}).join();
    for (auto _ : state) std::thread([] {}).join();
  } catch (const std::system_error& e) {
    state.SkipWithError((std::string("std::thread: ") + e.what()).c_str());
  }
}
BENCHMARK(BM_SpawnJoin_Thread)->UseRealTime();

void on_timeout(int) {}

// A thread's equivalent of a scoped cogent::Timeout: a POSIX timer aimed at this thread
// (SIGEV_THREAD_ID), whose signal, installed without SA_RESTART, interrupts whatever blocking call
// is in progress with EINTR. Timed variants of single calls (cv.wait_for, poll) arm nothing when
// the call completes at once; a timeout over a block of code needs this. One iteration:
// timer_settime to 1 s, an uncontended std::mutex lock + unlock, timer_settime to zero.
void BM_Timer_Thread(benchmark::State& state) {
  struct sigaction action {};
  action.sa_handler = &on_timeout;
  sigemptyset(&action.sa_mask);
  struct sigaction previous {};
  if (::sigaction(SIGRTMIN, &action, &previous) != 0) {
    state.SkipWithError((std::string("sigaction: ") + std::strerror(errno)).c_str());
    return;
  }
  sigevent event{};
  event.sigev_notify = SIGEV_THREAD_ID;
  event.sigev_signo = SIGRTMIN;
  // glibc before 2.35 has no sigev_notify_thread_id macro for this member.
  event._sigev_un._tid = static_cast<pid_t>(::syscall(SYS_gettid));
  timer_t timer;
  if (::timer_create(CLOCK_MONOTONIC, &event, &timer) != 0) {
    state.SkipWithError((std::string("timer_create: ") + std::strerror(errno)).c_str());
    ::sigaction(SIGRTMIN, &previous, nullptr);
    return;
  }
  std::mutex m;
  const itimerspec arm{{0, 0}, {1, 0}};
  const itimerspec disarm{};
  auto step = [&] {
    if (::timer_settime(timer, 0, &arm, nullptr) != 0) return false;
    m.lock();
    m.unlock();
    return ::timer_settime(timer, 0, &disarm, nullptr) == 0;
  };
  bool ok = true;
  for (int i = 0; i < kWarmup && ok; ++i) ok = step();
  if (ok) {
    for (auto _ : state) {
      if (!step()) {
        ok = false;
        break;
      }
    }
  }
  if (!ok) state.SkipWithError((std::string("timer_settime: ") + std::strerror(errno)).c_str());
  ::timer_delete(timer);
  ::sigaction(SIGRTMIN, &previous, nullptr);
}
BENCHMARK(BM_Timer_Thread);

}  // namespace
