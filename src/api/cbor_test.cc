#include "api/cbor.h"

#include <gtest/gtest.h>
#include <time.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <limits>
#include <new>
#include <string>
#include <vector>

#include "common/base64.h"

namespace hydrant::api::cbor {
namespace {

namespace json = boost::json;

std::string Unhex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

json::value Decode(std::string_view hex, const Schema& schema = kKinesisSchema) {
  auto r = ToJson(Unhex(hex), schema);
  EXPECT_TRUE(r.ok()) << hex << ": " << r.status().ToString();
  return r.ok() ? *r : json::value();
}

std::string DecodeError(std::string_view bytes) {
  auto r = ToJson(bytes, kKinesisSchema);
  EXPECT_FALSE(r.ok()) << Hex(bytes) << " decoded to " << json::serialize(*r);
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  return r.status().message();
}

std::string Encode(const json::value& v) { return Hex(FromJson(v, kKinesisSchema)); }

struct Vector {
  const char* hex;
  json::value want;
  bool canonical;  // FromJson(want) gives these bytes back
};

// RFC 8949 Appendix A, every vector whose value JSON can carry (the others are
// in RfcVectorsOutsideJsonAreRefused, or converted by the rules of cbor.h).
std::vector<Vector> RfcVectors() {
  return {
      {"00", 0, true},
      {"01", 1, true},
      {"0a", 10, true},
      {"17", 23, true},
      {"1818", 24, true},
      {"1819", 25, true},
      {"1864", 100, true},
      {"1903e8", 1000, true},
      {"1a000f4240", 1000000, true},
      {"1b000000e8d4a51000", int64_t{1000000000000}, true},
      {"1bffffffffffffffff", std::numeric_limits<uint64_t>::max(), true},
      {"20", -1, true},
      {"29", -10, true},
      {"3863", -100, true},
      {"3903e7", -1000, true},
      {"f90000", 0.0, true},
      {"f98000", -0.0, true},
      {"f93c00", 1.0, true},
      {"fb3ff199999999999a", 1.1, true},
      {"f93e00", 1.5, true},
      {"f97bff", 65504.0, true},
      {"fa47c35000", 100000.0, true},
      {"fa7f7fffff", 3.4028234663852886e+38, true},
      {"fb7e37e43c8800759c", 1.0e+300, true},
      {"f90001", 5.960464477539063e-8, true},
      {"f90400", 0.00006103515625, true},
      {"f9c400", -4.0, true},
      {"fbc010666666666666", -4.1, true},
      {"f4", false, true},
      {"f5", true, true},
      {"f6", nullptr, true},
      {"f7", nullptr, false},  // undefined
      // Tags other than 1-3: their content.
      {"c074323031332d30332d32315432303a30343a30305a", "2013-03-21T20:04:00Z", false},
      {"d74401020304", "AQIDBA==", false},
      {"d818456449455446", "ZElFVEY=", false},
      {"d82076687474703a2f2f7777772e6578616d706c652e636f6d", "http://www.example.com", false},
      // Byte strings: base64 text, as JSON carries blobs.
      {"40", "", false},
      {"4401020304", "AQIDBA==", false},
      {"60", "", true},
      {"6161", "a", true},
      {"6449455446", "IETF", true},
      {"62225c", "\"\\", true},
      {"62c3bc", "\xc3\xbc", true},
      {"63e6b0b4", "\xe6\xb0\xb4", true},
      {"64f0908591", "\xf0\x90\x85\x91", true},
      {"80", json::array(), true},
      {"83010203", json::parse("[1,2,3]"), true},
      {"8301820203820405", json::parse("[1,[2,3],[4,5]]"), true},
      {"98190102030405060708090a0b0c0d0e0f101112131415161718181819",
       json::parse("[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25]"), true},
      {"a0", json::object(), true},
      {"a26161016162820203", json::parse(R"({"a":1,"b":[2,3]})"), true},
      {"826161a161626163", json::parse(R"(["a",{"b":"c"}])"), true},
      {"a56161614161626142616361436164614461656145",
       json::parse(R"({"a":"A","b":"B","c":"C","d":"D","e":"E"})"), true},
      // Indefinite lengths.
      {"5f42010243030405ff", "AQIDBAU=", false},
      {"7f657374726561646d696e67ff", "streaming", false},
      {"9fff", json::array(), false},
      {"9f018202039f0405ffff", json::parse("[1,[2,3],[4,5]]"), false},
      {"9f01820203820405ff", json::parse("[1,[2,3],[4,5]]"), false},
      {"83018202039f0405ff", json::parse("[1,[2,3],[4,5]]"), false},
      {"83019f0203ff820405", json::parse("[1,[2,3],[4,5]]"), false},
      {"9f0102030405060708090a0b0c0d0e0f101112131415161718181819ff",
       json::parse("[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25]"), false},
      {"bf61610161629f0203ffff", json::parse(R"({"a":1,"b":[2,3]})"), false},
      {"826161bf61626163ff", json::parse(R"(["a",{"b":"c"}])"), false},
      {"bf6346756ef563416d7421ff", json::parse(R"({"Fun":true,"Amt":-2})"), false},
  };
}

TEST(CborTest, RfcAppendixAVectorsDecode) {
  for (const Vector& v : RfcVectors()) {
    json::value got = Decode(v.hex);
    EXPECT_EQ(got, v.want) << v.hex << " gave " << json::serialize(got);
    EXPECT_EQ(got.kind(), v.want.kind()) << v.hex;
    if (got.is_double() && v.want.is_double()) {  // -0.0 == 0.0: check the sign too
      EXPECT_EQ(std::signbit(got.get_double()), std::signbit(v.want.get_double())) << v.hex;
    }
  }
}

TEST(CborTest, RfcAppendixAVectorsEncodeWhereCanonical) {
  for (const Vector& v : RfcVectors()) {
    if (v.canonical) EXPECT_EQ(Encode(v.want), v.hex) << json::serialize(v.want);
  }
  // The non-finite floats of Appendix A, in their preferred (half) form; JSON
  // values never hold them, but the encoder must not fail on one.
  EXPECT_EQ(Encode(std::numeric_limits<double>::infinity()), "f97c00");
  EXPECT_EQ(Encode(-std::numeric_limits<double>::infinity()), "f9fc00");
  EXPECT_EQ(Encode(std::numeric_limits<double>::quiet_NaN()), "f97e00");
}

TEST(CborTest, RfcVectorsOutsideJsonAreRefused) {
  // Bignums, integers below -2^63, NaN and infinities, unassigned simple values,
  // and maps with integer keys.
  for (const char* hex :
       {"c249010000000000000000", "3bffffffffffffffff", "c349010000000000000000", "f97c00",
        "f97e00", "f9fc00", "fa7f800000", "fa7fc00000", "faff800000", "fb7ff0000000000000",
        "fb7ff8000000000000", "fbfff0000000000000", "f0", "f8ff", "a201020304"}) {
    EXPECT_FALSE(ToJson(Unhex(hex), kKinesisSchema).ok()) << hex;
  }
}

TEST(CborTest, Tag1CountsEpochMillisecondsAsAwsWritesIt) {
  // RFC 8949 reads c1 1a 514b67b0 as 1363896240 seconds; AWS's CBOR protocol (and
  // so hydrant) as 1363896240 milliseconds.
  EXPECT_EQ(Decode("c11a514b67b0"), json::value(1363896.24));
  // A float under tag 1 is rounded to the millisecond.
  EXPECT_EQ(Decode("c1fb41d452d9ec200000"), json::value(1363896.241));
  // Whole seconds give an integer.
  EXPECT_EQ(Decode("c11903e8"), json::value(1));
  EXPECT_EQ(Decode("c120"), json::value(-0.001));
  EXPECT_NE(DecodeError(Unhex("c16161")).find("tag 1 (epoch time) over a string at byte 1"),
            std::string::npos);
  EXPECT_NE(DecodeError(Unhex("c1f5")).find("tag 1"), std::string::npos);
  EXPECT_NE(DecodeError(Unhex("c180")).find("tag 1"), std::string::npos);
  // Out of years 1-9999.
  EXPECT_NE(DecodeError(Unhex("c11b7fffffffffffffff")).find("timestamp out of range"),
            std::string::npos);
  EXPECT_NE(DecodeError(Unhex("c11bffffffffffffffff")).find("timestamp out of range"),
            std::string::npos);
  EXPECT_NE(DecodeError(Unhex("c13b7fffffffffffffff")).find("timestamp out of range"),
            std::string::npos);
  EXPECT_NE(DecodeError(Unhex("c1fb7e37e43c8800759c")).find("timestamp out of range"),
            std::string::npos);
}

TEST(CborTest, TimestampMembersCountMillisecondsTaggedOrNot) {
  // {"Timestamp": 1500} untagged, {"Other": 1500}.
  EXPECT_EQ(Decode("a16954696d657374616d701905dc"), json::parse(R"({"Timestamp":1.5})"));
  EXPECT_EQ(Decode("a1654f746865721905dc"), json::parse(R"({"Other":1500})"));
  // A text under a timestamp member is left to the handler (which refuses it).
  EXPECT_EQ(Decode("a16954696d657374616d706178"), json::parse(R"({"Timestamp":"x"})"));
  // Tagged under a timestamp member: converted once, not twice.
  EXPECT_EQ(Decode("a16954696d657374616d70c11905dc"), json::parse(R"({"Timestamp":1.5})"));
  // Another schema: no timestamp members.
  const Schema none{};
  EXPECT_EQ(Decode("a16954696d657374616d701905dc", none), json::parse(R"({"Timestamp":1500})"));
}

// The bytes the AWS SDK for Java v2 (Jackson's CBORGenerator) writes for
// PutRecords: indefinite-length maps and arrays, definite text keys, Data as a
// byte string. Built by hand from the SDK's marshaller and checked with Python's
// cbor2 (docs/kinesis.md).
constexpr std::string_view kSdkPutRecords =
    "bf675265636f7264739fbf64446174614568656c6c6f6c506172746974696f6e4b657964706b2d31ffbf644461"
    "74615828000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262"
    "76f4578706c69636974486173684b65796234326c506172746974696f6e4b657964706b2d32ffff6a537472"
    "65616d4e616d65666f7264657273ff";

TEST(CborTest, JavaSdkV2PutRecordsRequest) {
  std::string forty;
  for (int i = 0; i < 40; ++i) forty.push_back(static_cast<char>(i));
  json::value want = {
      {"Records", json::array{json::object{{"Data", "aGVsbG8="}, {"PartitionKey", "pk-1"}},
                              json::object{{"Data", base64::Encode(forty)},
                                           {"ExplicitHashKey", "42"},
                                           {"PartitionKey", "pk-2"}}}},
      {"StreamName", "orders"}};
  EXPECT_EQ(Decode(kSdkPutRecords), want);
}

TEST(CborTest, JavaSdkV2GetShardIteratorAtTimestamp) {
  // Timestamp as tag 1 over int64 epoch milliseconds (c1 1b 000001a013accc38 =
  // 1787036486712 ms), the encoding seen on the wire from the SDK's KinesisClient.
  const json::value got = Decode(
      "bf6a53747265616d4e616d65666f7264657273675368617264496474736861726449642d3030303030303030"
      "303030307153686172644974657261746f72547970656c41545f54494d455354414d506954696d6573746"
      "16d70c11b000001a013accc38ff");
  EXPECT_EQ(got, json::parse(R"({"StreamName":"orders","ShardId":"shardId-000000000000",
                                 "ShardIteratorType":"AT_TIMESTAMP","Timestamp":1787036486.712})"));
}

TEST(CborTest, GetRecordsAnswerAsTheSdkReadsIt) {
  // cbor2.dumps of the same document (Data as bytes, the timestamp as
  // CBORTag(1, 1700000000123)) gives exactly these bytes.
  json::value answer = {
      {"Records",
       json::array{json::object{
           {"SequenceNumber", "49590338271490256608559692538361571095921575989136588898"},
           {"ApproximateArrivalTimestamp", 1700000000.123},
           {"Data", "aGVsbG8="},
           {"PartitionKey", "pk-1"}}}},
      {"NextShardIterator", "AAAAAAAAAAE="},
      {"MillisBehindLatest", 0}};
  const std::string bytes = Encode(answer);
  EXPECT_EQ(bytes,
            "a3675265636f72647381a46e53657175656e63654e756d62657278383439353930333338323731343930"
            "323536363038353539363932353338333631353731303935393231353735393839313336353838383938"
            "781b417070726f78696d6174654172726976616c54696d657374616d70c11b0000018bcfe5687b644461"
            "74614568656c6c6f6c506172746974696f6e4b657964706b2d31714e65787453686172644974657261"
            "746f726c41414141414141414141453d724d696c6c6973426568696e644c617465737400");
  EXPECT_EQ(Decode(bytes), answer);
  // NextShardIterator is base64 too, but not a blob: it stays text.
  EXPECT_NE(bytes.find("6c41414141414141414141453d"), std::string::npos);
}

TEST(CborTest, ErrorAnswer) {
  json::value err = {{"__type", "ResourceNotFoundException"},
                     {"message", "Stream orders under account 000000000000 not found."}};
  EXPECT_EQ(Encode(err),
            "a2665f5f7479706578195265736f757263654e6f74466f756e64457863657074696f6e676d65737361"
            "6765783353747265616d206f726465727320756e646572206163636f756e7420303030303030303030"
            "303030206e6f7420666f756e642e");
}

TEST(CborTest, FromJsonTimestampsAndBlobs) {
  // Seconds -> tag 1 over milliseconds.
  EXPECT_EQ(Encode(json::parse(R"({"Timestamp":1.5})")), "a16954696d657374616d70c11905dc");
  EXPECT_EQ(Encode(json::parse(R"({"Timestamp":2})")), "a16954696d657374616d70c11907d0");
  EXPECT_EQ(Encode(json::parse(R"({"Timestamp":-1.5})")), "a16954696d657374616d70c13905db");
  // Out of range or not a number: written as it is.
  EXPECT_EQ(Encode(json::parse(R"({"Timestamp":1e300})")),
            "a16954696d657374616d70fb7e37e43c8800759c");
  EXPECT_EQ(Encode(json::parse(R"({"Timestamp":"x"})")), "a16954696d657374616d706178");
  // A number elsewhere stays a number.
  EXPECT_EQ(Encode(json::parse(R"({"Other":2})")), "a1654f7468657202");
  // Canonical base64 under Data -> bytes; anything else stays text.
  EXPECT_EQ(Encode(json::parse(R"({"Data":"QUI="})")), "a16444617461424142");
  EXPECT_EQ(Encode(json::parse(R"({"Data":""})")), "a1644461746140");
  EXPECT_EQ(Encode(json::parse(R"({"Data":"QUJ="})")), "a164446174616451554a3d");  // trailing bits
  EXPECT_EQ(Encode(json::parse(R"({"Data":"QUI"})")), "a1644461746163515549");     // no padding
  EXPECT_EQ(Encode(json::parse(R"({"Data":"not base64!"})")),
            "a164446174616b6e6f742062617365363421");
  EXPECT_EQ(Encode(json::parse(R"({"Data":5})")), "a1644461746105");
}

TEST(CborTest, RoundTrips) {
  for (const char* text : {
           R"({"StreamName":"s","Records":[{"Data":"AAECAw==","PartitionKey":"p"}]})",
           R"({"Timestamp":1787036486.712,"StreamCreationTimestamp":1700000000})",
           R"({"a":[1,-1,1.25,1e300,-4.1,true,false,null,"",{"b":{}}],"u":18446744073709551615})",
           R"({"n":-9223372036854775808,"m":9223372036854775807,"f":3.4028234663852886e+38})",
           R"({"Records":[{"ApproximateArrivalTimestamp":0.001,"Data":""}]})",
       }) {
    json::value v = json::parse(text);
    auto back = ToJson(FromJson(v, kKinesisSchema), kKinesisSchema);
    ASSERT_TRUE(back.ok()) << text << ": " << back.status().ToString();
    EXPECT_EQ(*back, v) << text << " came back as " << json::serialize(*back);
  }
}

TEST(CborTest, Errors) {
  struct Case {
    std::string bytes;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"", "CBOR: empty input at byte 0"},
      {Unhex("1a0001"), "CBOR: truncated input: an item's argument is cut at byte 0"},
      {Unhex("83"), "CBOR: truncated input: an array of 3 items runs past the end at byte 0"},
      {Unhex("82010203"), "CBOR: trailing bytes after the data item (1) at byte 3"},
      {Unhex("a201020304"), "CBOR: a map key that is not a text string at byte 1"},
      {Unhex("bf01"), "CBOR: a map key that is not a text string at byte 1"},
      {Unhex("a2616101616102"), "CBOR: duplicate map key \"a\" at byte 4"},
      {Unhex("bf616101616102ff"), "CBOR: duplicate map key \"a\" at byte 4"},
      {Unhex("6461"), "CBOR: truncated input: a string of 4 bytes runs past the end at byte 0"},
      {Unhex("5b0fffffffffffffff"),
       "CBOR: truncated input: a string of 1152921504606846975 bytes runs past the end at byte 0"},
      {Unhex("9b0fffffffffffffff00"),
       "CBOR: truncated input: an array of 1152921504606846975 items runs past the end at byte 0"},
      {Unhex("bb0fffffffffffffff6161"),
       "CBOR: truncated input: a map of 1152921504606846975 entries runs past the end at byte 0"},
      {Unhex("a1616162c328"), "CBOR: invalid UTF-8 in a text string at byte 3"},
      {Unhex("62c080"), "CBOR: invalid UTF-8 in a text string at byte 0"},        // overlong
      {Unhex("63eda080"), "CBOR: invalid UTF-8 in a text string at byte 0"},      // surrogate
      {Unhex("7f61c361bcff"), "CBOR: invalid UTF-8 in a text string at byte 1"},  // split char
      {Unhex("7f4161ff"),
       "CBOR: a chunk of an indefinite-length string is not a definite string of its type at byte "
       "1"},
      {Unhex("5f5fffff"),
       "CBOR: a chunk of an indefinite-length string is not a definite string of its type at byte "
       "1"},
      {Unhex("7f6161"),
       "CBOR: truncated input: an indefinite-length string lacks its break at byte 0"},
      {Unhex("9f01"),
       "CBOR: truncated input: an indefinite-length array lacks its break at byte 0"},
      {Unhex("bf616101"),
       "CBOR: truncated input: an indefinite-length map lacks its break at byte 0"},
      {Unhex("a16161"), "CBOR: truncated input: a data item expected at byte 3"},
      {Unhex("ff"), "CBOR: unexpected break at byte 0"},
      {Unhex("81ff"), "CBOR: unexpected break at byte 1"},
      {Unhex("1c"), "CBOR: reserved additional information 28 at byte 0"},
      {Unhex("1f"), "CBOR: an integer with indefinite length at byte 0"},
      {Unhex("df00"), "CBOR: a tag with indefinite length at byte 0"},
      {Unhex("3b8000000000000000"), "CBOR: a negative integer below -2^63 at byte 0"},
      {Unhex("c2420100"), "CBOR: bignums (tags 2 and 3) are not supported at byte 0"},
      {Unhex("fb7ff8000000000000"), "CBOR: a NaN or infinite float (JSON has none) at byte 0"},
      {Unhex("f0"), "CBOR: unsupported simple value 16 at byte 0"},
      {Unhex("f818"), "CBOR: unsupported simple value 24 at byte 0"},
  };
  for (const Case& c : cases) EXPECT_EQ(DecodeError(c.bytes), c.message) << Hex(c.bytes);
}

TEST(CborTest, NestingBound) {
  std::string ok(kMaxDepth, '\x81');
  ok.push_back('\x00');
  EXPECT_TRUE(ToJson(ok, kKinesisSchema).ok());
  std::string deep(kMaxDepth + 1, '\x81');
  deep.push_back('\x00');
  EXPECT_EQ(DecodeError(deep), "CBOR: nesting deeper than 64 at byte 64");
  // Tags count too (a tag chain allocates nothing but still recurses).
  std::string tags(100000, '\xd8');
  for (size_t i = 1; i < tags.size(); i += 2) tags[i] = '\x20';
  tags.push_back('\x00');
  EXPECT_NE(DecodeError(tags).find("nesting deeper than 64"), std::string::npos);
  // A million nested indefinite arrays: refused at the bound, not by the stack.
  EXPECT_NE(DecodeError(std::string(1000000, '\x9f')).find("nesting deeper"), std::string::npos);
}

TEST(CborTest, LargeStringsAndIndefiniteChunks) {
  std::string big(100000, 'x');
  std::string cbor = Unhex("7a000186a0") + big;
  EXPECT_EQ(Decode(Hex(cbor)), json::value(big));
  // 1000 chunks of "ab".
  std::string chunked = "\x7f";
  for (int i = 0; i < 1000; ++i)
    chunked +=
        "\x62"
        "ab";
  chunked += "\xff";
  auto r = ToJson(chunked, kKinesisSchema);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->get_string().size(), 2000u);
  // An indefinite key.
  EXPECT_EQ(Decode("bf7f624461626461ff4101ff"), json::parse(R"({"Dada":"AQ=="})"));
}

