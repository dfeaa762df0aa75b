// Fuzz target: AWS's CBOR protocol (api/cbor.h), the bytes a Kinesis producer or
// consumer sends as application/x-amz-cbor-1.1, with Kinesis's schema (so the
// timestamp and blob members are exercised).
//
// Invariants: ToJson never crashes, and refuses with a "CBOR: ... at byte N"
// message; whatever it accepts, FromJson encodes to bytes that ToJson reads back
// as the same value, and encoding that value again gives the same bytes (the
// encoder's output is canonical for it).

#include <boost/json.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "api/cbor.h"
#include "fuzz/fuzz_util.h"

namespace cbor = hydrant::api::cbor;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  auto v1 = cbor::ToJson(in, cbor::kKinesisSchema);
  if (!v1.ok()) {
    const std::string& m = v1.status().message();
    FUZZ_CHECK(m.rfind("CBOR: ", 0) == 0 && m.find(" at byte ") != std::string::npos, m);
    return 0;
  }
  const std::string encoded = cbor::FromJson(*v1, cbor::kKinesisSchema);
  auto v2 = cbor::ToJson(encoded, cbor::kKinesisSchema);
  FUZZ_CHECK(v2.ok(), "FromJson's output does not decode: " + v2.status().message() + " for " +
                          boost::json::serialize(*v1));
  FUZZ_CHECK(*v2 == *v1,
             boost::json::serialize(*v1) + " came back as " + boost::json::serialize(*v2));
  FUZZ_CHECK(cbor::FromJson(*v2, cbor::kKinesisSchema) == encoded,
             "a second encoding differs for " + boost::json::serialize(*v1));
  return 0;
}
