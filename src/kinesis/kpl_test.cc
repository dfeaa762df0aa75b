#include "kinesis/kpl.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <ostream>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/base64.h"

namespace hydrant::kinesis {

void PrintTo(const UserRecord& u, std::ostream* os) {
  *os << "{pk=\"" << u.partition_key << "\" ehk=" << (u.explicit_hash_key ? "\"" + std::string(*u.explicit_hash_key) + "\"" : "none")
      << " data=" << u.data.size() << " bytes}";
}

namespace {

// ---- Hand-built protobuf, for the malformed cases ----

std::string Varint(uint64_t v) {
  std::string s;
  while (v >= 0x80) {
    s.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  s.push_back(static_cast<char>(v));
  return s;
}
std::string Tag(uint32_t field, uint32_t wire) { return Varint(uint64_t{field} << 3 | wire); }
std::string Uint(uint32_t field, uint64_t v) { return Tag(field, 0) + Varint(v); }
std::string Len(uint32_t field, std::string_view v) { return Tag(field, 2) + Varint(v.size()) + std::string(v); }
std::string Hex(std::string_view hex) {
  std::string s;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) s.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  return s;
}

std::string Md5(std::string_view bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_md5(), nullptr);
  return std::string(reinterpret_cast<const char*>(md), len);
}
// An aggregate around `protobuf`: magic, the bytes, their MD5.
std::string Wrap(std::string_view protobuf) { return std::string(kKplMagic) + std::string(protobuf) + Md5(protobuf); }

// Record{partition_key_index, data} as a field 3 of AggregatedRecord.
std::string Rec(uint64_t pk, std::string_view data, std::string extra = "") {
  return Len(3, Uint(1, pk) + Len(3, data) + extra);
}

// De-aggregates, expecting false and a cleared output.
bool Rejected(std::string_view record) {
  std::vector<UserRecord> out{UserRecord{"stale", std::nullopt, "stale"}};
  const bool ok = Deaggregate(record, &out);
  return !ok && out.empty();
}

// De-aggregates a copy of `record` kept for the whole test program, so the
// views it returns outlive a temporary argument.
std::vector<UserRecord> MustDeaggregate(std::string_view record) {
  static std::deque<std::string> kept;
  std::vector<UserRecord> out;
  EXPECT_TRUE(Deaggregate(kept.emplace_back(record), &out));
  return out;
}

// ---- The fixtures of tests/fixtures/kpl/ (tests/js/kpl_fixtures.mjs) ----

struct FixtureCase {
  std::string name;
  std::string built_by;
  std::vector<std::string> keys;  // owns the strings the records view
  std::vector<UserRecord> records;
};

std::string FixtureDir() { return std::string(HYDRANT_SOURCE_DIR) + "/tests/fixtures/kpl"; }

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::vector<FixtureCase> LoadCases() {
  const auto doc = boost::json::parse(ReadFile(FixtureDir() + "/cases.json"));
  std::vector<FixtureCase> cases;
  for (const auto& c : doc.as_array()) {
    FixtureCase fc;
    fc.name = c.at("name").as_string().c_str();
    fc.built_by = c.at("built_by").as_string().c_str();
    const auto& records = c.at("records").as_array();
    fc.keys.reserve(records.size() * 3);  // no reallocation: records view these strings
    for (const auto& r : records) {
      UserRecord u;
      fc.keys.emplace_back(r.at("partition_key").as_string().c_str());
      u.partition_key = fc.keys.back();
      if (const auto* ehk = r.as_object().if_contains("explicit_hash_key")) {
        fc.keys.emplace_back(ehk->as_string().c_str());
        u.explicit_hash_key = fc.keys.back();
      }
      fc.keys.push_back(*base64::Decode(std::string_view(r.at("data").as_string())));
      u.data = fc.keys.back();
      fc.records.push_back(u);
    }
    cases.push_back(std::move(fc));
  }
  return cases;
}

TEST(KplFixtures, DeaggregatesWhatAwsKinesisAggBuilt) {
  const auto cases = LoadCases();
  int seen = 0;
  for (const auto& c : cases) {
    if (c.built_by != "aws-kinesis-agg") continue;
    ++seen;
    SCOPED_TRACE(c.name);
    const std::string bytes = ReadFile(FixtureDir() + "/" + c.name + ".bin");
    std::vector<UserRecord> out;
    ASSERT_TRUE(Deaggregate(bytes, &out));
    ASSERT_EQ(out.size(), c.records.size());
    for (size_t i = 0; i < out.size(); ++i) {
      EXPECT_EQ(out[i], c.records[i]) << "record " << i;
      // Views into the record, not copies.
      EXPECT_GE(out[i].data.data(), bytes.data());
      EXPECT_LE(out[i].data.data() + out[i].data.size(), bytes.data() + bytes.size());
    }
  }
  EXPECT_EQ(seen, 5);
}

TEST(KplFixtures, AggregateMatchesAwsKinesisAggByteForByte) {
  for (const auto& c : LoadCases()) {
    if (c.built_by != "aws-kinesis-agg") continue;
    SCOPED_TRACE(c.name);
    EXPECT_EQ(Aggregate(c.records), ReadFile(FixtureDir() + "/" + c.name + ".bin"));
  }
}

// The hydrant-built fixtures are what tests/integration/test_kpl_format.py has
// aws-kinesis-agg read; this keeps them equal to Aggregate's output.
// HYDRANT_KPL_WRITE_FIXTURES=1 rewrites them.
TEST(KplFixtures, AggregateMatchesTheCommittedHydrantFixtures) {
  const bool write = std::getenv("HYDRANT_KPL_WRITE_FIXTURES") != nullptr;
  int seen = 0;
  for (const auto& c : LoadCases()) {
    if (c.built_by != "hydrant") continue;
    ++seen;
    SCOPED_TRACE(c.name);
    const std::string bytes = Aggregate(c.records);
    const std::string path = FixtureDir() + "/" + c.name + ".bin";
    if (write) std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
    EXPECT_EQ(bytes, ReadFile(path));
    EXPECT_EQ(MustDeaggregate(bytes), c.records);
  }
  EXPECT_EQ(seen, 2);
}

// ---- The format, restated (docs/kinesis.md) ----

TEST(Kpl, OneRecordIsLaidOutAsTheDocumentSays) {
  const std::vector<UserRecord> in{{"a", std::nullopt, "hello"}};
  // partition_key_table "a"; records { partition_key_index 0, data "hello" }.
  const std::string protobuf = Hex("0a0161" "1a09" "0800" "1a0568656c6c6f");
  EXPECT_EQ(Aggregate(in), Hex("f3899ac2") + protobuf + Md5(protobuf));
  EXPECT_EQ(MustDeaggregate(Aggregate(in)), in);
}

TEST(Kpl, RoundTripsWithSharedKeysAndExplicitHashKeys) {
  const std::string big(300, 'x');
  const std::vector<UserRecord> in{
      {"k1", std::nullopt, "a"}, {"k2", "42", ""}, {"k1", "42", big}, {"k3", "7", std::string_view("\0\xff", 2)}, {"k2", std::nullopt, "z"}};
  const std::string agg = Aggregate(in);
  EXPECT_EQ(MustDeaggregate(agg), in);
  // Each key is written once.
  EXPECT_EQ(agg.find("k1"), agg.rfind("k1"));
  EXPECT_EQ(agg.find("42"), agg.rfind("42"));
}

TEST(Kpl, KeysAreBytesAsWritten) {
  // Neither UTF-8 nor the decimal form of explicit hash keys is checked here
  // (proto2 strings; the KCL does not check them at parse time either).
  const std::string protobuf = Len(1, "\xff\xfe") + Len(2, "not-a-number") + Len(3, Uint(1, 0) + Uint(2, 0) + Len(3, "d"));
  const auto out = MustDeaggregate(Wrap(protobuf));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].partition_key, "\xff\xfe");
  EXPECT_EQ(out[0].explicit_hash_key, "not-a-number");
}

