#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cogent/cogent.hpp>
#include <cstdlib>
#include <string>
#include <system_error>

#include "support/backend_fixture.hpp"
#include "support/system_error_of.hpp"

using namespace std::chrono_literals;
namespace fs = cogent::fs;
using cogent::test::system_error_of;

namespace {

/// A fresh directory under TMPDIR, removed with what is in it.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    path_ = std::string(base ? base : "/tmp") + "/cogent-fs-XXXXXX";
    if (::mkdtemp(path_.data()) == nullptr) throw std::system_error(errno, std::generic_category());
  }
  ~TempDir() { std::system(("rm -rf '" + path_ + "'").c_str()); }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

std::string pattern(std::size_t n) {
  std::string s(n, '\0');
  std::uint32_t x = 2463534242u;
  for (auto& c : s) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c = static_cast<char>(x);
  }
  return s;
}

}  // namespace

TEST_CASE("write_file then read_file returns the same bytes", "[fs]") {
  TempDir dir;
  cogent::test::on_each_backend([&] {
    for (std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{4097},
                             std::size_t{(1 << 20) + 3}, std::size_t{3 << 20}}) {
      const std::string data = pattern(size);
      const std::string path = dir.file("f" + std::to_string(size));
      fs::write_file(path, data);
      CHECK(fs::read_file(path) == data);
    }
  });
}

TEST_CASE("read_file of a missing file is ENOENT; of an empty file, empty", "[fs]") {
  TempDir dir;
  cogent::test::on_each_backend([&] {
    CHECK(system_error_of([&] { fs::read_file(dir.file("missing")); }) == ENOENT);
    CHECK(system_error_of([&] { fs::File::open(dir.file("missing")); }) == ENOENT);
    fs::write_file(dir.file("empty"), "");
    CHECK(fs::read_file(dir.file("empty")).empty());
  });
}

TEST_CASE("pread and pwrite work at offsets and leave the position alone", "[fs]") {
  TempDir dir;
  cogent::test::on_each_backend([&] {
    auto f = fs::File::open(dir.file("p"), O_RDWR | O_CREAT | O_TRUNC);
    CHECK(f.write("0123456789", 10) == 10);
    CHECK(f.pwrite("AB", 2, 3) == 2);
    char buf[16] = {};
    CHECK(f.pread(buf, 4, 2) == 4);
    CHECK(std::string(buf, 4) == "2AB5");
    CHECK(f.write("xy", 2) == 2);  // the position is still 10
    CHECK(f.pread(buf, 16, 0) == 12);
    CHECK(std::string(buf, 12) == "012AB56789xy");
    CHECK(f.pread(buf, 16, 100) == 0);  // past the end
    f.fsync();
    f.close();
    CHECK_FALSE(f.is_open());
    CHECK(system_error_of([&] { f.read(buf, 1); }) == EBADF);
    CHECK_THROWS_AS(fs::File::open(dir.file("p")).pread(buf, 1, -1), std::invalid_argument);
  });
}

TEST_CASE("tasks use the async_ faces of files", "[fs][task]") {
  TempDir dir;
  cogent::test::on_each_backend([&] {
    const std::string data = pattern((2 << 20) + 11);
    auto body = [&]() -> cogent::Task<std::string> {
      co_await fs::async_write_file(dir.file("t"), data);
      auto f = co_await fs::File::async_open(dir.file("t"), O_RDWR);
      char head[5];
      const std::size_t n = co_await f.async_pread(head, 5, 0);
      co_await f.async_pwrite("HELLO", 5, 0);
      co_await f.async_fsync();
      std::string whole = co_await fs::async_read_file(dir.file("t"));
      co_return std::string(head, n) + "|" + whole.substr(0, 5) + "|" +
          std::to_string(whole.size());
    };
    CHECK(cogent::spawn(body()).get() ==
          data.substr(0, 5) + "|HELLO|" + std::to_string(data.size()));
  });
}

TEST_CASE("a read that waits (a FIFO) honours Timeout and kill", "[fs][timeout]") {
  TempDir dir;
  const std::string fifo = dir.file("fifo");
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  cogent::test::on_each_backend([&] {
    auto f = fs::File::open(fifo, O_RDWR);  // O_RDWR: opening never waits for a writer
    auto writer = fs::File::open(fifo, O_WRONLY);
    // On epoll the read runs on a pool thread and cannot be interrupted: it ends when data
    // comes, then the Timeout is raised. On io_uring it is cancelled in the ring at once.
    auto feeder = cogent::spawn([&] {
      cogent::sleep(50ms);
      writer.write("z", 1);
    });
    char c;
    bool timed_out = false;
    try {
      cogent::Timeout t(10ms);
      f.read(&c, 1);
    } catch (const cogent::TimeoutError&) {
      timed_out = true;
    }
    CHECK(timed_out);
    feeder.join();
    // Where the read was cancelled (io_uring) the byte is still in the FIFO: take it.
    if (cogent::Hub::current().backend_name() == "uring") {
      CHECK(f.read(&c, 1) == 1);
    }

    bool killed = false;
    auto reader = cogent::spawn([&] {
      try {
        f.read(&c, 1);
      } catch (const cogent::GreenletExit&) {
        killed = true;
        throw;
      }
    });
    cogent::sleep(5ms);
    auto unblock = cogent::spawn([&] {
      cogent::sleep(50ms);
      writer.write("z", 1);
    });
    reader.kill();
    CHECK(killed);
    unblock.join();
  });
}
