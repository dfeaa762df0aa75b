// Fuzz target: the PutRecord / PutRecordBatch request body (api/put_records.h),
// the bytes any producer sends to the data plane. The first input byte picks
// PutRecordBatch (even) or PutRecord (odd); the rest is the body.
//
// Besides crashing, a failure is: the parser accepting a body the model-level
// validator (api/validation.h ValidateRequest, on Boost.JSON's reading of the
// same body) rejects, or the two disagreeing on the error type (the parser's
// header promises the same errors); records whose sizes do not add up to
// total_bytes; a decoded record larger than Firehose's limit.

#include <boost/json.hpp>
#include <cstddef>
#include <cstdint>
#include <string>

#include "api/put_records.h"
#include "api/validation.h"
#include "fuzz/fuzz_util.h"

namespace {

constexpr size_t kMaxRecordBytes = 1000 * 1024;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool batch = data[0] % 2 == 0;
  std::string body(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::string original = body;

  static hydrant::api::PutRecordsParser parser;  // reused, as the server does
  hydrant::api::PutRecordsInput in;
  auto got = parser.Parse(batch, body, &in);
  if (!got) {
    size_t total = 0;
    for (auto r : in.records) {
      FUZZ_CHECK(r.size() <= kMaxRecordBytes, "record over 1000 KiB accepted");
      total += r.size();
    }
    FUZZ_CHECK(total == in.total_bytes, "total_bytes differs from the records' sum");
    FUZZ_CHECK(!in.records.empty(), "a request without records accepted");
    FUZZ_CHECK(batch || in.records.size() == 1, "PutRecord gave more than one record");
  }

  // Differential check against the model validator, on bodies both read alike:
  // valid JSON objects (type errors of the hot path are its own SerializationExceptions).
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(original.empty() ? "{}" : original, ec);
  if (ec || !v.is_object()) return 0;
  if (got && got->type == "SerializationException") return 0;
  auto want = hydrant::api::ValidateRequest(batch ? "PutRecordBatch" : "PutRecord", v);
  if (want && want->type == "SerializationException") return 0;
  FUZZ_CHECK(got.has_value() == want.has_value(),
             got ? "parser rejects (" + got->message + "), validator accepts"
                 : "parser accepts, validator rejects: " + want->message);
  if (got) {
    FUZZ_CHECK(got->type == want->type, got->type + " vs " + want->type + ": " + got->message +
                                            " / " + want->message);
  }
  return 0;
}
