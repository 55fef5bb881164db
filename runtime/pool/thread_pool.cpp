#include "cogent/thread_pool.hpp"

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "cogent/error.hpp"
#include "cogent/hub.hpp"
#include "hub/scheduler.hpp"
#include "pool/thread_pool_size.hpp"

namespace cogent::detail {

/// The threads and the job queue of one ThreadPool. Shared with the operations waiting on it, so
/// that one cancelled after the ThreadPool was destroyed still finds the queue's mutex, and with
/// its threads (one may outlive the ThreadPool: see shut_down()).
class ThreadPoolCore : public std::enable_shared_from_this<ThreadPoolCore> {
 public:
  explicit ThreadPoolCore(std::size_t max_threads) noexcept : max_threads_(max_threads) {}

  std::size_t max_threads() const noexcept { return max_threads_; }
  std::size_t threads() const {
    std::lock_guard lock(mutex_);
    return threads_.size();
  }

  void enqueue(PoolJob* job);
  /// Takes `job` out of the queue if no thread has started it yet.
  bool remove_if_queued(PoolJob* job) noexcept;
  void shut_down();

 private:
  void push_back(PoolJob* job) noexcept;
  void unlink(PoolJob* job) noexcept;
  PoolJob* pop_front() noexcept;
  void start_thread();
  void work();
  /// An idle thread leaves: out of threads_, detached (under the mutex).
  void retire_this_thread() noexcept;
  static void post_completion(PoolJob* job);

  // A thread with nothing to do for this long ends, so that a program under the shim is back to
  // one OS thread once its DNS lookups and file calls are done.
  static constexpr std::chrono::seconds kIdleThreadLifetime{2};

  const std::size_t max_threads_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  PoolJob* head_ = nullptr;  // FIFO, linked through the jobs: O(1) removal on cancel
  PoolJob* tail_ = nullptr;
  std::size_t queued_ = 0;
  std::size_t running_ = 0;
  std::vector<std::thread> threads_;
  bool accepting_ = true;
};

void ThreadPoolCore::push_back(PoolJob* job) noexcept {
  job->state_ = PoolJob::State::kQueued;
  job->prev_ = tail_;
  job->next_ = nullptr;
  if (tail_) {
    tail_->next_ = job;
  } else {
    head_ = job;
  }
  tail_ = job;
  ++queued_;
}

void ThreadPoolCore::unlink(PoolJob* job) noexcept {
  if (job->prev_) {
    job->prev_->next_ = job->next_;
  } else {
    head_ = job->next_;
  }
  if (job->next_) {
    job->next_->prev_ = job->prev_;
  } else {
    tail_ = job->prev_;
  }
  job->prev_ = job->next_ = nullptr;
  --queued_;
}

PoolJob* ThreadPoolCore::pop_front() noexcept {
  PoolJob* job = head_;
  if (job != nullptr) unlink(job);
  return job;
}

void ThreadPoolCore::enqueue(PoolJob* job) {
  std::lock_guard lock(mutex_);
  if (!accepting_) throw Error("cogent: thread pool destroyed");
  push_back(job);
  // Every started thread that is not running a job takes one queued job before it waits again;
  // only the jobs beyond those need a new thread.
  if (queued_ > threads_.size() - running_ && threads_.size() < max_threads_) {
    try {
      start_thread();
    } catch (...) {
      // Out of threads (EAGAIN) or memory: the running threads will get to the job, unless
      // there are none.
      if (threads_.empty()) {
        unlink(job);
        job->state_ = PoolJob::State::kIdle;
        throw;
      }
    }
  }
  wake_.notify_one();
}

bool ThreadPoolCore::remove_if_queued(PoolJob* job) noexcept {
  std::lock_guard lock(mutex_);
  if (job->state_ != PoolJob::State::kQueued) return false;
  unlink(job);
  job->state_ = PoolJob::State::kIdle;
  return true;
}

void ThreadPoolCore::shut_down() {
  std::vector<PoolJob*> abandoned;
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mutex_);
    accepting_ = false;
    while (PoolJob* job = pop_front()) {
      job->state_ = PoolJob::State::kAbandoned;
      abandoned.push_back(job);
    }
    threads.swap(threads_);
  }
  wake_.notify_all();
  for (PoolJob* job : abandoned) post_completion(job);
  for (std::thread& t : threads) {
    // A job that destroys its own pool: its thread cannot join itself, so it finishes detached.
    if (t.get_id() == std::this_thread::get_id()) {
      t.detach();
    } else {
      t.join();
    }
  }
}

void ThreadPoolCore::start_thread() {
  // A new thread inherits its creator's signal mask: pool threads block every signal, so one sent
  // to the process is handled on a hub thread, where it interrupts a blocking call with EINTR as
  // it would natively, never on a thread busy with somebody's job.
  sigset_t all, before;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &before);
  try {
    threads_.emplace_back([self = shared_from_this()] { self->work(); });
  } catch (...) {
    pthread_sigmask(SIG_SETMASK, &before, nullptr);
    throw;
  }
  pthread_sigmask(SIG_SETMASK, &before, nullptr);
}

