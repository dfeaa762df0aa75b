#pragma once
// The sink interface: where delivery writes objects (ObjectSink), the writer a sink
// hands out for one object (ObjectWriter), and the descriptions they exchange
// (ObjectMeta, ObjectInfo). Implemented by the embedded store
// (destinations/object_store.h), remote S3 (remote/remote_s3_sink.h) and
// RoutingSink (destinations/routing_sink.h). Pure interfaces: no I/O here.

#include <cstdint>
#include <map>
#include <memory>
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
  // Per-delivery settings a remote sink needs (the embedded store ignores them and
  // does not store them): the destination's RoleARN, assumed with STS when the
  // bucket's remote is configured to; the SSE-KMS key (EncryptionConfiguration's
  // AWSKMSKeyARN; "" = no SSE-KMS headers).
  std::string role_arn;
  std::string sse_kms_key_id;
  // How the stored bytes are encrypted (server/sse_format.h's Record: the
  // algorithm, the KMS key, the wrapped data key); "" = stored as given. The
  // store keeps it with the object and its upload and never interprets it.
  std::string encryption;
};

struct ObjectInfo {
  std::string key;
  uint64_t size = 0;
  // Quoted, as S3: "\"<hex MD5 of the data>\"", or for an object made by a
  // multipart upload "\"<hex MD5 of the parts' binary MD5s>-<part count>\"".
  std::string etag;
  int64_t last_modified_ms = 0;
  ObjectMeta meta;
  std::string data_path;  // file holding the bytes (for streaming GetObject)
  // The sizes of the parts, in order, for an object made by a multipart upload;
  // empty otherwise. (Filled by List only for encrypted objects.)
  std::vector<uint64_t> part_sizes;
};

// An object being written. Write() any number of times, then Commit() to publish it
// atomically. Destroying an uncommitted writer discards everything written.
class ObjectWriter : public ByteSink {
 public:
  virtual Result<ObjectInfo> Commit() = 0;
};

// Where delivery writes objects: the embedded store, a remote S3 (remote/), or a
// RoutingSink choosing between them per bucket. Errors of BeginPut, the writer's
// Write/Commit and CheckAccess carry Firehose's error code (destinations/sink_errors.h:
// FirehoseErrorCode). A failed write leaves no object behind, so the caller can
// retry the same key. Implementations are thread-safe.
class ObjectSink {
 public:
  virtual ~ObjectSink() = default;
  // NotFound when the bucket does not exist (Firehose's S3.NoSuchBucket).
  virtual Result<std::unique_ptr<ObjectWriter>> BeginPut(std::string_view bucket,
                                                         std::string_view key,
                                                         const ObjectMeta& meta) = 0;
  // A real probe of what delivery needs, with the credentials `meta` selects: list
  // the bucket, write a small probe object (kProbeKeyPrefix...), delete it. The
  // first failure, with its Firehose error code.
  virtual Status CheckAccess(std::string_view bucket, const ObjectMeta& meta) = 0;
  // Whether writing an object of `bucket` puts its bytes on this machine's disk
  // (the embedded store), beside the stream logs' fdatasync: delivery paces such
  // writes (docs/architecture.md, "Object writes and the log's fdatasync").
  virtual bool WritesLocalDisk(std::string_view bucket) const {
    (void)bucket;
    return false;
  }
};

// Probe objects written by CheckAccess are named kProbeKeyPrefix + a random suffix.
inline constexpr std::string_view kProbeKeyPrefix = "hydrant-access-probe-";

}  // namespace hydrant::store
