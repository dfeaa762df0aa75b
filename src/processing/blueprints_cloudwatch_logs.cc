// The CloudWatch Logs processor blueprint: each record is a gzip-compressed
// CloudWatch Logs subscription envelope; data messages become their log events'
// messages, one per line, control messages are dropped. Records that would push
// the response past the blueprint's budget are put back into the delivery stream
// (ReingestFn), split in two first when one alone is too large.

#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "common/base64.h"
#include "processing/blueprints_handlers.h"

namespace hydrant::processing::blueprints {

namespace json = boost::json;

namespace {

// The CloudWatch Logs processor's own budget (below Lambda's limit, for headroom).
constexpr size_t kCwlMaxResponseChars = 6000000;
constexpr size_t kCwlReingestBatch = 500;
constexpr int kCwlReingestAttempts = 20;

// loadJsonGzipBase64: json.loads(gzip.decompress(base64.b64decode(data))).
bool LoadJsonGzipBase64(const json::value& data, json::value* out, PyError* err) {
  std::string compressed;
  if (!PyB64Decode(data, &compressed, err)) return false;
  std::string text;
  if (!PyGzipDecompress(compressed, &text, err)) return false;
  return PyJsonLoads(text, out, err);
}

// One record of the CloudWatch Logs processor's answer.
struct CwlRecord {
  const json::value* record_id = nullptr;
  std::string result;
  std::optional<std::string> data;  // base64
};

// processRecords: gunzip and parse each record; CONTROL_MESSAGE -> Dropped,
// DATA_MESSAGE -> Ok with every logEvent's message + '\n', anything else ->
// ProcessingFailed.
bool ProcessCwlRecord(const json::value& record, CwlRecord* rec, PyError* err) {
  const json::value* data = Subscript(record, "data", err);
  if (data == nullptr) return false;
  json::value envelope;
  if (!LoadJsonGzipBase64(*data, &envelope, err)) return false;
  if ((rec->record_id = Subscript(record, "recordId", err)) == nullptr) return false;
  const json::value* type = Subscript(envelope, "messageType", err);
  if (type == nullptr) return false;
  if (type->is_string() && type->get_string() == "CONTROL_MESSAGE") {
    rec->result = "Dropped";
    return true;
  }
  if (!type->is_string() || type->get_string() != "DATA_MESSAGE") {
    rec->result = "ProcessingFailed";
    return true;
  }
  const json::value* events = Subscript(envelope, "logEvents", err);
  if (events == nullptr) return false;
  std::string joined;
  const bool ok = PyIterate(*events, err, [&](const json::value& log_event) {
    const json::value* message = Subscript(log_event, "message", err);
    if (message == nullptr) return false;
    // transformLogEvent: log_event['message'] + '\n'
    if (const json::string* s = message->if_string()) {
      joined.append(s->data(), s->size());
      joined.push_back('\n');
      return true;
    }
    if (message->is_array()) {
      *err = {"TypeError", "can only concatenate list (not \"str\") to list"};
    } else {
      *err = {"TypeError",
              "unsupported operand type(s) for +: '" + PyTypeName(*message) + "' and 'str'"};
    }
    return false;
  });
  if (!ok) return false;
  rec->result = "Ok";
  rec->data = base64::Encode(joined);
  return true;
}

// splitCWLRecord: the same envelope twice, with the first and the second half
// of logEvents, each serialized with json.dumps and gzip-compressed.
std::vector<std::string> SplitCwlEnvelope(const json::value& envelope) {
  const json::array& events = envelope.at("logEvents").as_array();
  const size_t mid = events.size() / 2;
  std::vector<std::string> halves;
  for (int half = 0; half < 2; ++half) {
    json::value copy = envelope;
    json::array part(half == 0 ? events.begin() : events.begin() + mid,
                     half == 0 ? events.begin() + mid : events.end());
    copy.as_object()["logEvents"] = std::move(part);  // keeps the key's position
    std::string text;
    AppendPyJsonValue(copy, &text);
    halves.push_back(PyGzipCompress(text));
  }
  return halves;
}

}  // namespace

// The CloudWatch Logs processor's lambda_handler (spec section 7, steps 1-3).
bool RunCloudWatchLogs(const json::value& event, const ReingestFn& reingest,
                       const KinesisReingestFn& kinesis_reingest, json::array* out, PyError* err) {
  const bool is_sas = event.is_object() && event.as_object().contains("sourceKinesisStreamArn");
  const json::value* arn =
      Subscript(event, is_sas ? "sourceKinesisStreamArn" : "deliveryStreamArn", err);
  if (arn == nullptr) return false;
  if (!arn->is_string()) {
    *err = {"AttributeError", "'" + PyTypeName(*arn) + "' object has no attribute 'split'"};
    return false;
  }
  const std::string_view arn_text(arn->get_string().data(), arn->get_string().size());
  const std::vector<std::string> colon_parts = PySplit(arn_text, ':');
  const std::vector<std::string> slash_parts = PySplit(arn_text, '/');
  if (colon_parts.size() < 4 || slash_parts.size() < 2) {
    *err = {"IndexError", "list index out of range"};
    return false;
  }
  const std::string& stream_name = slash_parts[1];

  const json::value* records = Subscript(event, "records", err);
  if (records == nullptr) return false;
  std::vector<CwlRecord> results;
  std::vector<const json::value*> originals;
  if (!PyIterate(*records, err, [&](const json::value& record) {
        CwlRecord rec;
        if (!ProcessCwlRecord(record, &rec, err)) return false;
        results.push_back(std::move(rec));
        return true;
      })) {
    return false;
  }
  // Only a list can get here with records: iterating a non-empty dict or str
  // yields strs, which raised TypeError above.
  if (const json::array* list = records->if_array()) {
    for (const json::value& record : *list) originals.push_back(&record);
  }

  // Without a way to put records back (no callback for the source's kind), what
  // the blueprint would re-ingest is returned as ProcessingFailed.
  const bool can_reingest = is_sas ? kinesis_reingest != nullptr : reingest != nullptr;
  // A Kinesis source's records go back with the original's partition key.
  auto partition_key = [&](size_t i, std::string* key) {
    const json::value* meta = Subscript(*originals[i], "kinesisRecordMetadata", err);
    const json::value* pk = meta ? Subscript(*meta, "partitionKey", err) : nullptr;
    if (pk == nullptr) return false;
    *key = pk->is_string() ? std::string(pk->as_string()) : json::serialize(*pk);
    return true;
  };
  auto not_reingested = [&](CwlRecord& rec, const char* why) {
    rec.result = "ProcessingFailed";
    spdlog::warn(
        "stream={} errorCode=Lambda.ProcessingFailedStatus builtin=cloudwatch-logs-processor "
        "record={} event=not_reingested reason=\"{}\" detail=\"{}\"",
        slash_parts[1], json::serialize(*rec.record_id), why,
        is_sas ? "no Kinesis re-ingestion callback configured"
               : "no re-ingestion callback configured");
  };

  size_t projected_size = 0;
  std::vector<std::string> to_reingest;
  std::vector<std::string> keys;  // Kinesis sources: each record's partition key
  for (size_t i = 0; i < results.size(); ++i) {
    CwlRecord& rec = results[i];
    if (rec.result != "Ok") continue;
    if (rec.data->size() > kCwlMaxResponseChars) {
      // Too large alone: split the original envelope in two and re-ingest both
      // halves, or fail it when it holds a single log event.
      json::value envelope;
      if (!LoadJsonGzipBase64(originals[i]->at("data"), &envelope, err)) return false;
      size_t events = 0;
      if (!PyLen(envelope.at("logEvents"), &events, err)) return false;
      if (events > 1 && envelope.at("logEvents").is_array()) {
        if (can_reingest) {
          rec.result = "Dropped";
          std::string key;
          if (is_sas && !partition_key(i, &key)) return false;
          for (std::string& half : SplitCwlEnvelope(envelope)) {
            to_reingest.push_back(std::move(half));
            keys.push_back(key);
          }
        } else {
          not_reingested(rec, "record too large, would be split and re-ingested");
        }
      } else {
        rec.result = "ProcessingFailed";
        spdlog::warn(
            "stream={} errorCode=Lambda.ProcessingFailedStatus builtin=cloudwatch-logs-processor "
            "record={} event=too_large bytes={} "
            "detail=\"a single log event is still too large after processing\"",
            slash_parts[1], json::serialize(*rec.record_id), rec.data->size());
      }
      rec.data.reset();
      continue;
    }
    size_t id_len = 0;
    if (!PyLen(*rec.record_id, &id_len, err)) return false;
    projected_size += rec.data->size() + id_len;
    if (projected_size > kCwlMaxResponseChars) {
      if (can_reingest) {
        std::string original;
        if (!PyB64Decode(originals[i]->at("data"), &original, err)) return false;
        std::string key;
        if (is_sas && !partition_key(i, &key)) return false;
        to_reingest.push_back(std::move(original));
        keys.push_back(std::move(key));
        rec.result = "Dropped";
      } else {
        not_reingested(rec, "response would exceed 6000000 characters");
      }
      rec.data.reset();
    }
  }

  for (size_t i = 0; i < to_reingest.size(); i += kCwlReingestBatch) {
    const size_t end = std::min(to_reingest.size(), i + kCwlReingestBatch);
    Status st;
    for (int attempt = 0; attempt < kCwlReingestAttempts; ++attempt) {
      if (is_sas) {
        std::vector<std::pair<std::string, std::string>> batch;
        for (size_t j = i; j < end; ++j) batch.emplace_back(keys[j], to_reingest[j]);
        st = kinesis_reingest(arn_text, std::move(batch));
      } else {
        st = reingest(stream_name,
                      std::vector<std::string>(to_reingest.begin() + i, to_reingest.begin() + end));
      }
      if (st.ok()) break;
    }
    if (!st.ok()) {
      *err = {"RuntimeError", "Could not put records after " +
                                  std::to_string(kCwlReingestAttempts) + " attempts. " +
                                  st.message()};
      return false;
    }
  }

  for (const CwlRecord& rec : results) {
    json::object o;
    o["recordId"] = *rec.record_id;
    o["result"] = rec.result;
    if (rec.data) o["data"] = *rec.data;
    out->push_back(std::move(o));
  }
  return true;
}

}  // namespace hydrant::processing::blueprints
