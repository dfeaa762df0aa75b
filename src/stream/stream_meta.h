#pragma once
// StreamMeta: everything the control plane knows about one delivery stream, as
// persisted in <data-dir>/streams/<dir>/stream.json. The destination is kept in its
// stored (Describe-ready) JSON form (api/destination_config.h) and, read once when
// it is set, in its typed form (api/destination_spec.h), which everything that acts
// on the destination uses.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/json/object.hpp>

#include "api/destination_spec.h"
#include "common/account.h"
#include "common/status.h"

namespace hydrant::stream {

// DeliveryStreamType of a stream that reads a Kinesis data stream: its source
// log's records carry their Kinesis metadata (kinesis/source_record.h).
inline constexpr std::string_view kKinesisSourceType = "KinesisStreamAsSource";

struct StreamMeta {
  std::string name;
  std::string arn;
  std::string type = "DirectPut";
  std::string status = "ACTIVE";
  int64_t version_id = 1;
  int64_t create_ms = 0;
  int64_t last_update_ms = 0;  // 0 = never updated
  std::string destination_id = "destinationId-000000000001";
  boost::json::object source;       // SourceDescription, e.g. {"DirectPutSourceDescription":{...}}
  boost::json::object encryption;   // DeliveryStreamEncryptionConfiguration
  std::vector<std::pair<std::string, std::string>> tags;  // in insertion order
  std::string incarnation;          // random hex id, distinguishes re-created streams
  // The KMS key the logs encrypt with at rest: nullopt = none, "" = hydrant's own
  // (AWS_OWNED_CMK), else a key ARN. It outlives a failed
  // StartDeliveryStreamEncryption, which leaves encryption as it was.
  std::optional<std::string> key_at_rest;

  bool kinesis_source() const { return type == kKinesisSourceType; }
  // KinesisStreamSourceDescription's KinesisStreamARN ("" for other types).
  std::string kinesis_stream_arn() const;
  // Its DeliveryStartTimestamp in ms (0 for other types).
  int64_t delivery_start_ms() const;

  // The stored ExtendedS3DestinationDescription (what Describe shows).
  const boost::json::object& destination() const { return destination_; }
  // The same, read into types (never null).
  const api::DestinationSpec& spec() const { return *spec_; }
  std::shared_ptr<const api::DestinationSpec> shared_spec() const { return spec_; }
  // Replaces the destination and reads it again into spec().
  void SetDestination(boost::json::object stored);

  boost::json::object ToJson() const;
  static Result<StreamMeta> FromJson(const boost::json::object& o);

 private:
  boost::json::object destination_;
  std::shared_ptr<const api::DestinationSpec> spec_ = std::make_shared<api::DestinationSpec>();
};

// ARN as AWS writes it: arn:aws:firehose:REGION:ACCOUNT:deliverystream/NAME.
std::string StreamArn(const AccountContext& account, std::string_view name);

}  // namespace hydrant::stream
