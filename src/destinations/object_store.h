#pragma once
// The embedded object store: hydrant's own S3-compatible bucket storage under
// <data-dir>/s3. Buckets are folders; each object is a data file (written to a
// temp file, fsynced, renamed into place) plus a row in the store's index,
// committed after it, so a reader never sees a half-written object, even after a
// crash.
// Bucket names and keys are validated as S3 does; no key can escape the store:
// files are named by the SHA-256 of the key, never by the key itself.
// Thread-safe. One ObjectStore per root at a time (Open takes an exclusive
// flock on <root>/.lock). The store must outlive the writers it hands out.
// Objects' descriptions live in an index on disk (destinations/object_store_index.h,
// SQLite), read lazily and paged: Open reads nothing per object, and memory does
// not grow with the number of objects. The index row is an object's commit point.
// After an unclean shutdown, data files no row names (puts or deletes cut short)
// are removed by a background sweep; Open does not wait for it.
// Multipart uploads (S3's CreateMultipartUpload ... CompleteMultipartUpload) keep
// their parts in <root>/.uploads/<upload id>/, outside every bucket, until they are
// completed (the parts are concatenated into one object, published like a put) or
// aborted. Uploads survive a reopen; deleting a bucket discards its uploads.
// The on-disk format: destinations/store_format.h. Layout, commit point and
// recovery: docs/object-store.md. Multipart uploads are implemented in
// destinations/multipart.cc, temp files and their bounded write-back in
// destinations/temp_file.h.

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "common/byte_sink.h"
#include "common/status.h"
#include "common/unique_fd.h"
#include "destinations/object_sink.h"
#include "destinations/s3_names.h"

namespace hydrant {
class Env;
}

namespace hydrant::store {

class ObjectIndex;
struct IndexedObject;

// An object's description and its data file, opened together under the bucket's
// lock: an object overwritten or deleted afterwards is still read whole, as it was.
struct OpenedObject {
  ObjectInfo info;
  UniqueFd data;
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

// --- multipart uploads ---------------------------------------------------------

inline constexpr int kMaxPartNumber = 10000;
// Every part of a completed upload but the last must have at least this many bytes.
inline constexpr uint64_t kMinPartSize = 5ull << 20;

// The multipart calls fail with S3's own error codes where S3 names one: the
// Status message is then "<code>: <text>" (see SplitErrorCode). NoSuchUpload is
// NotFound; InvalidPart, InvalidPartOrder, EntityTooSmall and MalformedXML are
// InvalidArgument. A missing bucket is NotFound without a code prefix.
inline constexpr char kNoSuchUpload[] = "NoSuchUpload";
inline constexpr char kInvalidPart[] = "InvalidPart";
inline constexpr char kInvalidPartOrder[] = "InvalidPartOrder";
inline constexpr char kEntityTooSmall[] = "EntityTooSmall";
inline constexpr char kMalformedXml[] = "MalformedXML";
// {code, text} of a status made as above; code is "" when the message has no
// known code prefix (text is then the whole message).
std::pair<std::string, std::string> SplitErrorCode(const Status& st);

struct UploadInfo {
  std::string upload_id;  // 32 lower-case hex digits; sorts in initiation order
  std::string key;
  int64_t initiated_ms = 0;
  ObjectMeta meta;  // given to the object when the upload is completed
};

struct PartInfo {
  int part_number = 0;
  uint64_t size = 0;
  std::string etag;  // quoted hex MD5 of the part
  int64_t last_modified_ms = 0;
};

// One entry of a CompleteMultipartUpload request.
struct CompletedPart {
  int part_number = 0;
  std::string etag;  // quoted or not
};

struct ListPartsRequest {
  int part_number_marker = 0;  // parts after this one
  int max_parts = 1000;
};

struct ListPartsResult {
  UploadInfo upload;
  std::vector<PartInfo> parts;  // ascending part numbers
  bool truncated = false;
  int next_part_number_marker = 0;  // the last part returned
};

struct ListUploadsRequest {
  std::string prefix;
  std::string delimiter;         // "" = none
  std::string key_marker;        // uploads of later keys (or, with upload_id_marker,
  std::string upload_id_marker;  //   of this key with a later id)
  int max_uploads = 1000;        // counts uploads and common prefixes together
};

struct ListUploadsResult {
  std::vector<UploadInfo> uploads;  // by key (UTF-8 bytes), then initiation
  std::vector<std::string> common_prefixes;
  bool truncated = false;
  std::string next_key_marker;        // when truncated: last key or prefix returned
  std::string next_upload_id_marker;  // when truncated: last upload id returned, if any
};

// A part being uploaded: Write() its bytes (to a temp file), then Commit() makes
// it durable (fsync) and part of the upload, replacing an earlier upload of the
// same part number. Destroying an uncommitted writer discards it.
class PartWriter : public ByteSink {
 public:
  virtual Result<PartInfo> Commit() = 0;
};

class ObjectStore final : public ObjectSink {
 public:
  // Opens (creating if needed) the store rooted at `root`; removes leftover temp files.
  // `env` (common/env.h; null = Env::Default()) carries the object files' writes,
  // write-back and fsyncs; tests pass a FaultEnv. It must outlive the store.
  static Result<std::unique_ptr<ObjectStore>> Open(const std::string& root, Env* env = nullptr);