void ThreadPoolCore::work() {
  pthread_setname_np(pthread_self(), "cogent-pool");
  std::unique_lock lock(mutex_);
  for (;;) {
    PoolJob* job = pop_front();
    if (job == nullptr) {
      if (!accepting_) return;
      if (wake_.wait_for(lock, kIdleThreadLifetime) == std::cv_status::timeout &&
          head_ == nullptr && accepting_) {
        retire_this_thread();
        return;
      }
      continue;
    }
    job->state_ = PoolJob::State::kRunning;
    ++running_;
    lock.unlock();
    job->run();
    post_completion(job);  // the waiter may free the job as soon as this is posted
    lock.lock();
    --running_;
  }
}

void ThreadPoolCore::retire_this_thread() noexcept {
  const auto me = std::this_thread::get_id();
  for (auto it = threads_.begin(); it != threads_.end(); ++it) {
    if (it->get_id() == me) {
      it->detach();
      threads_.erase(it);
      return;
    }
  }
}

void ThreadPoolCore::post_completion(PoolJob* job) {
  job->hub_->post([job] { ThreadPoolOperation::on_pool_done(job); });
}

void ThreadPoolOperation::start() {
  Hub& hub = Hub::current();
  job_->hub_ = &hub;
  job_->waiter_ = this;
  job_->retain();  // the pool's reference, dropped by on_pool_done() or a cancel that dequeues
  try {
    pool_->enqueue(job_);
  } catch (...) {
    job_->waiter_ = nullptr;
    job_->release();
    throw;
  }
  hub.scheduler().hold_external();
}

void ThreadPoolOperation::cancel() noexcept {
  cancelled_ = true;
  // A running job may be writing into the waiter's memory: the waiter stays until it returns.
  if (!pool_->remove_if_queued(job_)) return;
  job_->hub_->scheduler().release_external();
  job_->release();
  finish_interrupted();
}

void ThreadPoolOperation::on_pool_done(PoolJob* job) noexcept {
  Hub* hub = job->hub_;
  if (ThreadPoolOperation* op = job->waiter_) {
    if (op->cancelled_) {
      op->finish_interrupted();  // the result is dropped
    } else {
      op->finish();
    }
  }
  hub->scheduler().release_external();
  job->release();
}

std::string ThreadPoolOperation::describe() const { return "thread pool job"; }

ThreadPoolOperation::~ThreadPoolOperation() {
  // Gone before the pool was done (a task's frame destroyed while it waited): the completion
  // still arrives, finds no waiter and frees the job.
  job_->waiter_ = nullptr;
  job_->release();
}

void ThreadPoolOperation::check_ran() const {
  if (job_->state_ == PoolJob::State::kAbandoned) {
    throw Error("cogent: thread pool destroyed before the job ran");
  }
}

std::optional<std::size_t> parse_thread_pool_size(std::string_view text) {
  std::size_t n = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, n);
  if (text.empty() || ec != std::errc{} || ptr != end || n == 0) return std::nullopt;
  return n;
}

std::size_t thread_pool_size_from_env() {
  constexpr const char* kVariable = "COGENT_THREADPOOL_SIZE";
  const char* text = std::getenv(kVariable);
  if (text == nullptr || *text == '\0') return ThreadPool::kDefaultMaxThreads;
  if (const auto n = parse_thread_pool_size(text)) return *n;
  throw std::invalid_argument(std::string("cogent: invalid ") + kVariable + " value '" + text +
                              "' (expected a positive number of threads, e.g. 16)");
}

}  // namespace cogent::detail

namespace cogent {

ThreadPool::ThreadPool(std::size_t max_threads) {
  if (max_threads == 0) {
    throw std::invalid_argument("cogent::ThreadPool: max_threads must be at least 1");
  }
  core_ = std::make_shared<detail::ThreadPoolCore>(max_threads);
}

ThreadPool::~ThreadPool() { core_->shut_down(); }

namespace {

// The process-wide pool. Never destroyed: at exit a job may still be running (a getaddrinfo on a
// dead resolver), and no static destructor should wait for it. In the child of a fork() it is
// forgotten, not destroyed: its threads do not exist there (only the forking thread does), and
// one of them may have held its queue's lock at the moment of the fork. The child gets a fresh
// pool, whose threads start when it is first needed.
std::atomic<ThreadPool*> shared_pool{nullptr};
std::atomic<ThreadPool*> forgotten_pool{nullptr};  // still reachable: no leak is reported
std::atomic<bool> fork_handler_registered{false};

void forget_shared_pool() noexcept {
  forgotten_pool.store(shared_pool.exchange(nullptr, std::memory_order_relaxed),
                       std::memory_order_relaxed);
}

}  // namespace

ThreadPool& ThreadPool::shared() {
  if (ThreadPool* pool = shared_pool.load(std::memory_order_acquire)) [[likely]] {
    return *pool;
  }
  if (!fork_handler_registered.exchange(true)) {
    if (int rc = pthread_atfork(nullptr, nullptr, &forget_shared_pool); rc != 0) {
      fork_handler_registered.store(false);
      throw std::system_error(rc, std::generic_category(), "cogent: pthread_atfork");
    }
  }
  auto fresh = std::make_unique<ThreadPool>(detail::thread_pool_size_from_env());
  ThreadPool* made_meanwhile = nullptr;
  if (shared_pool.compare_exchange_strong(made_meanwhile, fresh.get(), std::memory_order_acq_rel)) {
    return *fresh.release();
  }
  return *made_meanwhile;  // another thread won; `fresh` has no threads yet and goes
}

std::size_t ThreadPool::max_threads() const noexcept { return core_->max_threads(); }

std::size_t ThreadPool::threads() const { return core_->threads(); }

}  // namespace cogent