// ---- What is not an aggregate: passed on whole ----

TEST(Kpl, RecordsWithoutTheMagicOrTooShortAreNotAggregates) {
  EXPECT_TRUE(Rejected(""));
  EXPECT_TRUE(Rejected("hello"));
  EXPECT_TRUE(Rejected(kKplMagic));
  std::string other = Wrap(Len(1, "a") + Rec(0, "x"));
  EXPECT_FALSE(Rejected(other));
  other[3] = 'X';
  EXPECT_TRUE(Rejected(other));
  // Magic and a valid MD5 of an empty protobuf: the KCL passes this on whole.
  EXPECT_EQ(Wrap("").size(), 20u);
  EXPECT_TRUE(Rejected(Wrap("")));
  EXPECT_EQ(Aggregate({}), Wrap(""));
  // Magic and fewer than 16 more bytes.
  EXPECT_TRUE(Rejected(std::string(kKplMagic) + "0123456789"));
}

TEST(Kpl, AnAggregateOfNoRecordsYieldsNoRecords) {
  std::vector<UserRecord> out{UserRecord{"stale", std::nullopt, "stale"}};
  EXPECT_TRUE(Deaggregate(Wrap(Len(1, "a") + Len(2, "1")), &out));
  EXPECT_TRUE(out.empty());
  EXPECT_TRUE(Deaggregate(Wrap(Uint(15, 1)), &out));  // only an unknown field
  EXPECT_TRUE(out.empty());
}

