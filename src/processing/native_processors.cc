#include "processing/native_processors.h"

#include <simdjson.h>
#include <zlib.h>

#include <boost/json.hpp>

#include "common/base64.h"

namespace hydrant::processing {
namespace {

namespace json = boost::json;

void Fail(RecordOutcome* failure, std::string_view code, std::string message,
          std::string_view output_type = "processing-failed") {
  failure->error_code = std::string(code);
  failure->error_message = std::move(message);
  failure->error_output_type = std::string(output_type);
}

// --- Decompression (GZIP) ----------------------------------------------------

// Inflates one or more concatenated gzip members (as `gzip -d` does), refusing
// output beyond kMaxDecompressedBytes. Anything after a member that is not
// another member is an error, so a truncated or padded record never passes.
class GzipDecompressor final : public NativeProcessor {
 public:
  bool Apply(std::string_view data, std::vector<std::string>* outputs,
             RecordOutcome* failure) const override {
    std::string out;
    std::string error;
    if (!Gunzip(data, &out, &error)) {
      Fail(failure, kDecompressionFailed,
           "Firehose could not decompress the record as GZIP: " + error, "decompression-failed");
      return false;
    }
    outputs->push_back(std::move(out));
    return true;
  }

 private:
  static bool Gunzip(std::string_view in, std::string* out, std::string* error) {
    if (in.size() < 2 || static_cast<unsigned char>(in[0]) != 0x1f ||
        static_cast<unsigned char>(in[1]) != 0x8b) {
      *error = "not gzip data (bad magic bytes)";
      return false;
    }
    z_stream zs{};
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
      *error = "inflateInit2 failed";
      return false;
    }
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    zs.avail_in = static_cast<uInt>(in.size());
    out->resize(std::max<size_t>(in.size() * 4, 4096));
    size_t produced = 0;
    bool ok = true;
    while (true) {
      if (produced == out->size()) {
        if (out->size() >= kMaxDecompressedBytes) {
          *error = "decompressed data exceeds " + std::to_string(kMaxDecompressedBytes) + " bytes";
          ok = false;
          break;
        }
        out->resize(std::min(out->size() * 2, kMaxDecompressedBytes));
      }
      zs.next_out = reinterpret_cast<Bytef*>(out->data() + produced);
      zs.avail_out = static_cast<uInt>(out->size() - produced);
      int rc = inflate(&zs, Z_NO_FLUSH);
      produced = out->size() - zs.avail_out;
      if (rc == Z_STREAM_END) {
        if (zs.avail_in == 0) break;
        // Another member must follow; anything else is trailing garbage.
        if (zs.avail_in < 2 || zs.next_in[0] != 0x1f || zs.next_in[1] != 0x8b) {
          *error = "trailing data after the gzip stream";
          ok = false;
          break;
        }
        inflateReset(&zs);
        continue;
      }
      if (rc == Z_OK) continue;
      if (rc == Z_BUF_ERROR && zs.avail_out != 0) {
        *error = "truncated gzip stream";
      } else if (rc == Z_BUF_ERROR) {
        continue;  // only needs more output room
      } else {
        *error = zs.msg != nullptr ? zs.msg : "inflate error " + std::to_string(rc);
      }
      ok = false;
      break;
    }
    inflateEnd(&zs);
    out->resize(produced);
    return ok;
  }
};

// --- CloudWatchLogProcessing (DataMessageExtraction) ---------------------------

// A CloudWatch Logs subscription envelope
//   {"messageType":"DATA_MESSAGE","owner":..,"logGroup":..,"logStream":..,
//    "subscriptionFilters":[..],"logEvents":[{"id":..,"timestamp":..,"message":".."}]}
// becomes one record per log event holding its message as is. CONTROL_MESSAGE
// (CloudWatch Logs' reachability probe) yields no record, so it is dropped.
class CloudWatchLogsMessageExtractor final : public NativeProcessor {
 public:
  bool Apply(std::string_view data, std::vector<std::string>* outputs,
             RecordOutcome* failure) const override {
    thread_local simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (auto err = parser.parse(data.data(), data.size()).get(doc); err) {
      return Invalid(failure,
                     std::string("the record is not JSON (") + simdjson::error_message(err) + ")");
    }
    simdjson::dom::object envelope;
    if (doc.get_object().get(envelope)) return Invalid(failure, "the record is not a JSON object");
    std::string_view type;
    if (envelope["messageType"].get_string().get(type)) {
      return Invalid(failure, "messageType is missing or not a string");
    }
    if (type == "CONTROL_MESSAGE") return true;
    if (type != "DATA_MESSAGE") {
      return Invalid(failure, "unknown messageType \"" + std::string(type) + "\"");
    }
    simdjson::dom::array events;
    if (envelope["logEvents"].get_array().get(events)) {
      return Invalid(failure, "logEvents is missing or not an array");
    }
    size_t first = outputs->size();
    for (simdjson::dom::element event : events) {
      std::string_view message;
      if (event["message"].get_string().get(message)) {
        outputs->resize(first);
        return Invalid(failure, "a log event has no string message");
      }
      outputs->emplace_back(message);
    }
    return true;
  }

