// The Kinesis stream core: routing by hash key, durability across a reopen,
// resharding (split, merge, uniform scaling) and its lineage, retention, and
// the account's bounds (kinesis/kinesis_stream.h, kinesis/registry.h).
#include "kinesis/kinesis_stream.h"

#include <gtest/gtest.h>

#include <future>
#include <set>

#include "common/clock.h"
#include "common/file_util.h"
#include "kinesis/registry.h"
#include "kinesis/sequence_number.h"
#include "kinesis/shard_iterator.h"
#include "kinesis/source_record.h"
#include "testing/temp_dir.h"

namespace hydrant::kinesis {
namespace {

constexpr int64_t kT0 = 1'700'000'000'000;

struct Fixture {
  testing::TempDir dir;
  FakeClock clock{kT0};
  std::unique_ptr<KinesisRegistry> reg;

  Fixture() { Reopen(); }
  void Reopen(size_t max_open_shards = 500) {
    reg.reset();
    RegistryOptions o;
    o.dir = dir.Sub("kinesis");
    o.clock = &clock;
    o.max_open_shards = max_open_shards;
    o.trim_every = std::chrono::milliseconds(0);
    auto r = KinesisRegistry::Open(o);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    reg = std::move(r).value();
  }
};

std::vector<PutOutcome> PutSync(KinesisStream& s, std::vector<PutEntry> entries, int64_t at = kT0) {
  std::promise<Result<std::vector<PutOutcome>>> done;
  s.Put(at, entries, [&](Result<std::vector<PutOutcome>> r) { done.set_value(std::move(r)); });
  auto r = done.get_future().get();
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : std::vector<PutOutcome>{};
}

std::vector<std::string> DataOf(const KinesisStream& s, uint32_t shard, uint64_t from = 0) {
  auto r = s.Read(shard, from, 10000, 1 << 20);
  EXPECT_TRUE(r.ok());
  std::vector<std::string> out;
  if (r.ok()) {
    for (auto& rec : r->records) out.push_back(rec.partition_key + "=" + rec.data);
  }
  return out;
}

// The open shards cover every hash key exactly once, and every shard has at
// most two parents that existed before it.
void ExpectWellFormed(const StreamMeta& m) {
  std::vector<const ShardInfo*> open;
  for (const auto& s : m.shards) {
    if (s.open()) open.push_back(&s);
    if (s.parent) EXPECT_LT(*s.parent, s.index);
    if (s.adjacent_parent) EXPECT_LT(*s.adjacent_parent, s.index);
  }
  std::sort(open.begin(), open.end(), [](auto* a, auto* b) { return a->start < b->start; });
  ASSERT_FALSE(open.empty());
  EXPECT_EQ(open.front()->start, HashKey{0});
  EXPECT_EQ(open.back()->end, kMaxHashKey);
  for (size_t i = 1; i < open.size(); ++i) EXPECT_EQ(open[i - 1]->end + 1, open[i]->start);
}

TEST(KinesisStream, RecordsGoToTheShardOwningTheirHashKeyAndSurviveAReopen) {
  Fixture f;
  auto s = f.reg->Create("orders", 4, "PROVISIONED", {});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  const StreamMeta m = (*s)->meta();
  ASSERT_EQ(m.shards.size(), 4u);
  // AWS's even ranges: 2^128 / 4 per shard.
  EXPECT_EQ(HashKeyToString(m.shards[0].end), "85070591730234615865843651857942052863");
  EXPECT_EQ(HashKeyToString(m.shards[3].start), "255211775190703847597530955573826158592");
  ExpectWellFormed(m);

  // MD5("a") = 0x0cc1... is in the first quarter; an explicit hash key picks the last.
  auto out = PutSync(**s, {{"a", std::nullopt, "one"},
                           {"a", std::nullopt, "two"},
                           {"x", kMaxHashKey, "three"}});
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].shard, 0u);
  EXPECT_EQ(out[1].shard, 0u);
  EXPECT_EQ(out[1].seq, out[0].seq + 1);
  EXPECT_EQ(out[2].shard, 3u);
  EXPECT_EQ(DataOf(**s, 0), (std::vector<std::string>{"a=one", "a=two"}));
  EXPECT_EQ(DataOf(**s, 3), (std::vector<std::string>{"x=three"}));
  EXPECT_TRUE(DataOf(**s, 1).empty());