TEST(Kpl, AnMd5MismatchIsNotAnAggregate) {
  const std::string good = Aggregate(std::vector<UserRecord>{{"p", std::nullopt, "data"}, {"q", "5", "more"}});
  ASSERT_FALSE(Rejected(good));
  for (size_t at : {good.size() - 1, good.size() - 16, good.size() - 17, size_t{4}}) {
    std::string bad = good;
    bad[at] ^= 0x01;
    EXPECT_TRUE(Rejected(bad)) << "byte " << at;
  }
  EXPECT_TRUE(Rejected(good.substr(0, good.size() - 1)));
  EXPECT_TRUE(Rejected(good + "x"));
}

TEST(Kpl, IndexesPastTheirTablesAreNotAggregates) {
  const std::string tables = Len(1, "a") + Len(1, "b") + Len(2, "9");
  EXPECT_FALSE(Rejected(Wrap(tables + Rec(1, "x"))));
  EXPECT_TRUE(Rejected(Wrap(tables + Rec(2, "x"))));
  EXPECT_TRUE(Rejected(Wrap(tables + Rec(uint64_t{1} << 32, "x"))));  // the KCL's (int) cast would read 0
  EXPECT_TRUE(Rejected(Wrap(tables + Rec(UINT64_MAX, "x"))));
  EXPECT_FALSE(Rejected(Wrap(tables + Rec(0, "x", Uint(2, 0)))));
  EXPECT_TRUE(Rejected(Wrap(tables + Rec(0, "x", Uint(2, 1)))));
  EXPECT_TRUE(Rejected(Wrap(Len(1, "a") + Rec(0, "x", Uint(2, 0)))));  // no hash key table
  // One bad record spoils the aggregate, even after good ones.
  EXPECT_TRUE(Rejected(Wrap(tables + Rec(0, "x") + Rec(1, "y") + Rec(5, "z"))));
  EXPECT_TRUE(Rejected(Wrap(Rec(0, "x"))));  // no tables at all
}

TEST(Kpl, MissingRequiredFieldsAreNotAggregates) {
  const std::string pk = Len(1, "a");
  EXPECT_TRUE(Rejected(Wrap(pk + Len(3, Len(3, "x")))));               // no partition_key_index
  EXPECT_TRUE(Rejected(Wrap(pk + Len(3, Uint(1, 0)))));                // no data
  EXPECT_TRUE(Rejected(Wrap(pk + Len(3, ""))));                        // an empty record
  EXPECT_TRUE(Rejected(Wrap(pk + Rec(0, "x", Len(4, Len(2, "v"))))));  // a tag without its key
  EXPECT_FALSE(Rejected(Wrap(pk + Rec(0, "x", Len(4, Len(1, "k"))))));
  EXPECT_FALSE(Rejected(Wrap(pk + Rec(0, "x", Len(4, Len(1, "k") + Len(2, "v")) + Len(4, Len(1, ""))))));
  EXPECT_FALSE(Rejected(Wrap(pk + Rec(0, ""))));  // empty data is data
}

// ---- Protobuf semantics ----

