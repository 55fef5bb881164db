#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <system_error>

#include "cogent/detail/io_operation.hpp"
#include "cogent/fs.hpp"
#include "cogent/thread_pool.hpp"
#include "hub/scheduler.hpp"

namespace cogent::fs {
namespace {

using detail::IoKind;
using detail::IoRequest;

/// A file call's raw outcome: the ring on io_uring, a pool thread on epoll.
struct RawOutcome {
  static long take(const detail::IoOperation& op, long outcome) {
    if (outcome == detail::IoOperation::kDeadlinePassed) detail::throw_io_error(op, outcome);
    return outcome;
  }
};

long run(const char* api, const IoRequest& r) {
  if (detail::current_scheduler().async_io()) {
    return detail::io_blocking<RawOutcome>(api, r, detail::IoStart::kSubmitFirst);
  }
  return ThreadPool::shared().submit(&detail::perform_now, r);
}

Task<long> async_run(const char* api, IoRequest r) {
  if (detail::current_scheduler().async_io()) {
    co_return co_await detail::io_async<RawOutcome>(api, r, detail::IoStart::kSubmitFirst);
  }
  co_return co_await ThreadPool::shared().async_submit(&detail::perform_now, r);
}

std::size_t checked(long outcome, const char* api, const std::string& what) {
  if (outcome < 0) {
    throw std::system_error(static_cast<int>(-outcome), std::generic_category(),
                            "cogent: " + std::string(api) + " " + what);
  }
  return static_cast<std::size_t>(outcome);
}

IoRequest open_request(const std::string& path, int flags, mode_t mode) {
  return IoRequest{IoKind::kOpenAt, -1, flags, const_cast<char*>(path.c_str()), mode};
}

IoRequest rw_request(IoKind kind, int fd, const void* buf, std::size_t len, std::int64_t offset) {
  return IoRequest{kind, fd, 0, const_cast<void*>(buf), len, offset};
}

void check_offset(std::int64_t offset) {
  if (offset < 0) throw std::invalid_argument("cogent: negative file offset");
}

constexpr std::size_t kChunk = 1 << 20;

/// A write that moved nothing would loop forever: the device is full in all but name.
std::size_t progress(std::size_t written) {
  if (written == 0) throw std::system_error(ENOSPC, std::generic_category(), "cogent: write_file");
  return written;
}

}  // namespace

File& File::operator=(File&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

File::~File() {
  if (fd_ >= 0) ::close(fd_);
}

int File::checked_fd(const char* api) const {
  if (fd_ < 0) {
    throw std::system_error(EBADF, std::generic_category(),
                            std::string("cogent: ") + api + " on a closed file");
  }
  return fd_;
}

void File::close() {
  if (fd_ < 0) return;
  if (::close(std::exchange(fd_, -1)) < 0 && errno != EINTR) {
    throw std::system_error(errno, std::generic_category(), "cogent: close");
  }
}

File File::open(const std::string& path, int flags, mode_t mode) {
  return File(
      static_cast<int>(checked(run("open", open_request(path, flags, mode)), "open", path)));
}

Task<File> File::async_open(std::string path, int flags, mode_t mode) {
  const long fd = co_await async_run("open", open_request(path, flags, mode));
  co_return File(static_cast<int>(checked(fd, "open", path)));
}

std::size_t File::read(void* buf, std::size_t len) {
  const int fd = checked_fd("read");
  return checked(run("read", rw_request(IoKind::kRead, fd, buf, len, -1)), "read", "file");
}

std::size_t File::write(const void* buf, std::size_t len) {
  const int fd = checked_fd("write");
  return checked(run("write", rw_request(IoKind::kWrite, fd, buf, len, -1)), "write", "file");
}

std::size_t File::pread(void* buf, std::size_t len, std::int64_t offset) {
  check_offset(offset);
  const int fd = checked_fd("pread");
  return checked(run("pread", rw_request(IoKind::kRead, fd, buf, len, offset)), "pread", "file");
}

std::size_t File::pwrite(const void* buf, std::size_t len, std::int64_t offset) {
  check_offset(offset);
  const int fd = checked_fd("pwrite");
  return checked(run("pwrite", rw_request(IoKind::kWrite, fd, buf, len, offset)), "pwrite", "file");
}

void File::fsync() {
  const IoRequest r{IoKind::kFsync, checked_fd("fsync")};
  checked(run("fsync", r), "fsync", "file");
}

Task<std::size_t> File::async_read(void* buf, std::size_t len) {
  const IoRequest r = rw_request(IoKind::kRead, checked_fd("read"), buf, len, -1);
  co_return checked(co_await async_run("read", r), "read", "file");
}

Task<std::size_t> File::async_write(const void* buf, std::size_t len) {
  const IoRequest r = rw_request(IoKind::kWrite, checked_fd("write"), buf, len, -1);
  co_return checked(co_await async_run("write", r), "write", "file");
}

Task<std::size_t> File::async_pread(void* buf, std::size_t len, std::int64_t offset) {
  check_offset(offset);
  const IoRequest r = rw_request(IoKind::kRead, checked_fd("pread"), buf, len, offset);
  co_return checked(co_await async_run("pread", r), "pread", "file");
}

Task<std::size_t> File::async_pwrite(const void* buf, std::size_t len, std::int64_t offset) {
  check_offset(offset);
  const IoRequest r = rw_request(IoKind::kWrite, checked_fd("pwrite"), buf, len, offset);
  co_return checked(co_await async_run("pwrite", r), "pwrite", "file");
}

Task<> File::async_fsync() {
  const IoRequest r{IoKind::kFsync, checked_fd("fsync")};
  checked(co_await async_run("fsync", r), "fsync", "file");
}

std::string read_file(const std::string& path) {
  File f = File::open(path, O_RDONLY);
  std::string out;
  for (;;) {
    const std::size_t at = out.size();
    out.resize(at + kChunk);
    const std::size_t n = f.pread(out.data() + at, kChunk, static_cast<std::int64_t>(at));
    out.resize(at + n);
    if (n == 0) return out;
  }
}

void write_file(const std::string& path, std::string_view data, mode_t mode) {
  File f = File::open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
  std::size_t done = 0;
  while (done < data.size()) {
    done +=
        progress(f.pwrite(data.data() + done, data.size() - done, static_cast<std::int64_t>(done)));
  }
  f.close();
}

Task<std::string> async_read_file(std::string path) {
  File f = co_await File::async_open(path, O_RDONLY);
  std::string out;
  for (;;) {
    const std::size_t at = out.size();
    out.resize(at + kChunk);
    const std::size_t n =
        co_await f.async_pread(out.data() + at, kChunk, static_cast<std::int64_t>(at));
    out.resize(at + n);
    if (n == 0) co_return out;
  }
}

Task<> async_write_file(std::string path, std::string data, mode_t mode) {
  File f = co_await File::async_open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
  std::size_t done = 0;
  while (done < data.size()) {
    done += progress(co_await f.async_pwrite(data.data() + done, data.size() - done,
                                             static_cast<std::int64_t>(done)));
  }
  f.close();
}

}  // namespace cogent::fs
