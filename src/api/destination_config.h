#pragma once
// A delivery stream's S3 destination: from CreateDeliveryStream's
// ExtendedS3DestinationConfiguration or S3DestinationConfiguration, through
// UpdateDestination's merge/replace rules, to what DescribeDeliveryStream shows,
// and the typed settings the delivery loop uses.
//
// The stored form is the ExtendedS3DestinationDescription JSON object with every
// default filled in (BufferingHints 5/300, CompressionFormat UNCOMPRESSED,
// EncryptionConfiguration NoEncryption, CloudWatchLoggingOptions {Enabled:false},
// S3BackupMode Disabled, ...), exactly as Describe echoes it. What acts on it
// reads the typed form instead (api/destination_spec.h).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "api/errors.h"

namespace hydrant::api {

// From a CreateDeliveryStream input that passed ValidateRequest: checks the semantic
// rules (exactly one destination, and only S3/ExtendedS3 supported here; prefix rules;
// BufferingHints both-or-neither; CustomTimeZone known; ...) and returns the stored
// description, or InvalidArgumentException. docs/api.md lists every rule and message.
ApiResult<boost::json::object> DestinationFromCreate(const boost::json::object& create_input);

// UpdateDestination: `update_input` passed ValidateRequest. ExtendedS3DestinationUpdate
// or S3DestinationUpdate merges into `current` (omitted fields kept; ProcessingConfiguration
// replaced wholesale); S3BackupMode cannot go Enabled -> Disabled. Returns the new
// description, or the error.
ApiResult<boost::json::object> DestinationFromUpdate(const boost::json::object& current,
                                                     const boost::json::object& update_input);

// The DestinationDescription entry of DescribeDeliveryStream:
// {"DestinationId": id, "S3DestinationDescription": {...}, "ExtendedS3DestinationDescription":
// {...}}.
boost::json::object DescribeDestination(const boost::json::object& stored,
                                        std::string_view destination_id);


// The source side of a CreateDeliveryStream input that passed ValidateRequest:
// DeliveryStreamType (default DirectPut; MSKAsSource and DatabaseAsSource are not
// supported) agrees with the source configuration given, and the stream encryption
// input (if any) passes CheckStreamEncryptionInput. nullopt when acceptable, else
// InvalidArgumentException.
std::optional<ApiError> CheckSourceConfiguration(const boost::json::object& create_input);

// DeliveryStreamEncryptionConfigurationInput (Create, StartDeliveryStreamEncryption):
// KeyARN required for CUSTOMER_MANAGED_CMK and not allowed for AWS_OWNED_CMK.
std::optional<ApiError> CheckStreamEncryptionInput(const boost::json::object& encryption_input);

// What the model cannot say about a stored description but the data path needs: the
// processors' parameter values (a Lambda BufferSizeInMBs within 0.2-3, a known
// processor type, ...), checked by processing::ValidateProcessingConfiguration.
// InvalidArgumentException naming the problem. The Firehose API applies it to every
// description it is about to save.
std::optional<ApiError> CheckRunnable(const boost::json::object& description);

}  // namespace hydrant::api