 private:
  static bool Invalid(RecordOutcome* failure, std::string why) {
    Fail(failure, kCloudWatchLogsInvalidMessage,
         "The record is not a CloudWatch Logs subscription message: " + why + ".");
    return false;
  }
};

// --- RecordDeAggregation -------------------------------------------------------

bool IsJsonSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Index one past the '}' closing the object that starts at data[begin] == '{',
// or npos when the record ends first. Strings are skipped with their escapes, so
// braces inside them do not count; full validation happens afterwards.
size_t ObjectEnd(std::string_view data, size_t begin) {
  int depth = 0;
  for (size_t i = begin; i < data.size(); ++i) {
    char c = data[i];
    if (c == '"') {
      for (++i; i < data.size() && data[i] != '"'; ++i) {
        if (data[i] == '\\') ++i;
      }
      if (i >= data.size()) return std::string_view::npos;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (--depth == 0) return i + 1;
    }
  }
  return std::string_view::npos;
}

// {"a":1}{"a":2} and {"a":1}\n{"a":2} (any JSON whitespace between objects)
// become one record per object, its bytes unchanged. A top-level value that is
// not an object (an array of objects included, as AWS documents) fails the record.
class JsonDeAggregator final : public NativeProcessor {
 public:
  bool Apply(std::string_view data, std::vector<std::string>* outputs,
             RecordOutcome* failure) const override {
    thread_local simdjson::dom::parser parser;
    size_t first = outputs->size();
    auto fail = [&](std::string_view code, std::string why) {
      outputs->resize(first);
      Fail(failure, code, std::move(why));
      return false;
    };
    size_t pos = 0;
    size_t count = 0;
    while (true) {
      while (pos < data.size() && IsJsonSpace(data[pos])) ++pos;
      if (pos == data.size()) break;
      if (data[pos] != '{') {
        return fail(kDeAggregationInvalidJson,
                    "The record is not a sequence of JSON objects: unexpected character at "
                    "offset " +
                        std::to_string(pos) + ".");
      }
      size_t end = ObjectEnd(data, pos);
      if (end == std::string_view::npos) {
        return fail(kDeAggregationInvalidJson,
                    "The record is not a sequence of JSON objects: the object at offset " +
                        std::to_string(pos) + " is not closed.");
      }
      std::string_view object = data.substr(pos, end - pos);
      simdjson::dom::element ignored;
      if (auto err = parser.parse(object.data(), object.size()).get(ignored); err) {
        return fail(kDeAggregationInvalidJson,
                    "The record is not a sequence of JSON objects: the object at offset " +
                        std::to_string(pos) + " is invalid (" + simdjson::error_message(err) +
                        ").");
      }
      if (++count > kMaxSubRecords) {
        return fail(
            kDeAggregationTooManyRecords,
            "The record holds more than " + std::to_string(kMaxSubRecords) + " JSON objects.");
      }
      outputs->emplace_back(object);
      pos = end;
    }
    if (count == 0) {
      return fail(kDeAggregationInvalidJson, "The record holds no JSON object.");
    }
    return true;
  }
};

// Splits on every occurrence of the delimiter. Empty pieces (a leading or
// trailing delimiter, two in a row) yield no record.
class DelimitedDeAggregator final : public NativeProcessor {
 public:
  explicit DelimitedDeAggregator(std::string delimiter) : delimiter_(std::move(delimiter)) {}