  f.Reopen();
  auto again = f.reg->Get("orders");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->created_ms(), kT0);
  EXPECT_EQ(DataOf(*again, 0), (std::vector<std::string>{"a=one", "a=two"}));
  auto r = again->Read(0, 1, 1, 1 << 20);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->records.size(), 1u);
  EXPECT_EQ(r->records[0].seq, out[1].seq);
  EXPECT_EQ(r->records[0].arrival_ms, kT0);
  EXPECT_EQ(r->next, out[1].seq + 1);
  EXPECT_FALSE(r->shard_ended);
  EXPECT_EQ(again->Latest(0).value(), out[1].seq + 1);
}

TEST(KinesisStream, ASplitClosesTheParentAndItsRecordsStayReadableToTheEnd) {
  Fixture f;
  auto s = f.reg->Create("s", 1, "PROVISIONED", {}).value();
  PutSync(*s, {{"a", std::nullopt, "before"}});
  const HashKey mid = HashKey{1} << 127;
  ASSERT_TRUE(f.reg->Split(*s, 0, mid).ok());
  StreamMeta m = s->meta();
  ASSERT_EQ(m.shards.size(), 3u);
  EXPECT_FALSE(m.shards[0].open());
  EXPECT_EQ(m.shards[1].parent, 0u);
  EXPECT_EQ(m.shards[2].parent, 0u);
  EXPECT_EQ(m.shards[1].end, mid - 1);
  EXPECT_EQ(m.shards[2].start, mid);
  ExpectWellFormed(m);
  auto out = PutSync(*s, {{"a", std::nullopt, "after"}, {"k", kMaxHashKey, "high"}});
  EXPECT_EQ(out[0].shard, 1u);  // MD5("a") < 2^127
  EXPECT_EQ(out[1].shard, 2u);
  auto parent = s->Read(0, 0, 100, 1 << 20);
  ASSERT_TRUE(parent.ok());
  ASSERT_EQ(parent->records.size(), 1u);
  EXPECT_TRUE(parent->shard_ended);
  // Out of range, closed or unknown shards are refused.
  EXPECT_EQ(f.reg->Split(*s, 1, 0).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(f.reg->Split(*s, 0, mid).code(), StatusCode::kNotFound);
  EXPECT_EQ(f.reg->Split(*s, 9, mid).code(), StatusCode::kNotFound);
  // A merge of the two children: one open shard with both as parents.
  EXPECT_EQ(f.reg->Merge(*s, 1, 0).code(), StatusCode::kNotFound);
  ASSERT_TRUE(f.reg->Merge(*s, 1, 2).ok());
  m = s->meta();
  ASSERT_EQ(m.open_shards(), 1u);
  EXPECT_EQ(m.shards.back().parent, 1u);
  EXPECT_EQ(m.shards.back().adjacent_parent, 2u);
  ExpectWellFormed(m);
  // The lineage survives a restart.
  f.Reopen();
  EXPECT_EQ(f.reg->Get("s")->meta().ToJson(), m.ToJson());
}

TEST(KinesisStream, UpdateShardCountScalesUniformlyWithAtMostTwoParents) {
  Fixture f;
  auto s = f.reg->Create("s", 3, "PROVISIONED", {}).value();
  for (uint32_t target : {5u, 2u, 4u, 3u, 1u, 2u}) {
    ASSERT_TRUE(f.reg->UpdateShardCount(*s, target).ok()) << target;
    const StreamMeta m = s->meta();
    EXPECT_EQ(m.open_shards(), target);
    ExpectWellFormed(m);
    // Every open shard has the even range AWS gives `target` shards.
    const auto even = EvenShards(target, 0, 0);
    std::set<std::pair<std::string, std::string>> want, got;
    for (const auto& e : even) want.insert({HashKeyToString(e.start), HashKeyToString(e.end)});
    for (const auto& sh : m.shards) {
      if (sh.open()) got.insert({HashKeyToString(sh.start), HashKeyToString(sh.end)});
    }
    EXPECT_EQ(got, want) << target;
  }
  // Puts still land, in the one shard owning each key.
  auto out = PutSync(*s, {{"a", std::nullopt, "x"}});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(s->meta().Shard(out[0].shard)->open());
}

TEST(KinesisStream, RecordsPastRetentionGoAndSoDoExpiredClosedShards) {
  Fixture f;
  auto s = f.reg->Create("s", 1, "PROVISIONED", {}).value();
  PutSync(*s, {{"a", std::nullopt, "old"}}, kT0);
  PutSync(*s, {{"a", std::nullopt, "new"}}, kT0 + 3'600'000);
  EXPECT_EQ(s->AtTimestamp(0, kT0 + 1).value(), 1u);
  EXPECT_EQ(s->AtTimestamp(0, kT0 + 9'000'000).value(), 2u);
  f.clock.Set(kT0 + 24 * 3'600'000 + 1);  // the first record is 24 h and 1 ms old
  EXPECT_EQ(f.reg->TrimAll(), 1u);
  EXPECT_EQ(s->TrimHorizon(0).value(), 1u);
  EXPECT_EQ(DataOf(*s, 0), (std::vector<std::string>{"a=new"}));
  // A longer retention keeps the rest; a split shard goes once its records have.
  ASSERT_TRUE(s->SetRetention(48).ok());
  ASSERT_TRUE(f.reg->Split(*s, 0, HashKey{1} << 127).ok());
  f.clock.Advance(47 * 3'600'000);
  f.reg->TrimAll();
  EXPECT_NE(s->meta().Shard(0), nullptr);
  f.clock.Advance(2 * 3'600'000);
  f.reg->TrimAll();
  EXPECT_EQ(s->meta().Shard(0), nullptr);
  EXPECT_EQ(s->meta().shards.size(), 2u);
  EXPECT_EQ(s->Read(0, 0, 1, 1).status().code(), StatusCode::kNotFound);
}

TEST(KinesisRegistry, NamesAreUniqueAndTheAccountsBoundsHold) {
  Fixture f;
  f.Reopen(/*max_open_shards=*/4);
  ASSERT_TRUE(f.reg->Create("a", 3, "PROVISIONED", {{"team", "x"}}).ok());
  EXPECT_EQ(f.reg->Create("a", 1, "PROVISIONED", {}).status().code(), StatusCode::kAlreadyExists);
  auto over = f.reg->Create("b", 2, "PROVISIONED", {});
  EXPECT_EQ(over.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(over.status().message().find("Limit: 4"), std::string::npos);
  EXPECT_TRUE(f.reg->Create("b", 1, "PROVISIONED", {}).ok());
  EXPECT_EQ(f.reg->Split(*f.reg->Get("b"), 0, 5).code(), StatusCode::kResourceExhausted);
  // A stream named ".." stays in its own folder (no shards: the quota is full).
  EXPECT_EQ(f.reg->Create("..", 0, "PROVISIONED", {}).status().code(), StatusCode::kOk);
  ASSERT_TRUE(f.reg->Delete("a").ok());
  EXPECT_EQ(f.reg->Delete("a").code(), StatusCode::kNotFound);
  f.Reopen(4);
  EXPECT_EQ(f.reg->List(), (std::vector<std::string>{"..", "b"}));
  EXPECT_EQ(f.reg->Get("b")->meta().tags.size(), 0u);
}

TEST(SequenceNumbers, EncodeTheStreamTheShardAndThePosition) {
  const SequencePosition p{kT0, 7, 123456789};
  const std::string s = EncodeSequenceNumber(p);
  EXPECT_EQ(s.size(), 44u);
  EXPECT_TRUE(s.starts_with("49"));
  auto back = DecodeSequenceNumber(s);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->stream_epoch_ms, kT0);
  EXPECT_EQ(back->shard, 7u);
  EXPECT_EQ(back->seq, 123456789u);
  EXPECT_LT(EncodeSequenceNumber({kT0, 7, 9}), EncodeSequenceNumber({kT0, 7, 10}));
  EXPECT_FALSE(DecodeSequenceNumber("12"));
  EXPECT_FALSE(DecodeSequenceNumber(std::string(44, '9')));
  EXPECT_FALSE(DecodeSequenceNumber("49" + std::string(41, '0') + "x"));
  EXPECT_EQ(ShardId(7), "shardId-000000000007");
  EXPECT_EQ(ParseShardId("shardId-000000000007"), 7u);
  EXPECT_FALSE(ParseShardId("shardId-7"));
  EXPECT_FALSE(ParseShardId("shardId-00000000000x"));
}

TEST(ShardIterators, RoundTripAndRefuseAlteredOrForeignTokens) {
  IteratorCodec codec(std::string(32, 'k'));
  const IteratorState st{"orders", kT0, 3, 42, kT0 + 5};
  const std::string token = codec.Encode(st);
  auto back = codec.Decode(token);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->stream_name, "orders");
  EXPECT_EQ(back->stream_epoch_ms, kT0);
  EXPECT_EQ(back->shard, 3u);
  EXPECT_EQ(back->seq, 42u);
  EXPECT_EQ(back->issued_ms, kT0 + 5);
  // Any changed character, another key, or garbage: not ours.
  for (size_t i = 0; i < token.size(); ++i) {
    std::string t = token;
    t[i] = t[i] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(codec.Decode(t)) << i;
  }
  EXPECT_FALSE(IteratorCodec(std::string(32, 'j')).Decode(token));
  EXPECT_FALSE(codec.Decode(""));
  EXPECT_FALSE(codec.Decode("not a token"));
}

}  // namespace
}  // namespace hydrant::kinesis

