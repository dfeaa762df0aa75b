#pragma once
// LogStore: CloudWatch-Logs-like storage of log groups, log streams and events on
// local disk. Writers are hydrant's own components (the local Lambda runtime writes
// /aws/lambda/NAME, delivery streams write /aws/kinesisfirehose/NAME); the read side
// is shaped after the CloudWatch Logs API (DescribeLogGroups, DescribeLogStreams,
// GetLogEvents, FilterLogEvents) so that API can be served from it later.
//
// On disk (format restated in docs/local-lambda.md):
//   ROOT/<encoded group>/group.json          {"logGroupName":..., "creationTime":ms}
//   ROOT/<encoded group>/<encoded stream>.log
//       line 1: {"logStreamName":..., "creationTime":ms}
//       then one line per event: {"t":timestamp_ms,"i":ingestion_ms,"m":"message"}
// Names are encoded so that no name can escape ROOT: bytes outside [A-Za-z0-9_-]
// become %XX, and an encoded name longer than 200 bytes is cut and suffixed with
// "~" + 16 hex digits of SHA-256(name). The real name is always read back from the
// file, never decoded from the file name.
//
// Durability: Append writes all of a call's events with one write(2) on a file opened
// O_APPEND and does not fdatasync: events survive a crash of hydrant (they are in
// the page cache) but the last ones may be lost on power failure. Logs are
// diagnostics; paying an fdatasync per Lambda log line is not worth it. A torn last
// line found at Open is cut off; an unreadable line is skipped with a warning.
//
// Order: events of a stream are kept and returned in the order they were appended
// (CloudWatch sorts by timestamp; hydrant's writers append in time order).
//
// Thread-safety: all methods may be called concurrently. Open() loads an index of
// every stream (32 bytes per event) into memory; messages stay on disk.

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

namespace hydrant::logs {

// CloudWatch limits.
inline constexpr size_t kMaxNameBytes = 512;
// A message longer than this (256 KiB minus CloudWatch's 26 bytes of per-event
// overhead) is cut to it at Append, at a UTF-8 character boundary.
inline constexpr size_t kMaxMessageBytes = 256 * 1024 - 26;
// A page of GetEvents/FilterEvents holds at most this many message bytes (and at
// least one event), as CloudWatch's 1 MB response limit.
inline constexpr size_t kMaxPageBytes = 1024 * 1024;

// Group: [\.\-_/#A-Za-z0-9]{1,512}. Stream: 1-512 bytes, no ':' or '*'.
// InvalidArgument with CloudWatch-like text otherwise.
Status ValidateGroupName(std::string_view name);
Status ValidateStreamName(std::string_view name);

struct InputEvent {
  int64_t timestamp_ms = 0;
  std::string message;
};

struct OutputEvent {
  int64_t timestamp_ms = 0;
  std::string message;
  int64_t ingestion_time_ms = 0;
};

struct GroupInfo {
  std::string name;
  int64_t creation_time_ms = 0;
  uint64_t stored_bytes = 0;  // bytes of its stream files
};

struct StreamInfo {
  std::string name;
  int64_t creation_time_ms = 0;
  // Absent while the stream has no events.
  std::optional<int64_t> first_event_timestamp_ms;
  std::optional<int64_t> last_event_timestamp_ms;
  std::optional<int64_t> last_ingestion_time_ms;
  uint64_t stored_bytes = 0;
  uint64_t event_count = 0;
};

// Pagination: an empty next_token in a result means there is nothing more. Tokens are
// opaque; a malformed one is InvalidArgument.
struct ListGroupsRequest {
  std::string prefix;
  int limit = 50;  // 1..50
  std::string next_token;
};
struct ListGroupsResult {
  std::vector<GroupInfo> groups;  // by name
  std::string next_token;
};

enum class StreamOrder { kName, kLastEventTime };

struct ListStreamsRequest {
  std::string group;
  std::string prefix;  // not allowed with kLastEventTime (as CloudWatch)
  StreamOrder order = StreamOrder::kName;
  bool descending = false;
  int limit = 50;  // 1..50
  std::string next_token;
};
struct ListStreamsResult {
  std::vector<StreamInfo> streams;
  std::string next_token;
};

// GetLogEvents: events with start <= timestamp < end. Without a token, the first
// events (start_from_head) or the last ones (default) are returned; a page is always
// in ascending order. next_forward_token / next_backward_token are always set; the
// forward token comes back unchanged once the end is reached (clients stop when the
// token repeats, as with CloudWatch).
struct GetEventsRequest {
  std::string group;
  std::string stream;
  std::optional<int64_t> start_time_ms;
  std::optional<int64_t> end_time_ms;
  int limit = 10000;  // 1..10000
  std::string next_token;
  bool start_from_head = false;
};
struct GetEventsResult {
  std::vector<OutputEvent> events;
  std::string next_forward_token;
  std::string next_backward_token;
};

// FilterLogEvents: events of the chosen streams (stream_names, or stream_name_prefix,
// or all) with start <= timestamp <= end matching `pattern`, ordered by timestamp
// (then stream name, then append order). Pattern: logs/filter_pattern.h (terms,
// "quoted phrases", ?any, -none, and JSON patterns such as { $.errorCode = "X" });
// an unsupported or malformed pattern is InvalidArgument.
struct FilterEventsRequest {
  std::string group;
  std::vector<std::string> stream_names;  // at most 100
  std::string stream_name_prefix;         // not with stream_names
  std::string pattern;                    // up to 1024 bytes; empty = every event
  std::optional<int64_t> start_time_ms;
  std::optional<int64_t> end_time_ms;
  int limit = 10000;  // 1..10000
  std::string next_token;
};
struct FilteredEvent {
  std::string stream;
  int64_t timestamp_ms = 0;
  std::string message;
  int64_t ingestion_time_ms = 0;
  std::string event_id;  // stable per event
};
struct FilterEventsResult {
  std::vector<FilteredEvent> events;
  std::string next_token;
};

class LogStore {
 public:
  // Creates `root` if needed and loads the index of every group and stream in it.
  // `clock` (ingestion and creation times) must outlive the store.
  static Result<std::unique_ptr<LogStore>> Open(std::string root,
                                                const Clock* clock = &SystemClock::Get());
  ~LogStore();
  LogStore(const LogStore&) = delete;
  LogStore& operator=(const LogStore&) = delete;