  Status CreateBucket(std::string_view name);  // AlreadyExists if it exists
  // NotFound; InvalidArgument ("BucketNotEmpty") if not empty.
  Status DeleteBucket(std::string_view name);
  bool BucketExists(std::string_view name) const;
  // The bucket's policy (S3 Put/Get/DeleteBucketPolicy), kept in <bucket>/.policy:
  // `json` is stored as given (validated by the caller); "" removes it. NotFound
  // when the bucket does not exist.
  Status SetBucketPolicy(std::string_view bucket, std::string_view json);
  // Null when the bucket has none; NotFound when the bucket does not exist.
  Result<std::shared_ptr<const std::string>> BucketPolicy(std::string_view bucket) const;
  // The bucket's default encryption (S3 Put/Get/DeleteBucketEncryption), kept in
  // <bucket>/.encryption as the caller encodes it; "" removes it. As the policy.
  Status SetBucketEncryption(std::string_view bucket, std::string_view config);
  Result<std::shared_ptr<const std::string>> BucketEncryption(std::string_view bucket) const;
  std::vector<BucketInfo> ListBuckets() const;

  Result<std::unique_ptr<ObjectWriter>> BeginPut(std::string_view bucket, std::string_view key,
                                                 const ObjectMeta& meta) override;
  Status CheckAccess(std::string_view bucket, const ObjectMeta& meta) override;
  bool WritesLocalDisk(std::string_view) const override { return true; }
  Result<ObjectInfo> PutObject(std::string_view bucket, std::string_view key, std::string_view data,
                               const ObjectMeta& meta);
  Result<ObjectInfo> HeadObject(std::string_view bucket, std::string_view key) const;
  // HeadObject plus the data file, open for reading (GetObject, CopyObject).
  Result<OpenedObject> OpenObject(std::string_view bucket, std::string_view key) const;
  Status DeleteObject(std::string_view bucket, std::string_view key);  // OK if absent
  Result<ListResult> List(std::string_view bucket, const ListRequest& req) const;

  // Multipart uploads. Every call names the bucket, key and upload id as S3's
  // requests do; an id that exists for another bucket or key is NoSuchUpload.
  // NotFound (no code) when the bucket does not exist.
  Result<UploadInfo> CreateMultipartUpload(std::string_view bucket, std::string_view key,
                                           const ObjectMeta& meta);
  // part_number 1..kMaxPartNumber (else InvalidArgument). The upload is checked
  // again at Commit (it may have been completed or aborted meanwhile).
  Result<std::unique_ptr<PartWriter>> BeginUploadPart(std::string_view bucket, std::string_view key,
                                                      std::string_view upload_id, int part_number);
  Result<PartInfo> UploadPart(std::string_view bucket, std::string_view key,
                              std::string_view upload_id, int part_number, std::string_view data);
  // Concatenates the listed parts (ascending, ETags matching the uploaded parts,
  // all but the last at least kMinPartSize) into the object `key`, published as a
  // put is; then the upload and all its parts, listed or not, are gone. On error
  // the upload is unchanged. Streams file to file: memory does not grow with size.
  Result<ObjectInfo> CompleteMultipartUpload(std::string_view bucket, std::string_view key,
                                             std::string_view upload_id,
                                             const std::vector<CompletedPart>& parts);
  Status AbortMultipartUpload(std::string_view bucket, std::string_view key,
                              std::string_view upload_id);
  Result<ListPartsResult> ListParts(std::string_view bucket, std::string_view key,
                                    std::string_view upload_id, const ListPartsRequest& req) const;
  Result<ListUploadsResult> ListMultipartUploads(std::string_view bucket,
                                                 const ListUploadsRequest& req) const;

