// Fuzz target: the CloudWatch Logs store's files on disk (logs/log_store.h), as
// a crash, a full disk or a hand edit may leave them, and filter patterns.
// Input parts (fuzz_util.h SplitParts): group.json, the stream file (its first
// line and events), a filter pattern, a token for the page calls.
//
// Checks: Open takes any bytes (a bad file is skipped or cut, never fatal to
// the others); every read call works on what was loaded; an Append after a
// damaged file reads back after a reopen.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz/fuzz_util.h"
#include "logs/filter_pattern.h"
#include "logs/log_store.h"

namespace logs = hydrant::logs;

namespace {

// A group and stream whose names are what their file names encode.
constexpr const char* kGroup = "g";
constexpr const char* kStream = "s";

void ReadEverything(const logs::LogStore& store, std::string_view pattern, std::string_view token) {
  (void)store.ListGroups({});
  (void)store.ListGroups({.next_token = std::string(token)});
  for (const std::string& group : {std::string(kGroup), std::string("other")}) {
    (void)store.ListStreams({.group = group});
    (void)store.ListStreams({.group = group, .order = logs::StreamOrder::kLastEventTime,
                             .descending = true, .next_token = std::string(token)});
    (void)store.DescribeStream(group, kStream);
    (void)store.GetEvents({.group = group, .stream = kStream, .start_from_head = true});
    (void)store.GetEvents({.group = group, .stream = kStream, .next_token = std::string(token)});
    (void)store.FilterEvents({.group = group, .pattern = std::string(pattern)});
    (void)store.FilterEvents(
        {.group = group, .pattern = std::string(pattern), .next_token = std::string(token)});
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static hydrant::fuzz::ScratchDir dir;
  auto parts = hydrant::fuzz::SplitParts(hydrant::fuzz::AsView(data, size), 4);
  std::string_view pattern = parts[2].substr(0, 1024), token = parts[3];

  if (auto p = logs::FilterPattern::Parse(pattern); p.ok()) {
    (void)p->Matches(parts[1]);
  }

  dir.Clear();
  const std::string root = dir.Sub("logs");
  const std::string group_dir = logs::LogStore::EncodeName(kGroup);
  dir.Write("logs/" + group_dir + "/group.json", parts[0]);
  dir.Write("logs/" + group_dir + "/" + logs::LogStore::EncodeName(kStream) + ".log", parts[1]);
  // A second, healthy group beside the fuzzed one.
  dir.Write("logs/other/group.json", R"({"logGroupName":"other","creationTime":1})");
  dir.Write("logs/other/s.log", "{\"logStreamName\":\"s\",\"creationTime\":1}\n"
                                "{\"t\":5,\"i\":6,\"m\":\"healthy\"}\n");

  {
    auto store = logs::LogStore::Open(root);
    if (!store.ok()) return 0;
    FUZZ_CHECK((*store)->GroupExists("other"), "a damaged group hid a healthy one");
    ReadEverything(**store, pattern, token);
    std::vector<logs::InputEvent> events = {{7, "appended"}};
    (void)(*store)->Append(kGroup, kStream, events);
  }
  auto store = logs::LogStore::Open(root);
  FUZZ_CHECK(store.ok(), "cannot reopen a store it wrote: " + store.status().ToString());
  ReadEverything(**store, pattern, token);
  if (auto info = (*store)->DescribeStream(kGroup, kStream); info.ok()) {
    auto page = (*store)->GetEvents({.group = kGroup, .stream = kStream, .start_from_head = true});
    FUZZ_CHECK(page.ok(), "cannot read a stream it describes");
  }
  return 0;
}
