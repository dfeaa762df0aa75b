#pragma once
// Internal to the embedded object store's implementation (object_store.cc,
// object_store_recovery.cc and multipart.cc; not for other modules): the structures
// behind ObjectStore's private declarations, and the small helpers they share.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "destinations/object_store.h"
#include "destinations/store_format.h"

namespace hydrant::store {

inline int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

inline bool StartsWith(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.compare(0, p.size(), p) == 0;
}

// S3's ETag: the MD5, or for a multipart object the MD5 of the parts' MD5s
// followed by "-<part count>"; quoted.
inline std::string EtagOf(const std::string& md5, size_t parts) {
  std::string e = "\"" + store_format::HexOf(md5);
  if (parts > 0) e += "-" + std::to_string(parts);
  return e + "\"";
}

struct ObjectStore::Upload {
  struct Part {
    uint64_t size = 0;
    std::string md5;  // 16 raw bytes
    uint64_t data_id = 0;
    int64_t mtime_ms = 0;
  };
  // Set at creation, never changed: readable without `mu`.
  std::string id, bucket, key;
  int64_t initiated_ms = 0;
  ObjectMeta meta;
  // Held while a part is published and through Complete/Abort, so parts do not
  // change under a completion and nothing is added after the upload is gone.
  std::mutex mu;
  std::atomic<bool> gone{false};  // completed, aborted or its bucket deleted
  std::map<int, Part> parts;      // guarded by mu
};

// A bucket's objects are in the index (object_store_index.h); this is what the
// store keeps in memory per bucket.
struct ObjectStore::Bucket {
  int64_t creation_ms = 0;
  // The bucket's documents (kBucketPolicyFile, kBucketEncryptionFile), by file
  // name; absent = none. Each replaced whole under docs_mu.
  std::map<std::string, std::shared_ptr<const std::string>, std::less<>> docs;
  mutable std::mutex docs_mu;
  // Held exclusively from a data file's rename to its index row's commit, while a
  // row is removed, and while the sweep judges a data file; shared while a row is
  // read and its data file opened (so the file opened is the one the row names).
  mutable std::shared_mutex mu;
};

}  // namespace hydrant::store