  const std::string& root() const { return root_; }
  // Blocks until the background work Open started (the sweep of orphaned data
  // files after an unclean shutdown or an import) has finished. Tests and tools.
  void WaitForSweep();
  ~ObjectStore() override;

 private:
  struct Bucket;  // a bucket's creation time and its lock
  class Writer;   // the ObjectWriter handed out by BeginPut
  struct Upload;  // an in-progress multipart upload and its parts
  class PartWriterImpl;

  ObjectStore(std::string root, int lock_fd, Env* env);
  Status Load();
  // A bucket document (the policy, the default encryption): set ("" removes) and read.
  Status SetBucketDocument(std::string_view name, const char* file, std::string_view text);
  Result<std::shared_ptr<const std::string>> BucketDocument(std::string_view name,
                                                            const char* file) const;
  // The creation time of the bucket folder `name`.
  int64_t LoadBucketTime(const std::string& name) const;
  // Imports a bucket of a store that kept one metadata file per object into the
  // index, then marks it indexed (object_store_recovery.cc).
  Status ImportLegacyBucket(const std::string& name);
  // Removes data files no index row names, and leftover per-object metadata files,
  // in every bucket; stops early when stop_sweep_ is set. Runs on sweeper_.
  void Sweep();
  // Publishes a committed writer's temp file as `key` (the commit point).
  // `part_sizes` is empty for a plain put; for a completed multipart upload,
  // `md5` is the MD5 of the parts' MD5s.
  Result<ObjectInfo> Publish(const std::string& bucket, const std::string& key,
                             const std::string& tmp_data, uint64_t size, const std::string& md5,
                             const ObjectMeta& meta, std::vector<uint64_t> part_sizes = {});
  Status LoadUploads();
  // The upload `id` of bucket/key, or NotFound (bucket: no code; upload: NoSuchUpload).
  Result<std::shared_ptr<Upload>> FindUpload(std::string_view bucket, std::string_view key,
                                             std::string_view id) const;
  // Makes a written part (its synced temp file) part `number` of `up`.
  Result<PartInfo> PublishPart(const std::shared_ptr<Upload>& up, int number,
                               const std::string& tmp_data, uint64_t size, const std::string& md5);
  // Forgets `up` (caller holds up->mu or owns mu_ exclusively) and removes its folder.
  void DropUpload(Upload* up);
  std::string UploadDir(std::string_view id) const;
  std::string NewTempPath(std::string_view suffix);
  uint64_t NewId();
  std::string BucketDir(std::string_view bucket) const;
  ObjectInfo MakeInfo(std::string_view bucket, IndexedObject&& e) const;
  // HeadObject (open_data false: no file opened) and OpenObject.
  Result<OpenedObject> Find(std::string_view bucket, std::string_view key, bool open_data) const;

  std::string root_;
  int lock_fd_ = -1;
  Env* env_;  // object data writes (TempFile)
  std::unique_ptr<ObjectIndex> index_;
  std::thread sweeper_;  // Sweep, when Open found the last shutdown unclean
  std::atomic<bool> stop_sweep_{false};
  std::atomic<bool> sweep_done_{true};  // nothing left to sweep (the clean marker may be written)
  mutable std::shared_mutex mu_;  // guards buckets_ (the map; each Bucket has its own lock)
  std::map<std::string, std::unique_ptr<Bucket>, std::less<>> buckets_;
  // Lock order: Upload::mu, then mu_, then a Bucket's mu, then uploads_mu_.
  mutable std::mutex uploads_mu_;  // guards uploads_ (each Upload has its own lock)
  std::map<std::string, std::shared_ptr<Upload>, std::less<>> uploads_;  // by upload id
};

}  // namespace hydrant::store