  // AlreadyExists if present (as CreateLogGroup / CreateLogStream); NotFound for a
  // stream in a missing group.
  Status CreateGroup(std::string_view group);
  Status CreateStream(std::string_view group, std::string_view stream);
  Status DeleteGroup(std::string_view group);
  Status DeleteStream(std::string_view group, std::string_view stream);

  // Appends `events` in order. With create_missing the group and stream are created
  // when absent (hydrant's own writers); without it a missing one is NotFound (as
  // PutLogEvents). Messages are made valid UTF-8 (bad bytes become U+FFFD) and cut to
  // kMaxMessageBytes. Timestamps are stored as given.
  Status Append(std::string_view group, std::string_view stream, std::span<const InputEvent> events,
                bool create_missing = true);

  bool GroupExists(std::string_view group) const;
  Result<StreamInfo> DescribeStream(std::string_view group, std::string_view stream) const;
  Result<ListGroupsResult> ListGroups(const ListGroupsRequest& request) const;
  Result<ListStreamsResult> ListStreams(const ListStreamsRequest& request) const;
  Result<GetEventsResult> GetEvents(const GetEventsRequest& request) const;
  Result<FilterEventsResult> FilterEvents(const FilterEventsRequest& request) const;

  const std::string& root() const { return root_; }

  // The file name a group directory or stream file (without ".log") gets; exposed
  // for tests that check no name escapes the root.
  static std::string EncodeName(std::string_view name);

  struct EventRef;
  struct StreamState;
  struct GroupState;

 private:
  LogStore(std::string root, const Clock* clock);
  Status Load();
  Status LoadGroup(const std::string& dir_name);
  Status CreateGroupLocked(std::string_view group, GroupState** out);
  Status CreateStreamLocked(GroupState* group, std::string_view stream, StreamState** out);

  const std::string root_;
  const Clock* clock_;
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<GroupState>, std::less<>> groups_;  // guarded by mu_
};

}  // namespace hydrant::logs
