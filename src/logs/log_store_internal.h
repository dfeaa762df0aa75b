#pragma once
// What log_store.cc (files, writes) and log_store_query.cc (listing, reading,
// filtering) share: the in-memory state of groups and streams, the limits, and a
// few helpers. Not for other modules.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "logs/log_store.h"

namespace hydrant::logs {

// One event of a stream: where its line is in the stream file.
struct LogStore::EventRef {
  int64_t timestamp_ms;
  int64_t ingestion_ms;
  uint64_t offset;  // of the line's first byte
  uint32_t length;  // of the line, without its '\n'
};

struct LogStore::StreamState {
  std::string name;
  std::string path;
  int64_t creation_ms = 0;
  uint64_t file_size = 0;
  std::optional<int64_t> first_ts, last_ts, last_ingestion;
  std::vector<EventRef> events;
};

struct LogStore::GroupState {
  std::string name;
  std::string dir;
  int64_t creation_ms = 0;
  std::map<std::string, std::unique_ptr<StreamState>, std::less<>> streams;
};

namespace internal {

inline constexpr size_t kMaxEncodedName = 200;
inline constexpr size_t kEncodedKeep = 150;
inline constexpr int kMaxGroupsPage = 50;
inline constexpr int kMaxEventsPage = 10000;
inline constexpr size_t kMaxFilterStreams = 100;
inline constexpr char kGroupMeta[] = "group.json";
inline constexpr char kStreamSuffix[] = ".log";

// Reads the messages of `refs` (all from the file at `path`).
Status ReadMessages(const std::string& path, std::span<const LogStore::EventRef> refs,
                    std::vector<std::string>* out);
Status CheckLimit(int limit, int max, std::string_view what);
// The first 16 hex digits of the SHA-256 of `data`.
std::string Sha256Hex16(std::string_view data);
Status BadToken();
std::string GroupNotFound();
std::string StreamNotFound();

}  // namespace internal
}  // namespace hydrant::logs
