// Fuzz target: a delivery stream's definition. The input is JSON read two ways:
//   - as the stored description (stream.json at start; api/destination_spec.h
//     ParseDestinationSpec, which must never fail whatever the file holds, and
//     must give buffering hints within the model's ranges), with the checks run
//     on it before saving (CheckRunnable, DescribeDestination);
//   - as a CreateDeliveryStream input: ValidateRequest, then DestinationFromCreate;
//     what they accept must read back as a runnable description whose prefixes
//     the naming rules accept.

#include <boost/json.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>

#include "api/destination_config.h"
#include "api/destination_spec.h"
#include "api/validation.h"
#include "destinations/naming.h"
#include "fuzz/fuzz_util.h"

namespace json = boost::json;

namespace {

// Whatever stream.json holds, the hints delivery reads are within the model's ranges.
void CheckHints(const hydrant::api::S3DestinationSpec& s) {
  FUZZ_CHECK(s.buffer_size_bytes >= (1ull << 20) && s.buffer_size_bytes <= (128ull << 20),
             "buffer size out of range: " + std::to_string(s.buffer_size_bytes));
  FUZZ_CHECK(s.buffer_interval_seconds >= 0 && s.buffer_interval_seconds <= 900,
             "buffer interval out of range: " + std::to_string(s.buffer_interval_seconds));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  boost::system::error_code ec;
  json::value v = json::parse(hydrant::fuzz::AsView(data, size), ec);
  if (ec || !v.is_object()) return 0;
  const json::object& obj = v.as_object();

  // As a stored description.
  hydrant::api::DestinationSpec spec = hydrant::api::ParseDestinationSpec(obj);
  (void)spec.LambdaArn();
  CheckHints(spec.s3);
  if (spec.backup) CheckHints(*spec.backup);
  (void)hydrant::api::CheckRunnable(obj);
  (void)hydrant::api::DescribeDestination(obj, "destinationId-000000000001");

  // As a CreateDeliveryStream input.
  if (hydrant::api::ValidateRequest("CreateDeliveryStream", v)) return 0;
  if (hydrant::api::CheckSourceConfiguration(obj)) return 0;
  auto created = hydrant::api::DestinationFromCreate(obj);
  if (std::holds_alternative<hydrant::api::ApiError>(created)) return 0;
  const json::object& stored = std::get<json::object>(created);
  hydrant::api::DestinationSpec s = hydrant::api::ParseDestinationSpec(stored);
  std::optional<std::string_view> eop;
  if (s.s3.error_output_prefix) eop = *s.s3.error_output_prefix;
  auto bad = hydrant::naming::ValidatePrefixes(s.s3.prefix, eop);
  FUZZ_CHECK(!bad, "accepted prefixes the naming rules reject: " + bad.value_or(""));
  FUZZ_CHECK(hydrant::naming::IsKnownTimeZone(s.s3.time_zone), "accepted an unknown time zone");
  CheckHints(s.s3);
  (void)hydrant::api::DescribeDestination(stored, "destinationId-000000000001");
  // The same input as an UpdateDestination input, over the created description.
  if (!hydrant::api::ValidateRequest("UpdateDestination", v)) {
    (void)hydrant::api::DestinationFromUpdate(stored, obj);
  }
  return 0;
}
