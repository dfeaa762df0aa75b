#include "logs/log_store.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "common/file_util.h"
#include "testing/temp_dir.h"

// Requests are written with designated initializers naming only what a test sets;
// the other fields keep their defaults on purpose.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace hydrant::logs {
namespace {

class LogStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { root_ = dir_.Sub("root"); }

  std::unique_ptr<LogStore> OpenStore() {
    auto s = LogStore::Open(root_, &clock_);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }

  static std::vector<InputEvent> Events(std::initializer_list<std::pair<int64_t, std::string>> l) {
    std::vector<InputEvent> out;
    for (auto& [t, m] : l) out.push_back({t, m});
    return out;
  }

  static std::vector<std::string> Messages(const std::vector<OutputEvent>& events) {
    std::vector<std::string> out;
    for (const auto& e : events) out.push_back(e.message);
    return out;
  }

  ::hydrant::testing::TempDir dir_;
  std::string root_;
  FakeClock clock_{1'700'000'000'000};
};

TEST_F(LogStoreTest, ValidatesNamesAsCloudWatch) {
  EXPECT_TRUE(ValidateGroupName("/aws/lambda/my-func_1.x#y").ok());
  EXPECT_FALSE(ValidateGroupName("").ok());
  EXPECT_FALSE(ValidateGroupName("has space").ok());
  EXPECT_FALSE(ValidateGroupName("a:b").ok());
  EXPECT_FALSE(ValidateGroupName(std::string(513, 'a')).ok());
  EXPECT_TRUE(ValidateGroupName(std::string(512, 'a')).ok());
  EXPECT_TRUE(ValidateStreamName("2026/11/22/[$LATEST]0123abcd").ok());
  EXPECT_TRUE(ValidateStreamName("spaces and ünïcode").ok());
  EXPECT_FALSE(ValidateStreamName("a:b").ok());
  EXPECT_FALSE(ValidateStreamName("a*b").ok());
  EXPECT_FALSE(ValidateStreamName("").ok());
  EXPECT_FALSE(ValidateStreamName(std::string(513, 'a')).ok());

  auto store = OpenStore();
  EXPECT_EQ(store->Append("bad name", "s", Events({{1, "x"}})).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store->Append("g", "bad:name", Events({{1, "x"}})).code(),
            StatusCode::kInvalidArgument);
}

TEST_F(LogStoreTest, AppendThenReadBackWithIngestionTime) {
  auto store = OpenStore();
  ASSERT_TRUE(store
                  ->Append("/aws/lambda/f", "2026/11/22/[$LATEST]abc",
                           Events({{100, "first"}, {200, "second \"quoted\"\ttab"}}))
                  .ok());
  clock_.Advance(5);
  ASSERT_TRUE(
      store->Append("/aws/lambda/f", "2026/11/22/[$LATEST]abc", Events({{300, "third"}})).ok());

  GetEventsRequest req{.group = "/aws/lambda/f", .stream = "2026/11/22/[$LATEST]abc"};
  req.start_from_head = true;
  auto page = store->GetEvents(req);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->events.size(), 3u);
  EXPECT_EQ(Messages(page->events),
            (std::vector<std::string>{"first", "second \"quoted\"\ttab", "third"}));
  EXPECT_EQ(page->events[0].timestamp_ms, 100);
  EXPECT_EQ(page->events[0].ingestion_time_ms, 1'700'000'000'000);
  EXPECT_EQ(page->events[2].ingestion_time_ms, 1'700'000'000'005);

  auto info = store->DescribeStream("/aws/lambda/f", "2026/11/22/[$LATEST]abc");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->event_count, 3u);
  EXPECT_EQ(info->first_event_timestamp_ms, 100);
  EXPECT_EQ(info->last_event_timestamp_ms, 300);
  EXPECT_EQ(info->creation_time_ms, 1'700'000'000'000);
}

