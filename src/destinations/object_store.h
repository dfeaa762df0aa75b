#pragma once
// The embedded object store: hydrant's own S3-compatible bucket storage under
// <data-dir>/s3. Buckets are folders; each object is a data file plus a small
// metadata file, both published atomically (write to a temp file, fsync, rename),
// so a reader never sees a half-written object, even after a crash.
// Bucket names and keys are validated as S3 does; no key can escape the store:
// files are named by the SHA-256 of the key, never by the key itself.
// Thread-safe. One ObjectStore per root at a time (Open takes an exclusive
// flock on <root>/.lock). The store must outlive the writers it hands out.
// Listing uses an in-memory sorted index per bucket, built at Open from the
// metadata files (about 300 bytes + key + user metadata per object).
// Layout, commit point and recovery: docs/object-store.md.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/byte_sink.h"
#include "common/status.h"

namespace hydrant::store {

struct ObjectMeta {
  std::string content_type = "application/octet-stream";
  std::string content_encoding;                  // "" = none
  std::map<std::string, std::string> user_meta;  // x-amz-meta-*, names lower-case
};

struct ObjectInfo {
  std::string key;
  uint64_t size = 0;
  std::string etag;  // quoted hex MD5 of the data, as S3: "\"...\""
  int64_t last_modified_ms = 0;
  ObjectMeta meta;
  std::string data_path;  // file holding the bytes (for streaming GetObject)
};

struct BucketInfo {
  std::string name;
  int64_t creation_ms = 0;
};

struct ListRequest {
  std::string prefix;
  std::string delimiter;    // "" = none
  std::string start_after;  // exclusive; continuation tokens map to this
  int max_keys = 1000;
};

struct ListResult {
  std::vector<ObjectInfo> objects;  // key order (UTF-8 bytes)
  std::vector<std::string> common_prefixes;
  bool truncated = false;
  std::string next_start_after;  // last key or prefix returned, when truncated
};

// An object being written. Write() any number of times, then Commit() to publish it
// atomically. Destroying an uncommitted writer discards everything written.
class ObjectWriter : public ByteSink {
 public:
  virtual Result<ObjectInfo> Commit() = 0;
};

// Where delivery writes objects: the embedded store here, a remote S3 later.
class ObjectSink {
 public:
  virtual ~ObjectSink() = default;
  // NotFound when the bucket does not exist (Firehose's S3.NoSuchBucket).
  virtual Result<std::unique_ptr<ObjectWriter>> BeginPut(std::string_view bucket,
                                                         std::string_view key,
                                                         const ObjectMeta& meta) = 0;
};

// S3's rules: 3-63 chars, lower-case letters, digits, '.', '-', starts and ends with
// a letter or digit, no "..", not an IP address, no xn-- prefix / -s3alias suffix.
bool IsValidBucketName(std::string_view name);
// 1-1024 bytes of valid UTF-8, no NUL. Segments such as "..", "" (from "//") or a
// leading "/" are valid S3 keys and are stored safely (the path is a hash).
// Returns the error message, or nullopt when valid.
std::optional<std::string> ValidateKey(std::string_view key);

class ObjectStore final : public ObjectSink {
 public:
  // Opens (creating if needed) the store rooted at `root`; removes leftover temp files.
  static Result<std::unique_ptr<ObjectStore>> Open(const std::string& root);

  Status CreateBucket(std::string_view name);  // AlreadyExists if it exists
  // NotFound; InvalidArgument ("BucketNotEmpty") if not empty.
  Status DeleteBucket(std::string_view name);
  bool BucketExists(std::string_view name) const;
  std::vector<BucketInfo> ListBuckets() const;

  Result<std::unique_ptr<ObjectWriter>> BeginPut(std::string_view bucket, std::string_view key,
                                                 const ObjectMeta& meta) override;
  Result<ObjectInfo> PutObject(std::string_view bucket, std::string_view key, std::string_view data,
                               const ObjectMeta& meta);
  Result<ObjectInfo> HeadObject(std::string_view bucket, std::string_view key) const;
  Status DeleteObject(std::string_view bucket, std::string_view key);  // OK if absent
  Result<ListResult> List(std::string_view bucket, const ListRequest& req) const;

  const std::string& root() const { return root_; }
  ~ObjectStore() override;

 private:
  struct Entry;   // one object in a bucket's index
  struct Bucket;  // a bucket's index and its lock
  class Writer;   // the ObjectWriter handed out by BeginPut

  ObjectStore(std::string root, int lock_fd);
  Status Load();
  Status LoadBucket(const std::string& name, Bucket* bucket);
  // Publishes a committed writer's temp file as `key` (the commit point).
  Result<ObjectInfo> Publish(const std::string& bucket, const std::string& key,
                             const std::string& tmp_data, uint64_t size, const std::string& md5,
                             const ObjectMeta& meta);
  std::string NewTempPath(std::string_view suffix);
  uint64_t NewId();
  std::string BucketDir(std::string_view bucket) const;
  ObjectInfo MakeInfo(std::string_view bucket, const std::string& key, const Entry& e) const;

  std::string root_;
  int lock_fd_ = -1;
  mutable std::shared_mutex mu_;  // guards buckets_ (the map; each Bucket has its own lock)
  std::map<std::string, std::unique_ptr<Bucket>, std::less<>> buckets_;
};

}  // namespace hydrant::store
