// RemoteKinesisReader against a real kinesalite 3.3.3 (tests/js/node_modules,
// installed by `make test-deps`), started once for the suite on a free port:
// streams are created, filled with PutRecords and resharded through signed calls
// over the CurlHttpClient, then read back through the reader. A missing node or
// kinesalite fails the suite (it does not skip). The scripted-client cases are
// in remote_kinesis_reader_unit_test.cc.

#include "sources/remote_kinesis_reader.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <simdjson.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include "common/base64.h"

extern char** environ;

namespace hydrant::sources {
namespace {

using ::testing::HasSubstr;

constexpr char kAccount[] = "123456789012";
constexpr char kRegion[] = "eu-west-1";

std::string KinesaliteCli() {
  return std::string(HYDRANT_SOURCE_DIR) + "/tests/js/node_modules/kinesalite/cli.js";
}

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

bool Accepts(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  ::close(fd);
  return ok;
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string ArnOf(const std::string& stream) {
  return std::string("arn:aws:kinesis:") + kRegion + ":" + kAccount + ":stream/" + stream;
}

struct PutResult {
  std::string shard_id;
  std::string sequence_number;
  std::string data;
  std::string partition_key;
};

class KinesaliteTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!std::filesystem::exists(KinesaliteCli())) {
      start_error_ = "kinesalite is not installed at " + KinesaliteCli() +
                     ": run `make test-deps` (scripts/install-deps.sh --test)";
      return;
    }
    port_ = FreePort();
    std::string port = std::to_string(port_);
    std::string cli = KinesaliteCli();
    std::vector<std::string> args = {"node",
                                     cli,
                                     "--port",
                                     port,
                                     "--createStreamMs",
                                     "0",
                                     "--updateStreamMs",
                                     "0",
                                     "--deleteStreamMs",
                                     "0"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env_strings = {std::string("AWS_ACCOUNT_ID=") + kAccount,
                                            std::string("AWS_REGION=") + kRegion};
    for (char** e = environ; *e != nullptr; ++e) {
      std::string_view v(*e);
      if (!v.starts_with("AWS_ACCOUNT_ID=") && !v.starts_with("AWS_REGION=")) {
        env_strings.emplace_back(v);
      }
    }
    std::vector<char*> envp;
    for (auto& e : env_strings) envp.push_back(e.data());
    envp.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    int rc = ::posix_spawnp(&pid_, "node", &fa, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
      start_error_ = "cannot start node (" + std::string(strerror(rc)) +
                     "): install Node.js (`make test-deps`)";
      pid_ = 0;
      return;
    }
    for (int i = 0; i < 200 && !Accepts(port_); ++i) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        start_error_ = "kinesalite exited at start (status " + std::to_string(status) + ")";
        pid_ = 0;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (!Accepts(port_)) start_error_ = "kinesalite did not listen on port " + port + " in 10 s";
  }