TEST_F(LogStoreTest, SurvivesReopen) {
  {
    auto store = OpenStore();
    ASSERT_TRUE(store->Append("g1", "s1", Events({{1, "a"}, {2, "b"}})).ok());
    ASSERT_TRUE(store->Append("g1", "s2", Events({{3, "c"}})).ok());
    ASSERT_TRUE(store->CreateGroup("empty").ok());
  }
  auto store = OpenStore();
  EXPECT_TRUE(store->GroupExists("empty"));
  auto page = store->GetEvents({.group = "g1", .stream = "s1", .start_from_head = true});
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(Messages(page->events), (std::vector<std::string>{"a", "b"}));
  // Appending after reopen continues the same file.
  ASSERT_TRUE(store->Append("g1", "s1", Events({{4, "d"}})).ok());
  auto again = OpenStore();
  page = again->GetEvents({.group = "g1", .stream = "s1", .start_from_head = true});
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(Messages(page->events), (std::vector<std::string>{"a", "b", "d"}));
}

std::string StreamFile(const std::string& root, std::string_view group, std::string_view stream) {
  return root + "/" + LogStore::EncodeName(group) + "/" + LogStore::EncodeName(stream) + ".log";
}

TEST_F(LogStoreTest, TornLastLineIsCutAndBadLinesSkipped) {
  {
    auto store = OpenStore();
    ASSERT_TRUE(store->Append("g", "s", Events({{1, "one"}, {2, "two"}})).ok());
  }
  std::string path = StreamFile(root_, "g", "s");
  {
    // A line that is not an event, then half a line (a write cut by a crash).
    std::ofstream f(path, std::ios::app);
    f << "garbage that is not json\n{\"t\":3,\"i\":3,\"m\":\"thr";
  }
  auto store = OpenStore();
  auto page = store->GetEvents({.group = "g", .stream = "s", .start_from_head = true});
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(Messages(page->events), (std::vector<std::string>{"one", "two"}));
  ASSERT_TRUE(store->Append("g", "s", Events({{4, "four"}})).ok());
  auto reopened = OpenStore();
  page = reopened->GetEvents({.group = "g", .stream = "s", .start_from_head = true});
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(Messages(page->events), (std::vector<std::string>{"one", "two", "four"}));
  // The torn bytes are gone from the file.
  auto content = fs::ReadFile(path);
  ASSERT_TRUE(content.ok());
  EXPECT_EQ(content->find("thr\""), std::string::npos);
  EXPECT_EQ(content->back(), '\n');
}

TEST_F(LogStoreTest, NamesCannotEscapeTheRoot) {
  auto store = OpenStore();
  // '.' and '/' are legal in group names, so "../.." is a valid name.
  ASSERT_TRUE(store->Append("../../escape", "../../../x", Events({{1, "m"}})).ok());
  ASSERT_TRUE(store->Append("..", "..", Events({{1, "m"}})).ok());
  EXPECT_FALSE(std::filesystem::exists(dir_.Sub("escape")));
  EXPECT_FALSE(std::filesystem::exists(dir_.Sub("x")));
  // Every file the store made is inside root, one directory deep.
  size_t files = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(root_)) {
    auto rel = std::filesystem::relative(e.path(), root_).string();
    EXPECT_EQ(rel.find(".."), std::string::npos) << rel;
    if (e.is_regular_file()) ++files;
  }
  EXPECT_EQ(files, 4u);  // two group.json, two stream files
  auto page = store->GetEvents({.group = "..", .stream = "..", .start_from_head = true});
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(Messages(page->events), (std::vector<std::string>{"m"}));
}

