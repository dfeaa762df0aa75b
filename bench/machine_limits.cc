// hydrant_machine_limits: the hardware ceilings the report compares hydrant to.
//   seq-write: sequential write bandwidth to DIR with an fdatasync every
//              --sync-mib MiB (hydrant's log writes then syncs; its group commit
//              syncs about once per round), file removed afterwards;
//   fdatasync latency: 4 KiB appended then fdatasync, 300 times back to back
//              (p50, p99); and 100 B appended then fdatasync at --paced-rate per
//              second for --paced-seconds (p50, p99: the disk's part of a PutRecord
//              at low load, measured the same way: at a rate, for seconds);
//   memcpy:    single-thread memcpy bandwidth on buffers larger than the caches.
// Prints one JSON object: {"seq_write_fdatasync_mib_s":..., "memcpy_gib_s":...}.
//
// Usage: hydrant_machine_limits DIR [--write-mib N] [--sync-mib N] [--paced-rate N]
//                               [--paced-seconds N]

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: hydrant_machine_limits DIR [--write-mib N] [--sync-mib N] "
                 "[--paced-rate N] [--paced-seconds N]\n");
    return 2;
  }
  std::string dir = argv[1];
  size_t write_mib = 1024, sync_mib = 4, paced_rate = 200, paced_seconds = 6;
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--write-mib") write_mib = std::strtoull(argv[i + 1], nullptr, 10);
    else if (a == "--sync-mib") sync_mib = std::strtoull(argv[i + 1], nullptr, 10);
    else if (a == "--paced-rate") paced_rate = std::max<size_t>(1, std::strtoull(argv[i + 1], nullptr, 10));
    else if (a == "--paced-seconds") paced_seconds = std::strtoull(argv[i + 1], nullptr, 10);
  }
  using Clock = std::chrono::steady_clock;

  // Sequential write + fdatasync.
  std::string path = dir + "/hydrant-machine-limits.tmp";
  int fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0644);
  if (fd < 0) {
    std::perror("open");
    return 1;
  }
  std::vector<char> chunk(1 << 20);
  for (size_t i = 0; i < chunk.size(); ++i) chunk[i] = static_cast<char>(i * 2654435761u >> 13);
  auto t0 = Clock::now();
  for (size_t m = 0; m < write_mib; ++m) {
    if (::write(fd, chunk.data(), chunk.size()) != static_cast<ssize_t>(chunk.size())) {
      std::perror("write");
      return 1;
    }
    if ((m + 1) % sync_mib == 0) ::fdatasync(fd);
  }
  ::fdatasync(fd);
  double wsec = std::chrono::duration<double>(Clock::now() - t0).count();
  // Latency of one small append made durable (what a lone PutRecord waits for).
  ::ftruncate(fd, 0);
  ::lseek(fd, 0, SEEK_SET);  // ftruncate does not move the offset: append from 0
  std::vector<double> lat;
  for (int i = 0; i < 300; ++i) {
    auto s = Clock::now();
    if (::write(fd, chunk.data(), 4096) != 4096) break;
    ::fdatasync(fd);
    lat.push_back(std::chrono::duration<double, std::milli>(Clock::now() - s).count());
  }
  auto quantile = [](std::vector<double>& v, double p) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[static_cast<size_t>(p * static_cast<double>(v.size() - 1))];
  };
  const double burst_p50 = quantile(lat, 0.5), burst_p99 = quantile(lat, 0.99);
  // The same at a steady rate: 100 B appends, each made durable, on a schedule.
  ::ftruncate(fd, 0);
  ::lseek(fd, 0, SEEK_SET);  // ftruncate does not move the offset: append from 0
  std::vector<double> paced;
  const auto period = std::chrono::nanoseconds(1'000'000'000 / paced_rate);
  auto next = Clock::now();
  for (size_t i = 0; i < paced_rate * paced_seconds; ++i) {
    auto s = Clock::now();
    if (::write(fd, chunk.data(), 100) != 100) break;
    ::fdatasync(fd);
    paced.push_back(std::chrono::duration<double, std::milli>(Clock::now() - s).count());
    next += period;
    std::this_thread::sleep_until(next);
  }
  const double paced_p50 = quantile(paced, 0.5), paced_p99 = quantile(paced, 0.99);
  ::close(fd);
  ::unlink(path.c_str());

  // memcpy, 256 MiB buffers, repeated.
  const size_t n = 256u << 20;
  std::vector<char> src(n, 1), dst(n, 0);
  std::memcpy(dst.data(), src.data(), n);  // fault the pages in
  const int reps = 8;
  auto t1 = Clock::now();
  for (int r = 0; r < reps; ++r) {
    src[static_cast<size_t>(r)] = static_cast<char>(r);
    std::memcpy(dst.data(), src.data(), n);
  }
  double msec = std::chrono::duration<double>(Clock::now() - t1).count();
  volatile char sink = dst[reps];
  (void)sink;
  std::printf("{\"seq_write_fdatasync_mib_s\":%.1f,\"sync_every_mib\":%zu,\"written_mib\":%zu,"
              "\"memcpy_gib_s\":%.2f,\"fdatasync_4k_p50_ms\":%.3f,\"fdatasync_4k_p99_ms\":%.3f,"
              "\"fdatasync_paced_rate\":%zu,\"fdatasync_paced_p50_ms\":%.3f,"
              "\"fdatasync_paced_p99_ms\":%.3f}\n",
              write_mib / wsec, sync_mib, write_mib, reps * (n / double(1u << 30)) / msec,
              burst_p50, burst_p99, paced_rate, paced_p50, paced_p99);
  return 0;
}
