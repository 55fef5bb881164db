// Copying a folder tree with a pool of greenlets. A cogent::Pool of N greenlets copies N files at
// a time; pool.spawn() suspends main() while all N are busy, so the copy never has more than N
// files open however large the tree. Each file streams through a 256 KiB buffer with
// cogent::fs::File, whose reads and writes let the other copies (and the progress bar) run while
// the disk works. A separate greenlet redraws a progress bar on stderr every 100 ms: in place
// with '\r' on a terminal, as one final line otherwise.
//
// Directories are created as they are found (std::filesystem), regular files are copied, and
// anything else (symlinks, sockets, devices) is skipped and counted.
//
//   folder_copy SRC DST [--jobs N]          (N files at a time, default 8)

#include <sys/types.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <cogent/cogent.hpp>
#include <cogent/pool.hpp>

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t kChunk = 256 * 1024;

struct Job {
  fs::path from, to;
};

struct Progress {
  std::uintmax_t total_bytes = 0;
  std::uintmax_t copied_bytes = 0;
  long total_files = 0;
  long copied_files = 0;
  bool live = false;  // stderr is a terminal: redraw the bar in place

  void draw(bool final) const {
    const int percent = total_bytes == 0 ? 100 : static_cast<int>(100 * copied_bytes / total_bytes);
    const std::string bar = std::string(percent / 5, '#') + std::string(20 - percent / 5, '.');
    std::fprintf(stderr, "%s[%s] %3d%%  %ld/%ld files  %.1f/%.1f MiB", live ? "\r" : "",
                 bar.c_str(), percent, copied_files, total_files, copied_bytes / 1048576.0,
                 total_bytes / 1048576.0);
    if (final) std::fputc('\n', stderr);
  }
};

void copy_file(const fs::path& from, const fs::path& to, Progress& progress) {
  const auto mode = static_cast<mode_t>(fs::status(from).permissions() & fs::perms::all);
  auto in = cogent::fs::File::open(from, O_RDONLY);
  auto out = cogent::fs::File::open(to, O_WRONLY | O_CREAT | O_TRUNC, mode);
  std::vector<char> buffer(kChunk);
  for (;;) {
    const std::size_t n = in.read(buffer.data(), buffer.size());
    if (n == 0) break;
    for (std::size_t done = 0; done < n;) done += out.write(buffer.data() + done, n - done);
    progress.copied_bytes += n;
  }
  out.close();  // reports a failed write-back instead of losing it in a destructor
  ++progress.copied_files;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string_view> paths;
  long jobs = 8;
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--jobs" && i + 1 < argc) {
      jobs = std::atol(argv[++i]);
    } else {
      paths.push_back(argv[i]);
    }
  }
  if (paths.size() != 2 || jobs <= 0) {
    std::fprintf(stderr, "usage: folder_copy SRC DST [--jobs N]\n");
    return 2;
  }
  const fs::path src(paths[0]), dst(paths[1]);

  try {
    // First the walk: create the directories, list the files (so the bar knows the total).
    std::vector<Job> files;
    Progress progress;
    long skipped = 0;
    fs::create_directories(dst);
    for (const auto& entry : fs::recursive_directory_iterator(src)) {
      const fs::path to = dst / fs::relative(entry.path(), src);
      const auto type = entry.symlink_status().type();  // a symlink is not followed
      if (type == fs::file_type::directory) {
        fs::create_directories(to);
      } else if (type == fs::file_type::regular) {
        files.push_back({entry.path(), to});
        progress.total_bytes += entry.file_size();
      } else {
        ++skipped;
      }
    }
    progress.total_files = static_cast<long>(files.size());

    progress.live = ::isatty(STDERR_FILENO) != 0;
    auto bar = cogent::spawn([&] {
      for (;;) {
        if (progress.live) progress.draw(false);
        cogent::sleep(100ms);
      }
    });

    cogent::Pool pool(static_cast<std::size_t>(jobs));
    std::vector<cogent::Greenlet<void>> copies;
    for (const Job& job : files) {
      // Waits here while all `jobs` greenlets are busy.
      copies.push_back(pool.spawn(copy_file, job.from, job.to, std::ref(progress)));
    }
    pool.join();
    bar.kill();
    progress.draw(true);
    for (const auto& copy : copies) copy.get();  // rethrows the first failure, if any

    std::printf("copied %ld files, %ju bytes\n", progress.copied_files, progress.copied_bytes);
    std::printf("skipped %ld entries that are neither files nor directories\n", skipped);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "folder_copy: %s\n", e.what());
    return 1;
  }
  return 0;
}