TEST_F(LogStoreTest, LongNamesAreShortenedAndStayDistinct) {
  std::string a(512, 'a'), b = std::string(511, 'a') + "b";
  std::string ea = LogStore::EncodeName(a), eb = LogStore::EncodeName(b);
  EXPECT_NE(ea, eb);
  EXPECT_LE(ea.size(), 200u);
  std::string slashes(512, '/');
  EXPECT_LE(LogStore::EncodeName(slashes).size(), 200u);
  auto store = OpenStore();
  ASSERT_TRUE(store->Append(a, a, Events({{1, "A"}})).ok());
  ASSERT_TRUE(store->Append(b, b, Events({{1, "B"}})).ok());
  auto reopened = OpenStore();
  auto pa = reopened->GetEvents({.group = a, .stream = a, .start_from_head = true});
  auto pb = reopened->GetEvents({.group = b, .stream = b, .start_from_head = true});
  ASSERT_TRUE(pa.ok() && pb.ok());
  EXPECT_EQ(Messages(pa->events), (std::vector<std::string>{"A"}));
  EXPECT_EQ(Messages(pb->events), (std::vector<std::string>{"B"}));
}

TEST_F(LogStoreTest, CreateAndAppendSemantics) {
  auto store = OpenStore();
  EXPECT_EQ(store->CreateStream("nogroup", "s").code(), StatusCode::kNotFound);
  ASSERT_TRUE(store->CreateGroup("g").ok());
  EXPECT_EQ(store->CreateGroup("g").code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(store->Append("g", "s", Events({{1, "x"}}), /*create_missing=*/false).code(),
            StatusCode::kNotFound);
  ASSERT_TRUE(store->CreateStream("g", "s").ok());
  EXPECT_EQ(store->CreateStream("g", "s").code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE(store->Append("g", "s", Events({{1, "x"}}), false).ok());
  EXPECT_EQ(store->GetEvents({.group = "g", .stream = "nope"}).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(store->GetEvents({.group = "nope", .stream = "s"}).status().code(),
            StatusCode::kNotFound);
}

TEST_F(LogStoreTest, DeleteStreamAndGroup) {
  auto store = OpenStore();
  ASSERT_TRUE(store->Append("g", "s1", Events({{1, "x"}})).ok());
  ASSERT_TRUE(store->Append("g", "s2", Events({{1, "y"}})).ok());
  ASSERT_TRUE(store->DeleteStream("g", "s1").ok());
  EXPECT_EQ(store->DeleteStream("g", "s1").code(), StatusCode::kNotFound);
  auto list = store->ListStreams({.group = "g"});
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->streams.size(), 1u);
  EXPECT_EQ(list->streams[0].name, "s2");
  ASSERT_TRUE(store->DeleteGroup("g").ok());
  EXPECT_FALSE(store->GroupExists("g"));
  auto reopened = OpenStore();
  EXPECT_FALSE(reopened->GroupExists("g"));
  EXPECT_FALSE(std::filesystem::exists(root_ + "/" + LogStore::EncodeName("g")));
}

TEST_F(LogStoreTest, MessagesBecomeValidUtf8AndAreCut) {
  auto store = OpenStore();
  std::string bad = "ok \xC3\xA9 bad \xFF\xC3 end";  // é, then a stray byte and a cut sequence
  std::string huge(300 * 1024, 'x');
  huge.replace(kMaxMessageBytes - 1, 3, "\xE2\x82\xAC");  // € straddling the limit
  ASSERT_TRUE(store->Append("g", "s", Events({{1, bad}, {2, huge}})).ok());
  auto page = store->GetEvents({.group = "g", .stream = "s", .start_from_head = true});
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->events.size(), 2u);
  EXPECT_EQ(page->events[0].message, "ok \xC3\xA9 bad \xEF\xBF\xBD\xEF\xBF\xBD end");
  // Cut before the character that would cross the limit, not inside it.
  EXPECT_EQ(page->events[1].message.size(), kMaxMessageBytes - 1);
  EXPECT_EQ(page->events[1].message, std::string(kMaxMessageBytes - 1, 'x'));
}

TEST_F(LogStoreTest, GetEventsPagesForwardAndBackward) {
  auto store = OpenStore();
  std::vector<InputEvent> events;
  for (int i = 0; i < 10; ++i) events.push_back({1000 + i, "e" + std::to_string(i)});
  ASSERT_TRUE(store->Append("g", "s", events).ok());

  // Default (no token, not from head): the last `limit` events, ascending.
  auto tail = store->GetEvents({.group = "g", .stream = "s", .limit = 3});
  ASSERT_TRUE(tail.ok());
  EXPECT_EQ(Messages(tail->events), (std::vector<std::string>{"e7", "e8", "e9"}));
  // Backward from there.
  auto back = store->GetEvents(
      {.group = "g", .stream = "s", .limit = 3, .next_token = tail->next_backward_token});
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(Messages(back->events), (std::vector<std::string>{"e4", "e5", "e6"}));

  // Forward from the head, page by page, until the token repeats.
  std::vector<std::string> seen;
  GetEventsRequest req{.group = "g", .stream = "s", .limit = 4, .start_from_head = true};
  std::string prev;
  for (int guard = 0; guard < 10; ++guard) {
    auto page = store->GetEvents(req);
    ASSERT_TRUE(page.ok());
    for (auto& e : page->events) seen.push_back(e.message);
    if (page->next_forward_token == prev) break;
    prev = req.next_token = page->next_forward_token;
  }
  EXPECT_EQ(seen.size(), 10u);
  EXPECT_EQ(seen.front(), "e0");
  EXPECT_EQ(seen.back(), "e9");

  // New events appear behind a forward token that had reached the end.
  ASSERT_TRUE(store->Append("g", "s", Events({{2000, "late"}})).ok());
  auto more = store->GetEvents(req);
  ASSERT_TRUE(more.ok());
  EXPECT_EQ(Messages(more->events), (std::vector<std::string>{"late"}));

  // Time range: start inclusive, end exclusive.
  auto range = store->GetEvents({.group = "g",
                                 .stream = "s",
                                 .start_time_ms = 1003,
                                 .end_time_ms = 1006,
                                 .start_from_head = true});
  ASSERT_TRUE(range.ok());
  EXPECT_EQ(Messages(range->events), (std::vector<std::string>{"e3", "e4", "e5"}));

  EXPECT_EQ(store->GetEvents({.group = "g", .stream = "s", .next_token = "x/1"}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store->GetEvents({.group = "g", .stream = "s", .limit = 0}).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(LogStoreTest, GetEventsStopsAtAboutOneMegabyte) {
  auto store = OpenStore();
  std::vector<InputEvent> events;
  for (int i = 0; i < 12; ++i) events.push_back({i, std::string(200 * 1024, 'a' + i)});
  ASSERT_TRUE(store->Append("g", "s", events).ok());
  auto page = store->GetEvents({.group = "g", .stream = "s", .start_from_head = true});
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->events.size(), 5u);  // 5 x 200 KiB fit in 1 MiB, 6 do not
  auto next =
      store->GetEvents({.group = "g", .stream = "s", .next_token = page->next_forward_token});
  ASSERT_TRUE(next.ok());
  ASSERT_FALSE(next->events.empty());
  EXPECT_EQ(next->events[0].message[0], 'a' + 5);
}

TEST_F(LogStoreTest, ListGroupsByPrefixWithPages) {
  auto store = OpenStore();
  for (std::string g :
       {"/aws/lambda/b", "/aws/lambda/a", "/aws/kinesisfirehose/x", "/other", "/aws/lambda/c"})
    ASSERT_TRUE(store->CreateGroup(g).ok());
  ASSERT_TRUE(store->Append("/aws/lambda/a", "s", Events({{1, "12345"}})).ok());

  auto page = store->ListGroups({.prefix = "/aws/lambda/", .limit = 2});
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->groups.size(), 2u);
  EXPECT_EQ(page->groups[0].name, "/aws/lambda/a");
  EXPECT_GT(page->groups[0].stored_bytes, 5u);
  EXPECT_EQ(page->groups[1].name, "/aws/lambda/b");
  ASSERT_FALSE(page->next_token.empty());
  auto page2 =
      store->ListGroups({.prefix = "/aws/lambda/", .limit = 2, .next_token = page->next_token});
  ASSERT_TRUE(page2.ok());
  ASSERT_EQ(page2->groups.size(), 1u);
  EXPECT_EQ(page2->groups[0].name, "/aws/lambda/c");
  EXPECT_TRUE(page2->next_token.empty());

  auto all = store->ListGroups({});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->groups.size(), 5u);
  EXPECT_TRUE(all->next_token.empty());
}

TEST_F(LogStoreTest, ListStreamsByNameAndLastEventTime) {
  auto store = OpenStore();
  ASSERT_TRUE(store->Append("g", "2026/01/02/b", Events({{500, "x"}})).ok());
  ASSERT_TRUE(store->Append("g", "2026/01/01/a", Events({{900, "x"}})).ok());
  ASSERT_TRUE(store->Append("g", "2026/01/03/c", Events({{100, "x"}})).ok());
  ASSERT_TRUE(store->Append("g", "other", Events({{300, "x"}})).ok());

  auto names = [](const ListStreamsResult& r) {
    std::vector<std::string> out;
    for (auto& s : r.streams) out.push_back(s.name);
    return out;
  };
  auto by_name = store->ListStreams({.group = "g", .prefix = "2026/", .limit = 2});
  ASSERT_TRUE(by_name.ok());
  EXPECT_EQ(names(*by_name), (std::vector<std::string>{"2026/01/01/a", "2026/01/02/b"}));
  auto rest = store->ListStreams(
      {.group = "g", .prefix = "2026/", .limit = 2, .next_token = by_name->next_token});
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(names(*rest), (std::vector<std::string>{"2026/01/03/c"}));
  EXPECT_TRUE(rest->next_token.empty());

  auto latest = store->ListStreams(
      {.group = "g", .order = StreamOrder::kLastEventTime, .descending = true, .limit = 3});
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(names(*latest), (std::vector<std::string>{"2026/01/01/a", "2026/01/02/b", "other"}));
  auto latest2 = store->ListStreams({.group = "g",
                                     .order = StreamOrder::kLastEventTime,
                                     .descending = true,
                                     .limit = 3,
                                     .next_token = latest->next_token});
  ASSERT_TRUE(latest2.ok());
  EXPECT_EQ(names(*latest2), (std::vector<std::string>{"2026/01/03/c"}));

  EXPECT_EQ(store->ListStreams({.group = "g", .prefix = "x", .order = StreamOrder::kLastEventTime})
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store->ListStreams({.group = "missing"}).status().code(), StatusCode::kNotFound);
}

TEST_F(LogStoreTest, FilterEventsPatternsAcrossStreams) {
  auto store = OpenStore();
  ASSERT_TRUE(
      store
          ->Append("g", "s1",
                   Events({{10, "ERROR disk full"}, {30, "INFO all good"}, {50, "WARN disk slow"}}))
          .ok());
  ASSERT_TRUE(
      store->Append("g", "s2", Events({{20, "ERROR network down"}, {40, "error lowercase"}})).ok());
  auto msgs = [](const FilterEventsResult& r) {
    std::vector<std::string> out;
    for (auto& e : r.events) out.push_back(e.message);
    return out;
  };
  auto all = store->FilterEvents({.group = "g"});
  ASSERT_TRUE(all.ok());
  // Merged by timestamp across streams.
  EXPECT_EQ(msgs(*all),
            (std::vector<std::string>{"ERROR disk full", "ERROR network down", "INFO all good",
                                      "error lowercase", "WARN disk slow"}));
  EXPECT_EQ(all->events[1].stream, "s2");
  EXPECT_TRUE(all->next_token.empty());

  auto errors = store->FilterEvents({.group = "g", .pattern = "ERROR"});  // case-sensitive
  ASSERT_TRUE(errors.ok());
  EXPECT_EQ(msgs(*errors), (std::vector<std::string>{"ERROR disk full", "ERROR network down"}));

  auto both = store->FilterEvents({.group = "g", .pattern = "ERROR disk"});
  ASSERT_TRUE(both.ok());
  EXPECT_EQ(msgs(*both), (std::vector<std::string>{"ERROR disk full"}));

  auto any = store->FilterEvents({.group = "g", .pattern = "?WARN ?INFO"});
  ASSERT_TRUE(any.ok());
  EXPECT_EQ(msgs(*any), (std::vector<std::string>{"INFO all good", "WARN disk slow"}));

  auto exclude = store->FilterEvents({.group = "g", .pattern = "disk -ERROR"});
  ASSERT_TRUE(exclude.ok());
  EXPECT_EQ(msgs(*exclude), (std::vector<std::string>{"WARN disk slow"}));

  auto phrase = store->FilterEvents({.group = "g", .pattern = "\"network down\""});
  ASSERT_TRUE(phrase.ok());
  EXPECT_EQ(msgs(*phrase), (std::vector<std::string>{"ERROR network down"}));

  auto named = store->FilterEvents({.group = "g", .stream_names = {"s2"}});
  ASSERT_TRUE(named.ok());
  EXPECT_EQ(named->events.size(), 2u);

  // Time range: both ends inclusive, as FilterLogEvents.
  auto range = store->FilterEvents({.group = "g", .start_time_ms = 20, .end_time_ms = 40});
  ASSERT_TRUE(range.ok());
  EXPECT_EQ(msgs(*range),
            (std::vector<std::string>{"ERROR network down", "INFO all good", "error lowercase"}));

  // Pages of 2 cover everything once, in order.
  std::vector<std::string> seen;
  FilterEventsRequest req{.group = "g", .limit = 2};
  for (int guard = 0; guard < 10; ++guard) {
    auto page = store->FilterEvents(req);
    ASSERT_TRUE(page.ok());
    for (auto& m : msgs(*page)) seen.push_back(m);
    if (page->next_token.empty()) break;
    req.next_token = page->next_token;
  }
  EXPECT_EQ(seen, msgs(*all));

  EXPECT_EQ(store->FilterEvents({.group = "g", .pattern = "[ip, user]"}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store->FilterEvents({.group = "g", .stream_names = {"s1"}, .stream_name_prefix = "s"})
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store->FilterEvents({.group = "g", .next_token = "junk"}).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(LogStoreTest, ConcurrentAppendsKeepEveryLineWhole) {
  auto store = OpenStore();
  constexpr int kThreads = 4, kBatches = 200;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int b = 0; b < kBatches; ++b) {
        std::vector<InputEvent> ev{{b, "t" + std::to_string(t) + "-" + std::to_string(b) + "-a"},
                                   {b, "t" + std::to_string(t) + "-" + std::to_string(b) + "-b"}};
        ASSERT_TRUE(store->Append("g", t % 2 ? "odd" : "even", ev).ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  auto reopened = OpenStore();
  std::set<std::string> seen;
  for (std::string s : {"odd", "even"}) {
    GetEventsRequest req{.group = "g", .stream = s, .start_from_head = true};
    for (;;) {
      auto page = reopened->GetEvents(req);
      ASSERT_TRUE(page.ok());
      if (page->events.empty()) break;
      for (size_t i = 0; i < page->events.size(); ++i) {
        seen.insert(page->events[i].message);
        // A batch stays together: "-a" is always followed by its "-b".
        if (page->events[i].message.ends_with("-a") && i + 1 < page->events.size()) {
          std::string expect = page->events[i].message;
          expect.back() = 'b';
          EXPECT_EQ(page->events[i + 1].message, expect);
        }
      }
      req.next_token = page->next_forward_token;
    }
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(kThreads * kBatches * 2));
}

}  // namespace
}  // namespace hydrant::logs
