#pragma once
// The embedded object store: hydrant's own S3-compatible bucket storage under
// <data-dir>/s3. Buckets are folders; each object is a data file plus a small
// metadata file, both published atomically (write to a temp file, fsync, rename),
// so a reader never sees a half-written object, even after a crash.
// Bucket names and keys are validated as S3 does; no key can escape the store.
// Thread-safe. Layout: docs/formats.md.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
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
  std::string etag;             // quoted hex MD5 of the data, as S3: "\"...\""
  int64_t last_modified_ms = 0;
  ObjectMeta meta;
  std::string data_path;        // file holding the bytes (for streaming GetObject)
};

struct BucketInfo {
  std::string name;
  int64_t creation_ms = 0;
};

struct ListRequest {
  std::string prefix;
  std::string delimiter;          // "" = none
  std::string start_after;        // exclusive; continuation tokens map to this
  int max_keys = 1000;
};

struct ListResult {
  std::vector<ObjectInfo> objects;          // key order (UTF-8 bytes)
  std::vector<std::string> common_prefixes;
  bool truncated = false;
  std::string next_start_after;             // last key or prefix returned, when truncated
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
// 1-1024 bytes of valid UTF-8, no NUL; and no segment that would escape the store.
// Returns the error message, or nullopt when valid.
std::optional<std::string> ValidateKey(std::string_view key);

class ObjectStore final : public ObjectSink {
 public:
  // Opens (creating if needed) the store rooted at `root`; removes leftover temp files.
  static Result<std::unique_ptr<ObjectStore>> Open(const std::string& root);

  Status CreateBucket(std::string_view name);   // AlreadyExists if it exists
  Status DeleteBucket(std::string_view name);   // NotFound; InvalidArgument ("BucketNotEmpty") if not empty
  bool BucketExists(std::string_view name) const;
  std::vector<BucketInfo> ListBuckets() const;

  Result<std::unique_ptr<ObjectWriter>> BeginPut(std::string_view bucket, std::string_view key,
                                                 const ObjectMeta& meta) override;
  Result<ObjectInfo> PutObject(std::string_view bucket, std::string_view key,
                               std::string_view data, const ObjectMeta& meta);
  Result<ObjectInfo> HeadObject(std::string_view bucket, std::string_view key) const;
  Status DeleteObject(std::string_view bucket, std::string_view key);  // OK if absent
  Result<ListResult> List(std::string_view bucket, const ListRequest& req) const;

  const std::string& root() const { return root_; }
  ~ObjectStore() override;

 private:
  explicit ObjectStore(std::string root);
  std::string root_;
};

}  // namespace hydrant::store
