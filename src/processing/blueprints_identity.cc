// The general-processing and Kinesis-streams-processing blueprints: each record
// comes back unchanged, as "Ok".

#include "common/base64.h"
#include "processing/blueprints_handlers.h"

namespace hydrant::processing::blueprints {

namespace json = boost::json;

// General processing and Kinesis-streams processing: identity.
bool RunIdentity(const json::value& event, bool kinesis_source, json::array* out, PyError* err) {
  const json::value* records = Subscript(event, "records", err);
  if (records == nullptr) return false;
  return PyIterate(*records, err, [&](const json::value& record) {
    RecordInput in;
    if (!ReadRecord(record, &in, err)) return false;
    if (kinesis_source) {
      // The blueprint prints these; a Direct PUT event has none and raises KeyError.
      const json::value* meta = Subscript(record, "kinesisRecordMetadata", err);
      if (meta == nullptr) return false;
      for (const char* key : {"sequenceNumber", "subsequenceNumber", "partitionKey", "shardId",
                              "approximateArrivalTimestamp"}) {
        if (Subscript(*meta, key, err) == nullptr) return false;
      }
    }
    out->push_back(OutputRecord(*in.record_id, "Ok", json::string(base64::Encode(in.payload))));
    return true;
  });
}

}  // namespace hydrant::processing::blueprints
