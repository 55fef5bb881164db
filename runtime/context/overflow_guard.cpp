#include "context/overflow_guard.hpp"

#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <system_error>

#include "context/slab_registry.hpp"

namespace cogent::detail {
namespace {

constexpr std::size_t kAltStackSize = 64 * 1024;
constexpr int kSignals[] = {SIGSEGV, SIGBUS};

struct sigaction g_previous[2];

struct sigaction& previous_for(int signal) {
  return g_previous[signal == SIGSEGV ? 0 : 1];
}

// Async-signal-safe formatting: snprintf may allocate or take locks.
char* append(char* out, const char* text) {
  while (*text != '\0') {
    *out++ = *text++;
  }
  return out;
}

char* append(char* out, std::uint64_t value) {
  char digits[20];
  int count = 0;
  do {
    digits[count++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  while (count > 0) {
    *out++ = digits[--count];
  }
  return out;
}

void write_all(const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t written = write(STDERR_FILENO, data, size);
    if (written < 0 && errno == EINTR) {
      continue;
    }
    if (written <= 0) {
      return;
    }
    data += written;
    size -= static_cast<std::size_t>(written);
  }
}

void on_fault(int signal, siginfo_t* info, void*) {
  GuardHit hit;
  if (find_guard_hit(reinterpret_cast<std::uintptr_t>(info->si_addr), hit)) {
    char message[128];
    char* end = append(message, "cogent: greenlet ");
    end = append(end, hit.owner);
    end = append(end, " overflowed its ");
    end = append(end, static_cast<std::uint64_t>(hit.stack_size / 1024));
    end = append(end, " KiB stack\n");
    write_all(message, static_cast<std::size_t>(end - message));
    abort();
  }
  // Returning re-executes the faulting instruction, which now meets the previous disposition and
  // crashes (or recovers) exactly as it would without cogent. A signal sent with kill() is not
  // repeated that way, so send it again; it stays blocked until this handler returns.
  const int saved_errno = errno;
  sigaction(signal, &previous_for(signal), nullptr);
  if (info->si_code <= 0) {
    raise(signal);
  }
  errno = saved_errno;
}

// Installs on_fault wherever it is not the handler now. A program (or a test framework) may
// replace it after a first hub was made; each new hub puts it back, chaining to the newcomer.
void install_handlers() {
  struct sigaction action {};
  action.sa_sigaction = &on_fault;
  action.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&action.sa_mask);
  for (int signal : kSignals) {
    struct sigaction now {};
    if (sigaction(signal, nullptr, &now) != 0) {
      throw std::system_error(errno, std::generic_category(), "cogent: sigaction");
    }
    if ((now.sa_flags & SA_SIGINFO) && now.sa_sigaction == &on_fault) continue;
    if (sigaction(signal, &action, &previous_for(signal)) != 0) {
      throw std::system_error(errno, std::generic_category(), "cogent: sigaction");
    }
  }
}

// Owns the alternate signal stack this thread got from us; the kernel must stop using it before
// the memory goes away at thread exit.
class AltStack {
 public:
  AltStack() = default;
  AltStack(const AltStack&) = delete;
  AltStack& operator=(const AltStack&) = delete;

  ~AltStack() {
    if (memory_ == nullptr) {
      return;
    }
    stack_t current{};
    if (sigaltstack(nullptr, &current) == 0 && current.ss_sp == memory_) {
      stack_t disable{};
      disable.ss_flags = SS_DISABLE;
      sigaltstack(&disable, nullptr);
    }
    munmap(memory_, kAltStackSize);
  }

  void ensure() {
    if (checked_) {
      return;
    }
    stack_t current{};
    if (sigaltstack(nullptr, &current) != 0) {
      throw std::system_error(errno, std::generic_category(), "cogent: sigaltstack");
    }
    if ((current.ss_flags & SS_DISABLE) == 0) {
      checked_ = true;
      return;
    }
    void* memory = mmap(nullptr, kAltStackSize, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (memory == MAP_FAILED) {
      throw std::system_error(errno, std::generic_category(),
                              "cogent: cannot map an alternate signal stack");
    }
    stack_t stack{};
    stack.ss_sp = memory;
    stack.ss_size = kAltStackSize;
    if (sigaltstack(&stack, nullptr) != 0) {
      const int error = errno;
      munmap(memory, kAltStackSize);
      throw std::system_error(error, std::generic_category(), "cogent: sigaltstack");
    }
    memory_ = memory;
    checked_ = true;
  }

 private:
  void* memory_ = nullptr;
  bool checked_ = false;
};

std::mutex g_handlers_mutex;
thread_local AltStack t_alt_stack;

}  // namespace

void install_overflow_guard() {
  t_alt_stack.ensure();
  std::lock_guard lock(g_handlers_mutex);
  install_handlers();
}

}  // namespace cogent::detail