// Counts the bytes a value holds at its peak.
class CountingResource : public json::memory_resource {
 public:
  size_t peak() const { return peak_; }

 private:
  void* do_allocate(size_t n, size_t align) override {
    live_ += n;
    peak_ = std::max(peak_, live_);
    return ::operator new(n, std::align_val_t(align));
  }
  void do_deallocate(void* p, size_t n, size_t align) override {
    live_ -= n;
    ::operator delete(p, std::align_val_t(align));
  }
  bool do_is_equal(const json::memory_resource& other) const noexcept override {
    return this == &other;
  }
  size_t live_ = 0;
  size_t peak_ = 0;
};

TEST(CborTest, AllocatesASmallMultipleOfTheInput) {
  std::vector<std::string> inputs;
  inputs.push_back(Unhex("5b0fffffffffffffff") + std::string(100, 'x'));
  inputs.push_back(Unhex("9b0fffffffffffffff") + std::string(100, '\0'));
  inputs.push_back(Unhex("bb0fffffffffffffff") + std::string(100, '\0'));
  inputs.push_back(Unhex("9affffffff") + std::string(60000, '\0'));  // truncated
  inputs.push_back(Unhex("9a0000ea60") + std::string(60000, '\0'));  // [0, 0, ...]
  std::string indefinite = "\x9f" + std::string(60000, '\xf6') + "\xff";
  inputs.push_back(indefinite);
  std::string nested_maps = "\x9f";  // [_ {"":0}, {"":0}, ...]
  for (int i = 0; i < 20000; ++i) nested_maps += std::string("\xa1\x60\x00", 3);
  nested_maps += "\xff";
  inputs.push_back(nested_maps);
  std::string wide_map = "\xbf";  // {_ "k0":null, "k1":null, ...}
  for (int i = 0; i < 10000; ++i) {
    std::string key = std::to_string(i);
    wide_map += static_cast<char>(0x60 + key.size()) + key + "\xf6";
  }
  wide_map += "\xff";
  inputs.push_back(wide_map);
  for (const std::string& in : inputs) {
    CountingResource counter;
    {
      auto r = ToJson(in, kKinesisSchema, &counter);
      // The last four are well formed.
      EXPECT_EQ(r.ok(), &in >= &inputs[inputs.size() - 4]) << Hex(in.substr(0, 9));
    }
    EXPECT_LE(counter.peak(), 64 * in.size() + 1024) << Hex(in.substr(0, 9));
  }
}

