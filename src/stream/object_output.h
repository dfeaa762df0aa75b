#pragma once
// ObjectOutput: one object a delivery stage is writing, through the destination's
// compression into an ObjectSink. It is opened on its first byte, so an output that
// receives nothing (no failed records, say) writes nothing.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "api/destination_spec.h"
#include "codecs/codec.h"
#include "common/status.h"
#include "destinations/naming.h"
#include "destinations/object_store.h"

namespace hydrant::stream {

class ObjectOutput {
 public:
  // `sink` must outlive this object.
  ObjectOutput(store::ObjectSink* sink, const api::S3DestinationSpec& cfg, std::string key);

  // Encodes one record into the object (opening it first if need be).
  Status Append(std::string_view data);
  // Publishes the object (if anything was written).
  Status Commit();

  const std::string& key() const { return key_; }
  bool opened() const { return writer_ != nullptr; }
  uint64_t records() const { return records_; }
  uint64_t bytes() const { return bytes_; }

 private:
  store::ObjectSink* sink_;
  std::string bucket_, key_;
  codecs::Compression compression_;
  std::string extension_;
  std::string role_arn_, kms_key_arn_;  // for remote stores: AssumeRole, SSE-KMS
  std::unique_ptr<store::ObjectWriter> writer_;
  std::unique_ptr<codecs::Encoder> encoder_;
  uint64_t records_ = 0, bytes_ = 0;
};

// One object put's outcome (DeliveryToS3.Success / BackupToS3.Success = successes /
// attempts). Both counters move together once the outcome is known (not around the
// commit), so a sampler reading them between periods does not see a put in
// progress as a failed one.
void CountPut(std::atomic<uint64_t>& attempts, std::atomic<uint64_t>& successes, bool ok);

// What names an object of the stream (Firehose's object naming, docs/object-naming.md).
naming::ObjectNameInput NameInputFor(const std::string& stream, int64_t version,
                                     const api::S3DestinationSpec& cfg, int64_t oldest_ms);

}  // namespace hydrant::stream