  bool Apply(std::string_view data, std::vector<std::string>* outputs,
             RecordOutcome* failure) const override {
    size_t first = outputs->size();
    size_t count = 0;
    size_t pos = 0;
    while (pos <= data.size()) {
      size_t next = data.find(delimiter_, pos);
      if (next == std::string_view::npos) next = data.size();
      if (next > pos) {
        if (++count > kMaxSubRecords) {
          outputs->resize(first);
          Fail(failure, kDeAggregationTooManyRecords,
               "The record holds more than " + std::to_string(kMaxSubRecords) +
                   " delimited records.");
          return false;
        }
        outputs->emplace_back(data.substr(pos, next - pos));
      }
      pos = next + delimiter_.size();
    }
    return true;
  }

 private:
  std::string delimiter_;
};

// --- AppendDelimiterToRecord ---------------------------------------------------

class DelimiterAppender final : public NativeProcessor {
 public:
  bool Apply(std::string_view data, std::vector<std::string>* outputs,
             RecordOutcome*) const override {
    std::string out;
    out.reserve(data.size() + 1);
    out.append(data);
    out.push_back('\n');
    outputs->push_back(std::move(out));
    return true;
  }
};

std::string_view Param(const std::map<std::string, std::string, std::less<>>& params,
                       std::string_view name) {
  auto it = params.find(name);
  return it == params.end() ? std::string_view() : std::string_view(it->second);
}

}  // namespace

std::unique_ptr<NativeProcessor> MakeGzipDecompressor() {
  return std::make_unique<GzipDecompressor>();
}
std::unique_ptr<NativeProcessor> MakeCloudWatchLogsMessageExtractor() {
  return std::make_unique<CloudWatchLogsMessageExtractor>();
}
std::unique_ptr<NativeProcessor> MakeJsonDeAggregator() {
  return std::make_unique<JsonDeAggregator>();
}
std::unique_ptr<NativeProcessor> MakeDelimitedDeAggregator(std::string delimiter) {
  return std::make_unique<DelimitedDeAggregator>(std::move(delimiter));
}
std::unique_ptr<NativeProcessor> MakeDelimiterAppender() {
  return std::make_unique<DelimiterAppender>();
}

Result<std::unique_ptr<NativeProcessor>> MakeNativeProcessor(
    std::string_view type, const std::map<std::string, std::string, std::less<>>& params) {
  if (type == "Decompression") {
    std::string_view format = Param(params, "CompressionFormat");
    if (!format.empty() && format != "GZIP") {
      return Status::InvalidArgument("Decompression: CompressionFormat must be GZIP, not " +
                                     std::string(format));
    }
    return MakeGzipDecompressor();
  }
  if (type == "CloudWatchLogProcessing") {
    std::string_view extraction = Param(params, "DataMessageExtraction");
    if (extraction == "true") return MakeCloudWatchLogsMessageExtractor();
    if (extraction.empty() || extraction == "false") {
      return std::unique_ptr<NativeProcessor>();
    }
    return Status::InvalidArgument(
        "CloudWatchLogProcessing: DataMessageExtraction must be true or false, not " +
        std::string(extraction));
  }
  if (type == "RecordDeAggregation") {
    std::string_view sub_type = Param(params, "SubRecordType");
    if (sub_type == "JSON") return MakeJsonDeAggregator();
    if (sub_type == "DELIMITED") {
      std::string_view encoded = Param(params, "Delimiter");
      if (encoded.empty()) {
        return Status::InvalidArgument(
            "RecordDeAggregation: SubRecordType DELIMITED requires the Delimiter parameter");
      }
      std::optional<std::string> delimiter = base64::Decode(encoded);
      if (!delimiter || delimiter->empty()) {
        return Status::InvalidArgument(
            "RecordDeAggregation: Delimiter must be the base64 encoding of a non-empty "
            "delimiter, got " +
            std::string(encoded));
      }
      return MakeDelimitedDeAggregator(std::move(*delimiter));
    }
    return Status::InvalidArgument(
        "RecordDeAggregation: SubRecordType must be JSON or DELIMITED, not \"" +
        std::string(sub_type) + "\"");
  }
  if (type == "AppendDelimiterToRecord") return MakeDelimiterAppender();
  return Status::InvalidArgument("unknown native processor type " + std::string(type));
}

}  // namespace hydrant::processing