TEST(Kpl, UnknownFieldsOfEveryWireTypeAreSkippedAtEveryLevel) {
  const std::string unknown = Uint(9, 300) + Tag(10, 1) + "12345678" + Len(11, "skip me") + Tag(12, 5) + "1234" +
                              Tag(13, 3) + Uint(1, 5) + Tag(14, 3) + Len(2, "in") + Tag(14, 4) + Tag(13, 4) +
                              Len(536870911, "largest field number");
  const std::string protobuf = unknown + Len(1, "pk") + unknown + Len(2, "17") +
                               Len(3, unknown + Uint(1, 0) + unknown + Uint(2, 0) + Len(3, "data") +
                                          Len(4, unknown + Len(1, "k") + unknown + Len(2, "v") + unknown) + unknown) +
                               unknown;
  const auto out = MustDeaggregate(Wrap(protobuf));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], (UserRecord{"pk", "17", "data"}));
}

TEST(Kpl, AKnownFieldNumberWithAnotherWireTypeIsAnUnknownField) {
  // As protobuf's generated parsers do (they match the whole tag).
  const std::string pk = Len(1, "a");
  auto out = MustDeaggregate(Wrap(pk + Uint(1, 7) + Uint(3, 1) + Rec(0, "x")));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].partition_key, "a");
  out = MustDeaggregate(Wrap(pk + Len(3, Uint(1, 0) + Tag(3, 5) + "abcd" + Len(3, "x") + Len(2, "zz"))));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], (UserRecord{"a", std::nullopt, "x"}));
  EXPECT_TRUE(Rejected(Wrap(pk + Len(3, Uint(1, 0) + Uint(3, 5)))));  // data as a varint: no data
  EXPECT_TRUE(Rejected(Wrap(pk + Len(3, Len(1, Varint(0)) + Len(3, "x")))));  // a "packed" index: no index
}

TEST(Kpl, TheLastValueOfARepeatedSingularFieldWins) {
  const std::string protobuf = Len(1, "a") + Len(1, "b") + Len(3, Uint(1, 0) + Len(3, "first") + Uint(1, 1) + Len(3, "last"));
  const auto out = MustDeaggregate(Wrap(protobuf));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], (UserRecord{"b", std::nullopt, "last"}));
}

TEST(Kpl, TablesMayComeAfterTheRecords) {
  const auto out = MustDeaggregate(Wrap(Rec(1, "x") + Len(1, "a") + Rec(0, "y", Uint(2, 0)) + Len(1, "b") + Len(2, "5")));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0], (UserRecord{"b", std::nullopt, "x"}));
  EXPECT_EQ(out[1], (UserRecord{"a", "5", "y"}));
}

TEST(Kpl, WireErrorsAreNotAggregates) {
  const std::string ok = Len(1, "a") + Rec(0, "x");
  ASSERT_FALSE(Rejected(Wrap(ok)));
  EXPECT_TRUE(Rejected(Wrap(ok + "\x80")));                          // a truncated tag
  EXPECT_TRUE(Rejected(Wrap(ok + Tag(9, 0) + "\xff")));              // a truncated varint
  EXPECT_TRUE(Rejected(Wrap(ok + Tag(9, 0) + std::string(10, '\xff') + "\x01")));  // 11 bytes
  EXPECT_TRUE(Rejected(Wrap(ok + std::string(1, '\0'))));            // tag 0
  EXPECT_TRUE(Rejected(Wrap(ok + Len(0, "x"))));                     // field 0
  EXPECT_TRUE(Rejected(Wrap(ok + Tag(9, 6))));                       // wire type 6
  EXPECT_TRUE(Rejected(Wrap(ok + Tag(9, 7) + "x")));                 // wire type 7
  EXPECT_TRUE(Rejected(Wrap(ok + Tag(9, 4))));                       // an end-group alone
  EXPECT_TRUE(Rejected(Wrap(Len(1, "a") + Len(3, Uint(1, 0) + Len(3, "x") + Tag(9, 4)))));  // ...in a record
  EXPECT_TRUE(Rejected(Wrap(ok + Tag(9, 3) + Uint(1, 1))));          // an unterminated group
  EXPECT_TRUE(Rejected(Wrap(ok + Tag(9, 3) + Tag(8, 4))));           // a group ended by another field
  EXPECT_TRUE(Rejected(Wrap(ok + Tag(9, 1) + "1234567")));           // a truncated fixed64
  EXPECT_TRUE(Rejected(Wrap(ok + Tag(9, 5) + "123")));               // a truncated fixed32
  EXPECT_TRUE(Rejected(Wrap(ok + Tag(9, 2) + Varint(2) + "x")));     // a length past the end
  EXPECT_TRUE(Rejected(Wrap(ok + Tag(9, 2) + Varint(uint64_t{1} << 31) + "x")));  // a "negative" length
  EXPECT_TRUE(Rejected(Wrap(ok + Tag(9, 2) + Varint(UINT32_MAX))));
  // A nested length past its record's end, though within the message.
  EXPECT_TRUE(Rejected(Wrap(Len(1, "a") + Len(3, Uint(1, 0) + Tag(3, 2) + Varint(5) + "ab") + Len(9, "xyz"))));
  EXPECT_TRUE(Rejected(Wrap(Len(1, "a") + Tag(3, 2) + Varint(100) + Uint(1, 0))));
}

