// Files that do not block the hub. On io_uring every call is submitted to the ring and truly
// asynchronous; on epoll, which cannot wait for regular files, it runs on
// cogent::ThreadPool::shared(), as gevent does. Errors are std::system_error with the errno
// (ENOENT for a missing file); a cogent::Timeout or kill() interrupts the wait (a call already
// running on a pool thread finishes first).
//
//   auto f = cogent::fs::File::open("data.bin", O_RDWR | O_CREAT);
//   f.pwrite(buf, n, 0);
//   std::string text = cogent::fs::read_file("config.txt");
//   std::string text = co_await cogent::fs::async_read_file("config.txt");   // in a task
#pragma once

#include <fcntl.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "cogent/task.hpp"

namespace cogent::fs {

class File {
 public:
  File() noexcept = default;
  File(File&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  File& operator=(File&& other) noexcept;
  ~File();

  /// open(2) with O_CLOEXEC added; `mode` applies when O_CREAT creates the file.
  static File open(const std::string& path, int flags = O_RDONLY, mode_t mode = 0644);
  static Task<File> async_open(std::string path, int flags = O_RDONLY, mode_t mode = 0644);

  /// At the file position (which advances): some bytes, 0 at end of file.
  std::size_t read(void* buf, std::size_t len);
  std::size_t write(const void* buf, std::size_t len);
  /// At `offset`; the file position does not move.
  std::size_t pread(void* buf, std::size_t len, std::int64_t offset);
  std::size_t pwrite(const void* buf, std::size_t len, std::int64_t offset);
  void fsync();

  Task<std::size_t> async_read(void* buf, std::size_t len);
  Task<std::size_t> async_write(const void* buf, std::size_t len);
  Task<std::size_t> async_pread(void* buf, std::size_t len, std::int64_t offset);
  Task<std::size_t> async_pwrite(const void* buf, std::size_t len, std::int64_t offset);
  Task<> async_fsync();

  int fd() const noexcept { return fd_; }
  bool is_open() const noexcept { return fd_ >= 0; }
  /// Closes the file; std::system_error if the kernel reports a failed write-back (EIO).
  void close();
  int release() noexcept { return std::exchange(fd_, -1); }

 private:
  explicit File(int fd) noexcept : fd_(fd) {}
  /// open(2) on this thread: a pool thread's half of open() on epoll. Returning a File means a
  /// result dropped by an interrupted wait is closed, not leaked.
  static File open_here(const std::string& path, int flags, mode_t mode);
  static File opened(long outcome, const std::string& path);
  int checked_fd(const char* api) const;
  int fd_ = -1;
};

/// The whole file as bytes.
std::string read_file(const std::string& path);
/// Replaces the file's contents with `data` (created with `mode` if missing).
void write_file(const std::string& path, std::string_view data, mode_t mode = 0644);

Task<std::string> async_read_file(std::string path);
Task<> async_write_file(std::string path, std::string data, mode_t mode = 0644);

}  // namespace cogent::fs
