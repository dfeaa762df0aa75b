// hydrant_store_tool: builds and measures embedded object stores for the store
// benchmark (bench/store_index.py; bench/README.md, "Object store index").
//
//   hydrant_store_tool fill --root R --objects N [--bucket B] [--batch 20000]
//                          [--data-files 1|0]
//       Creates bucket B (default "big") in the store at R and N objects of 16 bytes
//       named like Firehose's delivered objects (<yyyy>/<mm>/<dd>/<hh>/stream-...).
//       Fast: the data files are written without fsync and the rows committed
//       --batch at a time through the index directly (one fsync per batch), as an
//       import does; the store is then opened and closed once, so it is clean.
//       --data-files 0 writes the rows only (start-up, listings and HEAD never read
//       data files; a million small files take minutes to create on a busy disk).
//   hydrant_store_tool puts --root R --objects N [--size B] [--threads T]
//       N PutObject calls through the public API (each durable as delivery's),
//       spread over T threads; prints {"puts":N,"ms_per_put":...,"puts_per_s":...}.
//
// Prints one JSON line. Not part of ctest.

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "destinations/object_store.h"
#include "destinations/object_store_index.h"
#include "destinations/store_format.h"

namespace {

using hydrant::store::IndexedObject;
using hydrant::store::ObjectIndex;
using hydrant::store::ObjectStore;

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "hydrant_store_tool: %s\n", what.c_str());
  std::exit(1);
}

// The i-th key: one hour folder per 3,600 objects, as a stream flushing every
// second writes them.
std::string KeyOf(uint64_t i) {
  using ull = unsigned long long;
  char buf[160];
  ull hour = i / 3600, month = 1 + (hour / 24 / 28) % 12, day = 1 + (hour / 24) % 28;
  std::snprintf(buf, sizeof(buf),
                "2026/%02llu/%02llu/%02llu/bench-1-2026-%02llu-%02llu-%02llu-%02llu-%02llu-"
                "%08llx-0000-0000-0000-%012llx",
                month, day, hour % 24, month, day, hour % 24, static_cast<ull>(i / 60 % 60),
                static_cast<ull>(i % 60), static_cast<ull>(i * 2654435761u & 0xffffffff),
                static_cast<ull>(i));
  return buf;
}

int Fill(const std::string& root, const std::string& bucket, uint64_t n, uint64_t batch,
         bool data_files) {
  double t0 = Now();
  {
    auto s = ObjectStore::Open(root);
    if (!s.ok()) Die(s.status().ToString());
    auto st = (*s)->CreateBucket(bucket);
    if (!st.ok() && st.code() != hydrant::StatusCode::kAlreadyExists) Die(st.ToString());
  }
  {
    auto index = ObjectIndex::Open(root + "/" + hydrant::store::store_format::kIndexFile);
    if (!index.ok()) Die(index.status().ToString());
    const std::string data = "0123456789abcdef";
    const std::string md5("\x4a\x3e\xd8\x14\x7e\x37\x87\x6a\xdc\x8f\x76\x32\x8e\x5a\xbc\xc1", 16);
    std::vector<IndexedObject> rows;
    for (uint64_t i = 0; i < n; ++i) {
      IndexedObject o;
      o.key = KeyOf(i);
      o.size = data.size();
      o.md5 = md5;
      o.mtime_ms = 1767225600000 + static_cast<int64_t>(i) * 1000;
      o.data_id = (i + 1) * 0x9E3779B97F4A7C15ull;
      auto kp = hydrant::store::store_format::PathsFor(root + "/" + bucket, o.key);
      std::string path = kp.Data(o.data_id);
      if (!data_files) {
        rows.push_back(std::move(o));
        if (rows.size() == batch || i + 1 == n) {
          if (auto st = (*index)->PutMany(bucket, rows); !st.ok()) Die(st.ToString());
          rows.clear();
        }
        continue;
      }
      int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fd < 0 && errno == ENOENT) {
        std::filesystem::create_directories(kp.shard_dir);
        fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      }
      if (fd < 0) Die("create " + path + ": " + std::strerror(errno));
      if (::write(fd, data.data(), data.size()) != static_cast<ssize_t>(data.size())) {
        Die("write " + path);
      }
      ::close(fd);
      rows.push_back(std::move(o));
      if (rows.size() == batch || i + 1 == n) {
        if (auto st = (*index)->PutMany(bucket, rows); !st.ok()) Die(st.ToString());
        rows.clear();
      }
    }
  }
  {
    // Opened once more and closed cleanly (no sweep at the next start).
    auto s = ObjectStore::Open(root);
    if (!s.ok()) Die(s.status().ToString());
    (*s)->WaitForSweep();
  }
  std::printf("{\"objects\":%llu,\"fill_s\":%.1f}\n", static_cast<unsigned long long>(n),
              Now() - t0);
  return 0;
}

int Puts(const std::string& root, uint64_t n, size_t size, int threads) {
  auto s = ObjectStore::Open(root);
  if (!s.ok()) Die(s.status().ToString());
  auto st = (*s)->CreateBucket("puts");
  if (!st.ok() && st.code() != hydrant::StatusCode::kAlreadyExists) Die(st.ToString());
  std::string data(size, 'x');
  std::atomic<uint64_t> next{0};
  std::atomic<bool> failed{false};
  double t0 = Now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (uint64_t i; (i = next++) < n;) {
        if (!(*s)->PutObject("puts", KeyOf(i), data, {}).ok()) failed = true;
      }
    });
  }
  for (auto& t : pool) t.join();
  double dt = Now() - t0;
  if (failed) Die("a put failed");
  std::printf("{\"puts\":%llu,\"threads\":%d,\"size\":%zu,\"ms_per_put\":%.3f,\"puts_per_s\":%.1f}\n",
              static_cast<unsigned long long>(n), threads, size, dt * 1000 * threads / n, n / dt);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) Die("usage: hydrant_store_tool fill|puts --root R --objects N ...");
  std::string mode = argv[1], root, bucket = "big";
  uint64_t n = 0, batch = 20000;
  size_t size = 1024;
  int threads = 1;
  bool data_files = true;
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--root") root = v;
    else if (k == "--objects") n = std::strtoull(v.c_str(), nullptr, 10);
    else if (k == "--bucket") bucket = v;
    else if (k == "--batch") batch = std::max<uint64_t>(1, std::strtoull(v.c_str(), nullptr, 10));
    else if (k == "--size") size = std::strtoull(v.c_str(), nullptr, 10);
    else if (k == "--threads") threads = std::max(1, std::atoi(v.c_str()));
    else if (k == "--data-files") data_files = v != "0";
    else Die("unknown option " + k);
  }
  if (root.empty() || n == 0) Die("--root and --objects are required");
  if (mode == "fill") return Fill(root, bucket, n, batch, data_files);
  if (mode == "puts") return Puts(root, n, size, threads);
  Die("unknown mode " + mode);
}