namespace hydrant::kinesis {
namespace {

TEST(SourceRecords, KeepTheKinesisMetadataBesideTheData) {
  std::string p;
  const SourceRecordMeta m{"shardId-000000000002", "pk", "4901", 3, kT0};
  AppendSourceRecord(m, std::string("da\0ta", 5), &p);
  auto v = ParseSourceRecord(p);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->meta.shard_id, "shardId-000000000002");
  EXPECT_EQ(v->meta.partition_key, "pk");
  EXPECT_EQ(v->meta.sequence_number, "4901");
  EXPECT_EQ(v->meta.subsequence_number, 3u);
  EXPECT_EQ(v->meta.approximate_arrival_ms, kT0);
  EXPECT_EQ(v->data, std::string_view("da\0ta", 5));
  // Every cut of the header is refused, never read past.
  for (size_t n = 0; n < p.size() - 5; ++n) EXPECT_FALSE(ParseSourceRecord(p.substr(0, n))) << n;
  EXPECT_FALSE(ParseSourceRecord("\x02" + p.substr(1)));
}

}  // namespace
}  // namespace hydrant::kinesis

namespace hydrant::kinesis {
namespace {

TEST(KinesisRegistry, ADamagedStreamIsLeftAloneAndTheOthersOpen) {
  Fixture f;
  ASSERT_TRUE(f.reg->Create("good", 1, "PROVISIONED", {}).ok());
  ASSERT_TRUE(f.reg->Create("bad", 1, "PROVISIONED", {}).ok());
  PutSync(*f.reg->Get("bad"), {{"a", std::nullopt, "kept"}});
  f.reg.reset();
  const std::string meta = f.dir.Sub("kinesis/streams/s-bad/stream.json");
  ASSERT_TRUE(fs::WriteFileAtomic(meta, "{not json").ok());
  f.Reopen();
  EXPECT_TRUE(f.reg->Get("good"));
  EXPECT_FALSE(f.reg->Get("bad"));
  EXPECT_EQ(f.reg->List(), (std::vector<std::string>{"good"}));
  // Its name stays taken, and its files stay as they were.
  auto again = f.reg->Create("bad", 1, "PROVISIONED", {});
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  EXPECT_NE(again.status().message().find("cannot be opened"), std::string::npos);
  EXPECT_TRUE(fs::Exists(f.dir.Sub("kinesis/streams/s-bad/shard-0")));
  EXPECT_EQ(fs::ReadFile(meta).value(), "{not json");
}

}  // namespace
}  // namespace hydrant::kinesis
