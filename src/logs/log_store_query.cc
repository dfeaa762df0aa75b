// LogStore's reads: listing groups and streams, reading a stream's events, and
// filtering events across streams (FilterLogEvents), each paged by a token.

#include <algorithm>
#include <mutex>

#include "common/strings.h"
#include "logs/filter_pattern.h"
#include "logs/log_store_internal.h"

namespace hydrant::logs {

using namespace internal;  // NOLINT: the store's shared helpers

namespace {

StreamInfo InfoOf(const LogStore::StreamState& s) {
  StreamInfo info;
  info.name = s.name;
  info.creation_time_ms = s.creation_ms;
  info.first_event_timestamp_ms = s.first_ts;
  info.last_event_timestamp_ms = s.last_ts;
  info.last_ingestion_time_ms = s.last_ingestion;
  info.stored_bytes = s.file_size;
  info.event_count = s.events.size();
  return info;
}

}  // namespace

Result<StreamInfo> LogStore::DescribeStream(std::string_view group, std::string_view stream) const {
  std::lock_guard lock(mu_);
  auto it = groups_.find(group);
  if (it == groups_.end()) return Status::NotFound(GroupNotFound());
  auto sit = it->second->streams.find(stream);
  if (sit == it->second->streams.end()) return Status::NotFound(StreamNotFound());
  return InfoOf(*sit->second);
}

Result<ListGroupsResult> LogStore::ListGroups(const ListGroupsRequest& req) const {
  HYDRANT_RETURN_IF_ERROR(CheckLimit(req.limit, kMaxGroupsPage, "limit"));
  std::string after;
  if (!req.next_token.empty() && !HexDecode(req.next_token, &after)) return BadToken();
  ListGroupsResult out;
  std::lock_guard lock(mu_);
  auto it = req.next_token.empty() ? groups_.lower_bound(req.prefix) : groups_.upper_bound(after);
  for (; it != groups_.end(); ++it) {
    if (!it->first.starts_with(req.prefix)) {
      if (it->first > req.prefix) break;  // sorted: no later name has the prefix
      continue;
    }
    if (out.groups.size() == static_cast<size_t>(req.limit)) {
      out.next_token = HexEncode(out.groups.back().name);
      break;
    }
    const GroupState& g = *it->second;
    GroupInfo info{g.name, g.creation_ms, 0};
    for (const auto& [_, s] : g.streams) info.stored_bytes += s->file_size;
    out.groups.push_back(std::move(info));
  }
  return out;
}

Result<ListStreamsResult> LogStore::ListStreams(const ListStreamsRequest& req) const {
  HYDRANT_RETURN_IF_ERROR(CheckLimit(req.limit, kMaxGroupsPage, "limit"));
  if (req.order == StreamOrder::kLastEventTime && !req.prefix.empty())
    return Status::InvalidArgument("Cannot order by LastEventTime with a logStreamNamePrefix.");
  std::lock_guard lock(mu_);
  auto git = groups_.find(req.group);
  if (git == groups_.end()) return Status::NotFound(GroupNotFound());
  std::vector<const StreamState*> all;
  for (const auto& [name, s] : git->second->streams)
    if (name.starts_with(req.prefix)) all.push_back(s.get());
  if (req.order == StreamOrder::kLastEventTime) {
    // Streams without events sort first, as if their last event were at time 0.
    std::stable_sort(all.begin(), all.end(), [](const StreamState* a, const StreamState* b) {
      return a->last_ts.value_or(0) < b->last_ts.value_or(0);
    });
  }
  if (req.descending) std::reverse(all.begin(), all.end());

  size_t start = 0;
  if (!req.next_token.empty()) {
    // Name order resumes after a name (stable while streams come and go); time order
    // resumes at a position (the order itself moves as events arrive).
    std::string_view tok = req.next_token;
    if (req.order == StreamOrder::kName && tok.starts_with("n/")) {
      std::string after;
      if (!HexDecode(tok.substr(2), &after)) return BadToken();
      while (start < all.size() &&
             (req.descending ? all[start]->name >= after : all[start]->name <= after))
        ++start;
    } else if (req.order == StreamOrder::kLastEventTime && tok.starts_with("o/")) {
      uint64_t pos = 0;
      if (!ParseWhole(tok.substr(2), &pos)) return BadToken();
      start = std::min<uint64_t>(pos, all.size());
    } else {
      return BadToken();
    }
  }
  ListStreamsResult out;
  size_t end = std::min(all.size(), start + static_cast<size_t>(req.limit));
  for (size_t i = start; i < end; ++i) out.streams.push_back(InfoOf(*all[i]));
  if (end < all.size()) {
    out.next_token = req.order == StreamOrder::kName ? "n/" + HexEncode(out.streams.back().name)
                                                     : "o/" + std::to_string(end);
  }
  return out;
}

Result<GetEventsResult> LogStore::GetEvents(const GetEventsRequest& req) const {
  HYDRANT_RETURN_IF_ERROR(CheckLimit(req.limit, kMaxEventsPage, "limit"));
  std::vector<EventRef> refs;
  std::vector<uint64_t> indexes;
  std::string path;
  bool forward = req.start_from_head;
  uint64_t pos = 0;
  {
    std::lock_guard lock(mu_);
    auto git = groups_.find(req.group);
    if (git == groups_.end()) return Status::NotFound(GroupNotFound());
    auto sit = git->second->streams.find(req.stream);
    if (sit == git->second->streams.end()) return Status::NotFound(StreamNotFound());
    const StreamState& s = *sit->second;
    path = s.path;
    const uint64_t size = s.events.size();
    pos = forward ? 0 : size;
    if (!req.next_token.empty()) {
      std::string_view tok = req.next_token;
      if (tok.size() < 3 || (tok[0] != 'f' && tok[0] != 'b') || tok[1] != '/' ||
          !ParseWhole(tok.substr(2), &pos))
        return BadToken();
      forward = tok[0] == 'f';
      pos = std::min(pos, size);
    }
    auto in_range = [&](const EventRef& r) {
      return (!req.start_time_ms || r.timestamp_ms >= *req.start_time_ms) &&
             (!req.end_time_ms || r.timestamp_ms < *req.end_time_ms);
    };
    // The byte budget is approximate here (line length); it is the message that counts
    // toward CloudWatch's limit, and a line is a little longer than its message.
    size_t bytes = 0;
    auto take = [&](uint64_t i) {
      if (!in_range(s.events[i])) return true;
      if (!refs.empty() && bytes + s.events[i].length > kMaxPageBytes) return false;
      refs.push_back(s.events[i]);
      indexes.push_back(i);
      bytes += s.events[i].length;
      return refs.size() < static_cast<size_t>(req.limit);
    };
    if (forward) {
      for (uint64_t i = pos; i < size && take(i);) ++i;
    } else {
      for (uint64_t i = pos; i > 0 && take(i - 1);) --i;
      std::reverse(refs.begin(), refs.end());
      std::reverse(indexes.begin(), indexes.end());
    }
  }
  std::vector<std::string> messages;
  HYDRANT_RETURN_IF_ERROR(ReadMessages(path, refs, &messages));
  GetEventsResult out;
  for (size_t k = 0; k < refs.size(); ++k)
    out.events.push_back({refs[k].timestamp_ms, std::move(messages[k]), refs[k].ingestion_ms});
  if (refs.empty()) {
    out.next_forward_token = "f/" + std::to_string(pos);
    out.next_backward_token = "b/" + std::to_string(pos);
  } else {
    out.next_forward_token = "f/" + std::to_string(indexes.back() + 1);
    out.next_backward_token = "b/" + std::to_string(indexes.front());
  }
  return out;
}

Result<FilterEventsResult> LogStore::FilterEvents(const FilterEventsRequest& req) const {
  HYDRANT_RETURN_IF_ERROR(CheckLimit(req.limit, kMaxEventsPage, "limit"));
  if (!req.stream_names.empty() && !req.stream_name_prefix.empty())
    return Status::InvalidArgument(
        "logStreamNames and logStreamNamePrefix cannot both be specified");
  if (req.stream_names.size() > kMaxFilterStreams)
    return Status::InvalidArgument("logStreamNames may name at most 100 streams");
  auto pattern = FilterPattern::Parse(req.pattern);
  if (!pattern.ok()) return pattern.status();

  // Resume strictly after the key (timestamp, stream, index) of the last event returned.
  std::optional<std::tuple<int64_t, std::string, uint64_t>> after;
  if (!req.next_token.empty()) {
    std::string_view tok = req.next_token;
    size_t a = tok.find('/'), b = tok.rfind('/');
    int64_t ts = 0;
    uint64_t idx = 0;
    std::string stream;
    if (a == std::string_view::npos || a == b || !ParseWhole(tok.substr(0, a), &ts) ||
        !HexDecode(tok.substr(a + 1, b - a - 1), &stream) || !ParseWhole(tok.substr(b + 1), &idx))
      return BadToken();
    after.emplace(ts, std::move(stream), idx);
  }

  struct Candidates {
    std::string stream, path;
    std::vector<EventRef> refs;
    std::vector<uint64_t> indexes;
  };
  std::vector<Candidates> per_stream;
  {
    std::lock_guard lock(mu_);
    auto git = groups_.find(req.group);
    if (git == groups_.end()) return Status::NotFound(GroupNotFound());
    std::vector<const StreamState*> chosen;
    if (!req.stream_names.empty()) {
      for (const auto& n : req.stream_names) {
        auto sit = git->second->streams.find(n);
        if (sit != git->second->streams.end()) chosen.push_back(sit->second.get());
      }
    } else {
      for (const auto& [n, s] : git->second->streams)
        if (n.starts_with(req.stream_name_prefix)) chosen.push_back(s.get());
    }
    for (const StreamState* s : chosen) {
      Candidates c{s->name, s->path, {}, {}};
      for (uint64_t i = 0; i < s->events.size(); ++i) {
        const EventRef& r = s->events[i];
        if (req.start_time_ms && r.timestamp_ms < *req.start_time_ms) continue;
        if (req.end_time_ms && r.timestamp_ms > *req.end_time_ms) continue;
        if (after && std::tie(r.timestamp_ms, s->name, i) <=
                         std::tie(std::get<0>(*after), std::get<1>(*after), std::get<2>(*after)))
          continue;
        c.refs.push_back(r);
        c.indexes.push_back(i);
      }
      if (!c.refs.empty()) per_stream.push_back(std::move(c));
    }
  }

  struct Hit {
    int64_t ts;
    const std::string* stream;
    uint64_t index;
    int64_t ingestion;
    std::string message;
  };
  std::vector<Hit> hits;
  bool more = false;
  for (auto& c : per_stream) {
    // Order this stream's candidates by timestamp first so that keeping its first
    // `limit` matches keeps every match the merged page can need.
    std::vector<size_t> order(c.refs.size());
    for (size_t k = 0; k < order.size(); ++k) order[k] = k;
    std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) {
      return c.refs[x].timestamp_ms < c.refs[y].timestamp_ms;
    });
    size_t matched = 0;
    bool stream_done = false;
    constexpr size_t kChunk = 4096;
    for (size_t start = 0; start < order.size() && !stream_done; start += kChunk) {
      size_t end = std::min(order.size(), start + kChunk);
      std::vector<EventRef> chunk;
      for (size_t k = start; k < end; ++k) chunk.push_back(c.refs[order[k]]);
      std::vector<std::string> messages;
      Status st = ReadMessages(c.path, chunk, &messages);
      if (st.code() == StatusCode::kNotFound) break;  // deleted meanwhile
      HYDRANT_RETURN_IF_ERROR(st);
      for (size_t k = start; k < end; ++k) {
        std::string& m = messages[k - start];
        if (!pattern->Matches(m)) continue;
        if (matched == static_cast<size_t>(req.limit)) {
          // A match beyond a full page: the page will be full and this one is left.
          more = true;
          stream_done = true;
          break;
        }
        const EventRef& r = c.refs[order[k]];
        hits.push_back(
            {r.timestamp_ms, &c.stream, c.indexes[order[k]], r.ingestion_ms, std::move(m)});
        ++matched;
      }
    }
  }
  std::sort(hits.begin(), hits.end(), [](const Hit& x, const Hit& y) {
    return std::tie(x.ts, *x.stream, x.index) < std::tie(y.ts, *y.stream, y.index);
  });
  FilterEventsResult out;
  size_t bytes = 0;
  const Hit* last = nullptr;
  for (auto& h : hits) {
    if (out.events.size() == static_cast<size_t>(req.limit) ||
        (!out.events.empty() && bytes + h.message.size() > kMaxPageBytes)) {
      more = true;
      break;
    }
    bytes += h.message.size();
    FilteredEvent e;
    e.stream = *h.stream;
    e.timestamp_ms = h.ts;
    e.ingestion_time_ms = h.ingestion;
    e.event_id = Sha256Hex16(*h.stream) + "-" + std::to_string(h.index);
    e.message = std::move(h.message);
    out.events.push_back(std::move(e));
    last = &h;
  }
  if (more && last != nullptr) {
    out.next_token =
        std::to_string(last->ts) + "/" + HexEncode(*last->stream) + "/" + std::to_string(last->index);
  }
  return out;
}

}  // namespace hydrant::logs
