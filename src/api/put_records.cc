#include "api/put_records.h"

#include <simdjson.h>

#include <algorithm>

#include "api/validation.h"
#include "common/base64.h"

namespace hydrant::api {

static_assert(PutRecordsParser::kBodyPadding >= simdjson::SIMDJSON_PADDING);

struct PutRecordsParser::Impl {
  // The DOM API dispatches at run time to the best SIMD kernel of this CPU.
  simdjson::dom::parser json;
  // Reused from request to request: no allocation per record, and the arena is not
  // cleared (it only grows, to at most 4 MiB + 8: larger requests fail before
  // decoding).
  std::vector<std::string_view> encoded;
  std::vector<uint8_t> missing_data;  // per record: 1 when Data is absent or null
  std::vector<size_t> sizes;
  std::string arena;
};

PutRecordsParser::PutRecordsParser() : impl_(std::make_unique<Impl>()) {}
PutRecordsParser::~PutRecordsParser() = default;

std::optional<ApiError> PutRecordsParser::Parse(bool batch, std::string& body,
                                                PutRecordsInput* out) {
  Impl& m = *impl_;
  out->stream_name = {};
  out->records.clear();
  out->total_bytes = 0;
  if (body.empty()) body = "{}";
  body.reserve(body.size() + kBodyPadding);

  auto bad = [](std::string msg) { return SerializationError(std::move(msg)); };
  simdjson::dom::element doc;
  if (m.json.parse(body.data(), body.size(), false).get(doc) != simdjson::SUCCESS) {
    return bad("The request body is not valid JSON.");
  }
  simdjson::dom::object root;
  if (doc.get_object().get(root) != simdjson::SUCCESS) {
    return bad("The request body must be a JSON object.");
  }

  std::string_view name;
  bool has_name = false, has_records = false;
  auto& encoded = m.encoded;
  auto& missing_data = m.missing_data;
  encoded.clear();
  missing_data.clear();
  // Reads one Record structure; an error on a type error.
  auto read_record = [&](simdjson::dom::element elem,
                         std::string_view path) -> std::optional<ApiError> {
    simdjson::dom::object rec;
    if (elem.get_object().get(rec) != simdjson::SUCCESS) {
      return bad("Expected a structure for member '" + std::string(path) + "'.");
    }
    // A repeated member: the last one counts, as in the validator's reading.
    simdjson::dom::element data;
    bool has_data = false;
    for (auto [k, v] : rec) {
      if (k == "Data") {
        data = v;
        has_data = true;
      }
    }
    std::string_view d;
    if (!has_data || data.is_null()) {
      missing_data.resize(encoded.size() + 1, 0);
      missing_data[encoded.size()] = 1;
      encoded.emplace_back();
      return std::nullopt;
    }
    if (data.get_string().get(d) != simdjson::SUCCESS) {
      return bad("Expected a base64 string for member '" + std::string(path) + ".Data'.");
    }
    encoded.push_back(d);
    return std::nullopt;
  };
  for (auto [key, val] : root) {
    // A null member is an absent member; a repeated member, the last one counts
    // (as in the validator's reading): it replaces what an earlier one gave.
    const bool record_key = batch ? key == "Records" : key == "Record";
    if (record_key) {
      encoded.clear();
      missing_data.clear();
      has_records = false;
    } else if (key == "DeliveryStreamName") {
      has_name = false;
    }
    if (val.is_null()) continue;
    if (key == "DeliveryStreamName") {
      if (val.get_string().get(name) != simdjson::SUCCESS) {
        return bad("Expected a string for member 'DeliveryStreamName'.");
      }
      has_name = true;
    } else if (!batch && key == "Record") {
      has_records = true;
      if (auto e = read_record(val, "Record")) return e;
    } else if (batch && key == "Records") {
      simdjson::dom::array arr;
      if (val.get_array().get(arr) != simdjson::SUCCESS) return bad("Expected a list for member 'Records'.");
      has_records = true;
      for (auto elem : arr) {
        if (auto e = read_record(elem, "Records.member")) return e;
      }
    }
  }
  auto missing = [&](size_t i) { return i < missing_data.size() && missing_data[i]; };

  // Serialization phase: every Data must be a base64 blob. Its length, padding and
  // last character here; its alphabet when it is decoded below (one pass instead of
  // two: a request with both a bad character and a constraint violation then gets
  // the violation, AWS the SerializationException).
  for (size_t i = 0; i < encoded.size(); ++i) {
    if (missing(i)) continue;
    if (auto e = CheckBase64Shape(encoded[i])) return e;
  }
  // Model constraints, in member order, reported together as AWS does.
  Violations violations;
  if (!has_name) {
    violations.Add(NullViolation("deliveryStreamName"));
  } else {
    CheckStreamName(name, &violations);
  }
  auto& sizes = m.sizes;
  sizes.resize(encoded.size());
  size_t upper = 0;
  for (size_t i = 0; i < encoded.size(); ++i) {
    sizes[i] = Base64DecodedSize(encoded[i]);
    upper += sizes[i];
  }
  if (!has_records) {
    violations.Add(NullViolation(batch ? "records" : "record"));
  } else if (batch && encoded.empty()) {
    return NoRecords();
  } else if (batch && encoded.size() > kMaxBatchRecords) {
    AddTooManyRecords(sizes, &violations);
  }
  for (size_t i = 0; i < encoded.size(); ++i) {
    size_t index = batch ? i : kNoRecordIndex;
    if (missing(i)) {
      violations.Add(NullViolation(RecordDataPath(index)));
    } else if (sizes[i] > kMaxRecordBytes) {
      AddRecordTooLarge(index, sizes[i], &violations);
    }
  }
  if (auto e = violations.ToError()) return e;
  if (batch && upper > kMaxBatchBytes) return BatchTooLarge(upper);

  // Decode into the arena. It is resized only to grow (a resize zero-fills). The
  // decoder wants room for DecodedSizeUpperBound, up to 5 bytes past a record.
  if (m.arena.size() < upper + 8) m.arena.resize(upper + 8);
  out->records.reserve(encoded.size());
  size_t off = 0;
  for (auto e : encoded) {
    auto len = base64::DecodeToBuffer(e, m.arena.data() + off);
    if (!len) {  // a character outside the alphabet: CheckBase64 says which
      auto err = CheckBase64(e);
      return err ? *err : SerializationError("Data is not valid base64.");
    }
    out->records.emplace_back(m.arena.data() + off, *len);
    off += *len;
  }
  out->stream_name = name;
  out->total_bytes = off;
  return std::nullopt;
}

RecordIdEncoder::RecordIdEncoder(std::string_view hex) {
  unsigned char raw[16] = {};
  auto nibble = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
  for (size_t i = 0; i < sizeof raw && i * 2 + 1 < hex.size(); ++i) {
    raw[i] = static_cast<unsigned char>(nibble(hex[i * 2]) << 4 | nibble(hex[i * 2 + 1]));
  }
  std::string prefix;
  base64::EncodeAppend(std::string_view(reinterpret_cast<const char*>(raw), 15), &prefix);
  std::copy_n(prefix.data(), sizeof prefix_, prefix_);
  last_incarnation_byte_ = raw[15];
}

void RecordIdEncoder::Append(uint64_t seq, std::string* out) const {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  unsigned char b[9];
  b[0] = last_incarnation_byte_;
  for (int i = 0; i < 8; ++i) b[1 + i] = static_cast<unsigned char>(seq >> (56 - 8 * i));
  char id[32];
  std::copy_n(prefix_, sizeof prefix_, id);
  for (int g = 0; g < 3; ++g) {
    uint32_t v = uint32_t{b[3 * g]} << 16 | uint32_t{b[3 * g + 1]} << 8 | b[3 * g + 2];
    char* c = id + 20 + 4 * g;
    c[0] = kAlphabet[v >> 18];
    c[1] = kAlphabet[(v >> 12) & 63];
    c[2] = kAlphabet[(v >> 6) & 63];
    c[3] = kAlphabet[v & 63];
  }
  out->append(id, sizeof id);
}

}  // namespace hydrant::api
