#pragma once
// ControlPlane: the Firehose operations that manage streams (everything but
// PutRecord and PutRecordBatch, which sources/direct_put.h carries). Each takes an
// input that passed api::ValidateRequest and returns the response object or the
// API error to answer with; the HTTP layer (server/firehose_api.cc) only parses,
// validates, dispatches by name and serializes. Thread-safe: concurrent changes
// of one stream are serialized by DeliveryStream::LockForUpdate.

#include <optional>
#include <string_view>

#include <boost/json/object.hpp>

#include "api/errors.h"
#include "common/status.h"
#include "stream/probe.h"

namespace hydrant::stream {

class StreamRegistry;
struct StreamMeta;

class ControlPlane {
 public:
  using Result = api::ApiResult<boost::json::object>;
  explicit ControlPlane(StreamRegistry* registry) : registry_(registry) {}

  Result CreateDeliveryStream(const boost::json::object& in);
  Result DescribeDeliveryStream(const boost::json::object& in);
  Result ListDeliveryStreams(const boost::json::object& in);
  Result DeleteDeliveryStream(const boost::json::object& in);
  Result UpdateDestination(const boost::json::object& in);
  Result TagDeliveryStream(const boost::json::object& in);
  Result UntagDeliveryStream(const boost::json::object& in);
  Result ListTagsForDeliveryStream(const boost::json::object& in);
  Result StartDeliveryStreamEncryption(const boost::json::object& in);
  Result StopDeliveryStreamEncryption(const boost::json::object& in);

  // Where an operation's Firehose metric (<Operation>.Requests and .Latency) is
  // counted: DescribeDeliveryStream and UpdateDestination on the stream,
  // ListDeliveryStreams on the account; nullptr for the others (no metric) and for
  // a stream that does not exist.
  OperationProbe* ProbeFor(std::string_view operation, const boost::json::object& in);

 private:
  // A metadata change that could not be saved: ResourceNotFoundException when the
  // stream was deleted meanwhile, else InternalFailure with the disk's reason.
  api::ApiError SaveFailed(const Status& st, std::string_view name) const;
  // InvalidArgumentException when RegistryOptions::role_check refuses a role the
  // request names; nothing when roles are not enforced.
  std::optional<api::ApiError> CheckRoles(const boost::json::object& in) const;
  // Stream encryption at rest applies to this stream (DirectPut, a KMS here).
  std::optional<api::ApiError> CheckEncryptionAllowed(const StreamMeta& m) const;

  StreamRegistry* registry_;
};

// ResourceNotFoundException for a stream name, as Firehose words it.
api::ApiError StreamNotFound(std::string_view account_id, std::string_view name);
// InvalidKMSResourceException for a KMS error (its `code`: KmsErrorCode(st),
// stream/delivery_stream.h).
api::ApiError InvalidKmsResource(const Status& st);

}  // namespace hydrant::stream