std::string PutRecordsBody(int records, size_t data_bytes) {
  json::array recs;
  for (int i = 0; i < records; ++i) {
    recs.push_back(json::object{{"Data", base64::Encode(std::string(data_bytes, 'a' + i % 26))},
                                {"PartitionKey", "partition-" + std::to_string(i)}});
  }
  return FromJson(json::value{{"Records", recs}, {"StreamName", "orders"}}, kKinesisSchema);
}

// CPU time of the calling thread (the machine's other load does not count).
double ThreadCpuMicros() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

TEST(CborTest, PutRecordsOf500RecordsIsFast) {
  const std::string body = PutRecordsBody(500, 100);
  constexpr int kRounds = 50;
  double heap_us = 0, arena_us = 0;
  for (int i = 0; i < kRounds; ++i) {
    double start = ThreadCpuMicros();
    {
      auto r = ToJson(body, kKinesisSchema);
      ASSERT_TRUE(r.ok());
      ASSERT_EQ(r->at("Records").as_array().size(), 500u);
    }
    heap_us += ThreadCpuMicros() - start;
    start = ThreadCpuMicros();
    {
      json::monotonic_resource arena;
      auto r = ToJson(body, kKinesisSchema, &arena);
      ASSERT_TRUE(r.ok());
      ASSERT_EQ(r->at("Records").as_array().size(), 500u);
    }
    arena_us += ThreadCpuMicros() - start;
  }
  heap_us /= kRounds;
  arena_us /= kRounds;
  std::printf(
      "ToJson of a 500-record PutRecords body (%zu bytes), CPU per call: %.0f us "
      "(heap), %.0f us (monotonic_resource)\n",
      body.size(), heap_us, arena_us);
  // Well under a millisecond; the bound leaves room for an unoptimized or
  // instrumented build.
  EXPECT_LT(heap_us, 10000);
  EXPECT_LT(arena_us, 10000);
}

}  // namespace
}  // namespace hydrant::api::cbor