  static void TearDownTestSuite() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
      pid_ = 0;
    }
  }

  void SetUp() override {
    ASSERT_TRUE(start_error_.empty()) << start_error_;
    cfg_.region = kRegion;
    cfg_.endpoint = "http://127.0.0.1:" + std::to_string(port_);
    cfg_.access_key_id = "AKIDKINESALITE";
    cfg_.secret_access_key = "kinesalite-secret-not-checked";
  }

  std::unique_ptr<RemoteKinesisReader> Reader(const std::string& stream) {
    auto r = RemoteKinesisReader::Create(cfg_, ArnOf(stream), &http_);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(r).value() : nullptr;
  }

  // A signed call through the reader's own signing and transport.
  boost::json::value Call(RemoteKinesisReader* r, std::string_view op,
                          const boost::json::object& body) {
    auto answer = r->Call(op, boost::json::serialize(body), 1u << 20);
    EXPECT_TRUE(answer.ok()) << op << ": " << answer.status().ToString();
    // CreateStream and SplitShard answer with an empty body.
    if (!answer.ok() || answer->empty()) return boost::json::value();
    return boost::json::parse(*answer);
  }

  void WaitActive(RemoteKinesisReader* r, const std::string& stream) {
    for (int i = 0; i < 100; ++i) {
      auto d = Call(r, "DescribeStreamSummary", {{"StreamName", stream}});
      if (d.is_object() &&
          d.at("StreamDescriptionSummary").at("StreamStatus").as_string() == "ACTIVE") {
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    FAIL() << stream << " did not become ACTIVE";
  }

  std::unique_ptr<RemoteKinesisReader> CreateStream(const std::string& stream, int shards) {
    auto r = Reader(stream);
    if (r == nullptr) return nullptr;
    Call(r.get(), "CreateStream", {{"StreamName", stream}, {"ShardCount", shards}});
    WaitActive(r.get(), stream);
    return r;
  }

  // PutRecords of `records` (data, partition key); the shard and sequence number of each.
  std::vector<PutResult> Put(RemoteKinesisReader* r, const std::string& stream,
                             const std::vector<std::pair<std::string, std::string>>& records) {
    boost::json::array list;
    for (const auto& [data, key] : records) {
      list.push_back({{"Data", base64::Encode(data)}, {"PartitionKey", key}});
    }
    auto answer = Call(r, "PutRecords", {{"StreamName", stream}, {"Records", list}});
    std::vector<PutResult> out;
    if (!answer.is_object()) return out;
    EXPECT_EQ(answer.at("FailedRecordCount").to_number<int64_t>(), 0);
    const auto& results = answer.at("Records").as_array();
    for (size_t i = 0; i < results.size(); ++i) {
      out.push_back({std::string(results[i].at("ShardId").as_string()),
                     std::string(results[i].at("SequenceNumber").as_string()), records[i].first,
                     records[i].second});
    }
    return out;
  }

  // Every record of a shard from `iterator` on, following NextShardIterator until a
  // call returns nothing (open shard) or the iterator ends (closed shard).
  std::vector<KinesisRecord> ReadAll(RemoteKinesisReader* r, std::string iterator,
                                     bool* ended = nullptr, size_t limit = 3) {
    std::vector<KinesisRecord> out;
    for (int calls = 0; calls < 100 && !iterator.empty(); ++calls) {
      auto batch = r->GetRecords(iterator, limit);
      EXPECT_TRUE(batch.ok()) << batch.status().ToString();
      if (!batch.ok()) break;
      EXPECT_GE(batch->millis_behind, 0);
      const bool empty = batch->records.empty();
      for (auto& rec : batch->records) out.push_back(std::move(rec));
      iterator = batch->next_iterator;
      if (empty && ended == nullptr) break;  // an open shard, read up to now
    }
    if (ended != nullptr) *ended = iterator.empty();
    return out;
  }

  std::string Iterator(RemoteKinesisReader* r, const std::string& shard, StartAt at,
                       const std::string& seq = "", int64_t ts = 0) {
    auto it = r->ShardIterator(shard, at, seq, ts);
    EXPECT_TRUE(it.ok()) << it.status().ToString();
    return it.ok() ? *it : "";
  }

  static inline int port_ = 0;
  static inline pid_t pid_ = 0;
  static inline std::string start_error_;
  aws::CurlHttpClient http_;
  RemoteKinesisConfig cfg_;
};

TEST_F(KinesaliteTest, ListShardsAndReadFromTrimHorizon) {
  auto r = CreateStream("rkr-trim", 2);
  ASSERT_NE(r, nullptr);
  auto shards = r->ListShards();
  ASSERT_TRUE(shards.ok()) << shards.status().ToString();
  ASSERT_EQ(shards->size(), 2u);
  for (const KinesisShard& s : *shards) {
    EXPECT_FALSE(s.closed);
    EXPECT_FALSE(s.parent.has_value());
  }
  EXPECT_EQ((*shards)[0].id, "shardId-000000000000");
  EXPECT_EQ((*shards)[1].id, "shardId-000000000001");

  std::vector<std::pair<std::string, std::string>> records;
  for (int i = 0; i < 24; ++i) {
    std::string data = "record-" + std::to_string(i);
    if (i % 5 == 0) data += std::string("\x00\xff\x80", 3);  // binary survives base64
    records.emplace_back(data, "key-" + std::to_string(i));
  }
  const int64_t before = NowMs();
  auto put = Put(r.get(), "rkr-trim", records);
  const int64_t after = NowMs();
  ASSERT_EQ(put.size(), records.size());

  std::map<std::string, PutResult> expected;  // by sequence number
  std::set<std::string> shards_used;
  for (const PutResult& p : put) {
    expected[p.sequence_number] = p;
    shards_used.insert(p.shard_id);
  }
  ASSERT_EQ(shards_used.size(), 2u) << "the keys should spread over both shards";

  size_t seen = 0;
  for (const KinesisShard& s : *shards) {
    auto got = ReadAll(r.get(), Iterator(r.get(), s.id, StartAt::kTrimHorizon));
    std::string previous;
    for (const KinesisRecord& rec : got) {
      auto it = expected.find(rec.sequence_number);
      ASSERT_NE(it, expected.end()) << rec.sequence_number;
      EXPECT_EQ(it->second.shard_id, s.id);
      EXPECT_EQ(rec.data, it->second.data);
      EXPECT_EQ(rec.partition_key, it->second.partition_key);
      EXPECT_GE(rec.arrival_ms, before);
      EXPECT_LE(rec.arrival_ms, after);
      if (previous.size() == rec.sequence_number.size()) {
        EXPECT_LT(previous, rec.sequence_number);  // in order
      }
      previous = rec.sequence_number;
      ++seen;
    }
  }
  EXPECT_EQ(seen, records.size());
}

TEST_F(KinesaliteTest, AfterSequenceNumberAndAtTimestamp) {
  auto r = CreateStream("rkr-positions", 2);
  ASSERT_NE(r, nullptr);
  std::vector<std::pair<std::string, std::string>> first, second;
  for (int i = 0; i < 5; ++i) first.emplace_back("first-" + std::to_string(i), "same-key");
  for (int i = 0; i < 4; ++i) second.emplace_back("second-" + std::to_string(i), "same-key");
  auto a = Put(r.get(), "rkr-positions", first);
  ASSERT_EQ(a.size(), 5u);
  const std::string shard = a[0].shard_id;

  // Read the first batch's arrival time, then put the second one strictly later.
  auto all_a = ReadAll(r.get(), Iterator(r.get(), shard, StartAt::kTrimHorizon));
  ASSERT_EQ(all_a.size(), 5u);
  // kinesalite stamps each record with its own Date.now(): a batch may span a tick.
  const int64_t first_arrival = all_a.front().arrival_ms;
  const int64_t last_first_arrival = all_a.back().arrival_ms;
  while (NowMs() <= last_first_arrival + 5)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  auto b = Put(r.get(), "rkr-positions", second);
  ASSERT_EQ(b.size(), 4u);
  EXPECT_EQ(b[0].shard_id, shard);

  // AFTER_SEQUENCE_NUMBER: the record after the third one of the first batch.
  auto after = ReadAll(
      r.get(), Iterator(r.get(), shard, StartAt::kAfterSequenceNumber, a[2].sequence_number));
  ASSERT_EQ(after.size(), 6u);
  EXPECT_EQ(after[0].sequence_number, a[3].sequence_number);
  EXPECT_EQ(after[0].data, "first-3");
  EXPECT_EQ(after[2].data, "second-0");

  // AT_TIMESTAMP: from the first record that arrived at or after the time.
  auto all = ReadAll(r.get(), Iterator(r.get(), shard, StartAt::kTrimHorizon));
  ASSERT_EQ(all.size(), 9u);
  const int64_t second_arrival = all[5].arrival_ms;
  ASSERT_GT(second_arrival, last_first_arrival);
  auto at = ReadAll(r.get(), Iterator(r.get(), shard, StartAt::kAtTimestamp, "", second_arrival));
  ASSERT_EQ(at.size(), 4u);
  EXPECT_EQ(at[0].data, "second-0");
  EXPECT_EQ(at[0].sequence_number, b[0].sequence_number);
  auto at_start =
      ReadAll(r.get(), Iterator(r.get(), shard, StartAt::kAtTimestamp, "", first_arrival));
  EXPECT_EQ(at_start.size(), 9u);

  // LATEST: only what comes after the iterator.
  std::string latest = Iterator(r.get(), shard, StartAt::kLatest);
  auto c = Put(r.get(), "rkr-positions", {{"third", "same-key"}});
  auto newer = ReadAll(r.get(), latest);
  ASSERT_EQ(newer.size(), 1u);
  EXPECT_EQ(newer[0].data, "third");
}

TEST_F(KinesaliteTest, ASplitShardsParentEndsWithAnEmptyNextIterator) {
  auto r = CreateStream("rkr-split", 2);
  ASSERT_NE(r, nullptr);
  std::vector<std::pair<std::string, std::string>> before;
  for (int i = 0; i < 12; ++i)
    before.emplace_back("before-" + std::to_string(i), "k" + std::to_string(i));
  auto put = Put(r.get(), "rkr-split", before);
  ASSERT_EQ(put.size(), before.size());
  size_t in_shard0 = 0;
  for (const PutResult& p : put) in_shard0 += p.shard_id == "shardId-000000000000";
  ASSERT_GT(in_shard0, 0u);

  // Shard 0 holds hash keys 0 .. 2^127-1: split it in the middle.
  Call(r.get(), "SplitShard",
       {{"StreamName", "rkr-split"},
        {"ShardToSplit", "shardId-000000000000"},
        {"NewStartingHashKey", "85070591730234615865843651857942052864"}});
  WaitActive(r.get(), "rkr-split");

  auto shards = r->ListShards();
  ASSERT_TRUE(shards.ok()) << shards.status().ToString();
  ASSERT_EQ(shards->size(), 4u);
  EXPECT_EQ((*shards)[0].id, "shardId-000000000000");
  EXPECT_TRUE((*shards)[0].closed);
  EXPECT_FALSE((*shards)[1].closed);
  for (int i : {2, 3}) {
    EXPECT_EQ((*shards)[i].parent, "shardId-000000000000");
    EXPECT_FALSE((*shards)[i].adjacent_parent.has_value());
    EXPECT_FALSE((*shards)[i].closed);
  }

  // Records put now go to the children, never to the closed parent.
  auto later = Put(r.get(), "rkr-split", {{"after-0", "k0"}, {"after-1", "k1"}});
  ASSERT_EQ(later.size(), 2u);
  for (const PutResult& p : later) EXPECT_NE(p.shard_id, "shardId-000000000000");

  bool ended = false;
  auto parent =
      ReadAll(r.get(), Iterator(r.get(), "shardId-000000000000", StartAt::kTrimHorizon), &ended);
  EXPECT_TRUE(ended) << "the parent's last GetRecords should have no NextShardIterator";
  EXPECT_EQ(parent.size(), in_shard0);
  for (const KinesisRecord& rec : parent) EXPECT_THAT(rec.data, HasSubstr("before-"));

  size_t in_children = 0;
  for (int i : {2, 3}) {
    in_children +=
        ReadAll(r.get(), Iterator(r.get(), (*shards)[i].id, StartAt::kTrimHorizon)).size();
  }
  size_t later_in_children = 0;
  for (const PutResult& p : later) later_in_children += p.shard_id != "shardId-000000000001";
  EXPECT_EQ(in_children, later_in_children);
}

TEST_F(KinesaliteTest, KinesalitesErrorsAreMapped) {
  auto missing = Reader("rkr-no-such-stream");
  ASSERT_NE(missing, nullptr);
  auto shards = missing->ListShards();
  EXPECT_EQ(shards.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(shards.status().error_code(), kKinesisResourceNotFound);
  EXPECT_THAT(shards.status().message(),
              HasSubstr("HTTP 400 ResourceNotFoundException: Stream rkr-no-such-stream under "
                        "account 123456789012 not found."));
  EXPECT_THAT(shards.status().message(), ::testing::Not(HasSubstr(cfg_.secret_access_key)));

  auto r = CreateStream("rkr-errors", 1);
  ASSERT_NE(r, nullptr);
  auto bad_shard = r->ShardIterator("shardId-000000000007", StartAt::kTrimHorizon, "", 0);
  EXPECT_EQ(bad_shard.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(bad_shard.status().error_code(), kKinesisResourceNotFound);
  auto bad_iterator = r->GetRecords("AAAAAAAAAAGarbageIteratorThatIsNotOneAAAAAAAAAAAAAAAAAAAA", 1);
  EXPECT_EQ(bad_iterator.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad_iterator.status().error_code(), kKinesisInvalidArgument);
  auto future =
      r->ShardIterator("shardId-000000000000", StartAt::kAtTimestamp, "", NowMs() + 3600 * 1000);
  EXPECT_EQ(future.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(future.status().message(), HasSubstr("timestampInMillis"));
}

}  // namespace
}  // namespace hydrant::sources