TEST(Kpl, HugeVarintsReadAsProtobufReadsThem) {
  const std::string pk = Len(1, "a");
  // A 10-byte varint: bits past the 64th are dropped (index 0 here).
  const std::string index_zero = std::string(9, '\x80') + "\x7e";
  auto out = MustDeaggregate(Wrap(pk + Len(3, Tag(1, 0) + index_zero + Len(3, "x"))));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].data, "x");
  // An 11-byte varint is an error, even a zero one.
  EXPECT_TRUE(Rejected(Wrap(pk + Len(3, Tag(1, 0) + std::string(10, '\x80') + std::string(1, '\0') + Len(3, "x")))));
  // A length (or tag) is a varint cut to 32 bits: 2^32 + 1 reads as 1.
  out = MustDeaggregate(Wrap(pk + Len(3, Uint(1, 0) + Tag(3, 2) + Varint((uint64_t{1} << 32) + 1) + "x")));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].data, "x");
  out = MustDeaggregate(Wrap(Varint((uint64_t{1} << 35) | (1 << 3 | 2)) + Varint(1) + "a" + Rec(0, "y")));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].partition_key, "a");
  // A claimed length of 2 GiB - 1 in a tiny record: refused without allocating it.
  EXPECT_TRUE(Rejected(Wrap(pk + Tag(3, 2) + Varint(INT32_MAX))));
}

TEST(Kpl, GroupsNestUpToOneHundredDeep) {
  auto nested = [](int depth) {
    std::string s;
    for (int i = 0; i < depth; ++i) s += Tag(9, 3);
    for (int i = 0; i < depth; ++i) s += Tag(9, 4);
    return s;
  };
  const std::string ok = Len(1, "a") + Rec(0, "x");
  EXPECT_FALSE(Rejected(Wrap(ok + nested(100))));
  EXPECT_TRUE(Rejected(Wrap(ok + nested(101))));
  EXPECT_TRUE(Rejected(Wrap(ok + nested(100000))));  // no stack overflow
}

// Timing is printed, not asserted; the count is.
TEST(Kpl, DeaggregatesAMebibyteOfKibibyteRecords) {
  std::vector<std::string> keys;
  for (int i = 0; i < 100; ++i) keys.push_back("partition-key-" + std::to_string(i));
  const std::string payload(1024, 'p');
  std::vector<UserRecord> in;
  for (int i = 0; i < 1000; ++i) in.push_back({keys[i % keys.size()], std::nullopt, payload});
  const std::string agg = Aggregate(in);
  ASSERT_GT(agg.size(), 1000u * 1024);
  std::vector<UserRecord> out;
  constexpr int kRounds = 50;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kRounds; ++i) ASSERT_TRUE(Deaggregate(agg, &out));
  const auto per = (std::chrono::steady_clock::now() - start) / kRounds;
  EXPECT_EQ(out.size(), in.size());
  const auto md5_start = std::chrono::steady_clock::now();
  for (int i = 0; i < kRounds; ++i) ASSERT_EQ(Md5(agg).size(), 16u);
  const auto md5 = (std::chrono::steady_clock::now() - md5_start) / kRounds;
  std::printf("Deaggregate of %zu bytes, %zu records: %lld us (MD5 alone %lld us)\n", agg.size(), out.size(),
              static_cast<long long>(std::chrono::duration_cast<std::chrono::microseconds>(per).count()),
              static_cast<long long>(std::chrono::duration_cast<std::chrono::microseconds>(md5).count()));
}

}  // namespace
}  // namespace hydrant::kinesis
