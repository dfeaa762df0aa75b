#include "logs/log_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <tuple>

#include "common/digest.h"
#include "common/file_util.h"
#include "common/strings.h"
#include "common/utf8.h"
#include "logs/filter_pattern.h"
#include "logs/log_store_internal.h"

namespace hydrant::logs {

namespace json = boost::json;

namespace internal {

std::string Sha256Hex16(std::string_view data) { return Sha256Hex(data).substr(0, 16); }

Status ReadMessages(const std::string& path, std::span<const LogStore::EventRef> refs,
                    std::vector<std::string>* out) {
  out->clear();
  if (refs.empty()) return Status::Ok();
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) return Status::NotFound("The specified log stream does not exist.");
    return Status::FromErrno("open " + path, err);
  }
  uint64_t lo = UINT64_MAX, hi = 0;
  for (const auto& r : refs) {
    lo = std::min(lo, r.offset);
    hi = std::max(hi, r.offset + r.length);
  }
  auto pread_all = [fd](char* buf, size_t n, uint64_t off) -> bool {
    size_t got = 0;
    while (got < n) {
      ssize_t k = ::pread(fd, buf + got, n - got, static_cast<off_t>(off + got));
      if (k < 0 && errno == EINTR) continue;
      if (k <= 0) return false;
      got += static_cast<size_t>(k);
    }
    return true;
  };
  // One read when the events are close together (the usual page), else one per event.
  std::string span;
  bool whole = hi - lo <= 8 * kMaxPageBytes;
  if (whole) {
    span.resize(hi - lo);
    if (!pread_all(span.data(), span.size(), lo)) {
      ::close(fd);
      return Status::IoError("short read of " + path);
    }
  }
  std::string line;
  for (const auto& r : refs) {
    std::string_view text;
    if (whole) {
      text = std::string_view(span).substr(r.offset - lo, r.length);
    } else {
      line.resize(r.length);
      if (!pread_all(line.data(), line.size(), r.offset)) {
        ::close(fd);
        return Status::IoError("short read of " + path);
      }
      text = line;
    }
    json::error_code ec;
    json::value v = json::parse(text, ec);
    const json::string* m = nullptr;
    if (!ec && v.is_object()) {
      if (auto* p = v.as_object().if_contains("m")) m = p->if_string();
    }
    if (m == nullptr) {
      ::close(fd);
      return Status::Corruption("bad event line in " + path);
    }
    out->emplace_back(m->data(), m->size());
  }
  ::close(fd);
  return Status::Ok();
}

Status CheckLimit(int limit, int max, std::string_view what) {
  if (limit < 1 || limit > max)
    return Status::InvalidArgument(std::string(what) + " must be between 1 and " +
                                   std::to_string(max));
  return Status::Ok();
}

Status BadToken() { return Status::InvalidArgument("The specified nextToken is invalid."); }

std::string GroupNotFound() { return "The specified log group does not exist."; }
std::string StreamNotFound() { return "The specified log stream does not exist."; }

}  // namespace internal

using namespace internal;  // NOLINT: this file's own helpers

namespace {

std::string EventLine(int64_t ts, int64_t ingestion, std::string_view message) {
  json::object o;
  o["t"] = ts;
  o["i"] = ingestion;
  o["m"] = message;
  std::string line = json::serialize(o);
  line.push_back('\n');
  return line;
}

}  // namespace


Status ValidateGroupName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameBytes)
    return Status::InvalidArgument("logGroupName must be 1 to 512 characters");
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == '_' || c == '/' || c == '#';
    if (!ok)
      return Status::InvalidArgument(
          "1 validation error detected: Value at 'logGroupName' failed to satisfy constraint: "
          "Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+");
  }
  return Status::Ok();
}

Status ValidateStreamName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameBytes)
    return Status::InvalidArgument("logStreamName must be 1 to 512 characters");
  if (name.find_first_of(":*") != std::string_view::npos)
    return Status::InvalidArgument(
        "1 validation error detected: Value at 'logStreamName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [^:*]*");
  return Status::Ok();
}

std::string LogStore::EncodeName(std::string_view name) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : name) {
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '_';
    if (plain) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kDigits[c >> 4]);
      out.push_back(kDigits[c & 15]);
    }
  }
  // '~' is never produced above, so a shortened name cannot equal a plain one.
  if (out.size() > kMaxEncodedName) out = out.substr(0, kEncodedKeep) + "~" + Sha256Hex16(name);
  return out;
}

LogStore::LogStore(std::string root, const Clock* clock) : root_(std::move(root)), clock_(clock) {}
LogStore::~LogStore() = default;

Result<std::unique_ptr<LogStore>> LogStore::Open(std::string root, const Clock* clock) {
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  HYDRANT_RETURN_IF_ERROR(fs::MakeDirs(root));
  std::unique_ptr<LogStore> store(new LogStore(std::move(root), clock));
  HYDRANT_RETURN_IF_ERROR(store->Load());
  return store;
}

Status LogStore::Load() {
  DIR* d = ::opendir(root_.c_str());
  if (d == nullptr) return Status::FromErrno("opendir " + root_, errno);
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(std::move(n));
  }
  ::closedir(d);
  for (const auto& n : names) {
    Status st = LoadGroup(n);
    if (!st.ok()) spdlog::warn("logs: skipping {}/{}: {}", root_, n, st.ToString());
  }
  return Status::Ok();
}

Status LogStore::LoadGroup(const std::string& dir_name) {
  std::string dir = root_ + "/" + dir_name;
  auto meta = fs::ReadFile(dir + "/" + kGroupMeta);
  if (!meta.ok()) return meta.status();
  json::error_code ec;
  json::value v = json::parse(*meta, ec);
  const json::object* o = (!ec && v.is_object()) ? &v.as_object() : nullptr;
  const json::value* name_v = o ? o->if_contains("logGroupName") : nullptr;
  const json::value* created_v = o ? o->if_contains("creationTime") : nullptr;
  if (!name_v || !name_v->is_string() || !created_v || !created_v->is_int64())
    return Status::Corruption("bad group.json");
  std::string name(name_v->as_string());
  if (!ValidateGroupName(name).ok() || EncodeName(name) != dir_name)
    return Status::Corruption("group.json names " + name + ", which does not belong here");
  auto group = std::make_unique<GroupState>();
  group->name = name;
  group->dir = dir;
  group->creation_ms = created_v->as_int64();

  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return Status::FromErrno("opendir " + dir, errno);
  std::vector<std::string> files;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n.size() > 4 && n.ends_with(kStreamSuffix)) files.push_back(std::move(n));
  }
  ::closedir(d);
  for (const auto& f : files) {
    std::string path = dir + "/" + f;
    auto content = fs::ReadFile(path);
    if (!content.ok()) {
      spdlog::warn("logs: skipping {}: {}", path, content.status().ToString());
      continue;
    }
    std::string_view text = *content;
    size_t nl = text.find('\n');
    auto stream = std::make_unique<StreamState>();
    bool header_ok = false;
    if (nl != std::string_view::npos) {
      json::value h = json::parse(text.substr(0, nl), ec);
      if (!ec && h.is_object()) {
        const auto* sn = h.as_object().if_contains("logStreamName");
        const auto* ct = h.as_object().if_contains("creationTime");
        if (sn && sn->is_string() && ct && ct->is_int64()) {
          stream->name = std::string(sn->as_string());
          stream->creation_ms = ct->as_int64();
          header_ok = ValidateStreamName(stream->name).ok() &&
                      EncodeName(stream->name) + kStreamSuffix == f;
        }
      }
    }
    if (!header_ok) {
      spdlog::warn("logs: skipping {}: bad or misplaced header", path);
      continue;
    }
    stream->path = path;
    size_t pos = nl + 1;
    while (pos < text.size()) {
      size_t end = text.find('\n', pos);
      if (end == std::string_view::npos) {
        // A torn write: the rest of the line never made it. Cut it off so the next
        // append starts on a fresh line.
        spdlog::warn("logs: {}: cutting a torn last line of {} bytes", path, text.size() - pos);
        if (::truncate(path.c_str(), static_cast<off_t>(pos)) != 0)
          return Status::FromErrno("truncate " + path, errno);
        text = text.substr(0, pos);
        break;
      }
      json::value ev = json::parse(text.substr(pos, end - pos), ec);
      const json::object* eo = (!ec && ev.is_object()) ? &ev.as_object() : nullptr;
      const json::value* t = eo ? eo->if_contains("t") : nullptr;
      const json::value* i = eo ? eo->if_contains("i") : nullptr;
      const json::value* m = eo ? eo->if_contains("m") : nullptr;
      if (t && t->is_int64() && i && i->is_int64() && m && m->is_string()) {
        EventRef r{t->as_int64(), i->as_int64(), pos, static_cast<uint32_t>(end - pos)};
        if (!stream->first_ts) stream->first_ts = r.timestamp_ms;
        stream->last_ts = r.timestamp_ms;
        stream->last_ingestion = r.ingestion_ms;
        stream->events.push_back(r);
      } else {
        spdlog::warn("logs: {}: skipping an unreadable line at offset {}", path, pos);
      }
      pos = end + 1;
    }
    stream->file_size = text.size();
    std::string sname = stream->name;
    group->streams.emplace(std::move(sname), std::move(stream));
  }
  groups_.emplace(name, std::move(group));
  return Status::Ok();
}

Status LogStore::CreateGroupLocked(std::string_view name, GroupState** out) {
  auto group = std::make_unique<GroupState>();
  group->name = std::string(name);
  group->dir = root_ + "/" + EncodeName(name);
  group->creation_ms = clock_->NowMillis();
  HYDRANT_RETURN_IF_ERROR(fs::MakeDirs(group->dir));
  json::object meta;
  meta["logGroupName"] = name;
  meta["creationTime"] = group->creation_ms;
  HYDRANT_RETURN_IF_ERROR(
      fs::WriteFileAtomic(group->dir + "/" + kGroupMeta, json::serialize(meta)));
  *out = group.get();
  groups_.emplace(std::string(name), std::move(group));
  return Status::Ok();
}

Status LogStore::CreateStreamLocked(GroupState* group, std::string_view name, StreamState** out) {
  auto stream = std::make_unique<StreamState>();
  stream->name = std::string(name);
  stream->path = group->dir + "/" + EncodeName(name) + kStreamSuffix;
  stream->creation_ms = clock_->NowMillis();
  json::object header;
  header["logStreamName"] = name;
  header["creationTime"] = stream->creation_ms;
  std::string line = json::serialize(header) + "\n";
  // A leftover file (its group was deleted and re-created while a reader held it, or
  // an unreadable header skipped at Open) is replaced.
  int fd = ::open(stream->path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::FromErrno("create " + stream->path, errno);
  ssize_t n = ::write(fd, line.data(), line.size());
  int err = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(line.size())) {
    ::unlink(stream->path.c_str());
    return Status::FromErrno("write " + stream->path, n < 0 ? err : EIO);
  }
  stream->file_size = line.size();
  *out = stream.get();
  group->streams.emplace(std::string(name), std::move(stream));
  return Status::Ok();
}

Status LogStore::CreateGroup(std::string_view group) {
  HYDRANT_RETURN_IF_ERROR(ValidateGroupName(group));
  std::lock_guard lock(mu_);
  if (groups_.count(group)) return Status::AlreadyExists("The specified log group already exists");
  GroupState* g = nullptr;
  return CreateGroupLocked(group, &g);
}

Status LogStore::CreateStream(std::string_view group, std::string_view stream) {
  HYDRANT_RETURN_IF_ERROR(ValidateGroupName(group));
  HYDRANT_RETURN_IF_ERROR(ValidateStreamName(stream));
  std::lock_guard lock(mu_);
  auto it = groups_.find(group);
  if (it == groups_.end()) return Status::NotFound(GroupNotFound());
  if (it->second->streams.count(stream))
    return Status::AlreadyExists("The specified log stream already exists");
  StreamState* s = nullptr;
  return CreateStreamLocked(it->second.get(), stream, &s);
}

Status LogStore::DeleteGroup(std::string_view group) {
  std::lock_guard lock(mu_);
  auto it = groups_.find(group);
  if (it == groups_.end()) return Status::NotFound(GroupNotFound());
  // The metadata goes first: a crash halfway leaves a directory Open skips.
  std::string dir = it->second->dir;
  if (::unlink((dir + "/" + kGroupMeta).c_str()) != 0 && errno != ENOENT)
    return Status::FromErrno("unlink " + dir + "/" + kGroupMeta, errno);
  groups_.erase(it);
  return fs::RemoveAll(dir);
}

Status LogStore::DeleteStream(std::string_view group, std::string_view stream) {
  std::lock_guard lock(mu_);
  auto it = groups_.find(group);
  if (it == groups_.end()) return Status::NotFound(GroupNotFound());
  auto sit = it->second->streams.find(stream);
  if (sit == it->second->streams.end()) return Status::NotFound(StreamNotFound());
  if (::unlink(sit->second->path.c_str()) != 0 && errno != ENOENT)
    return Status::FromErrno("unlink " + sit->second->path, errno);
  it->second->streams.erase(sit);
  return Status::Ok();
}

Status LogStore::Append(std::string_view group, std::string_view stream,
                        std::span<const InputEvent> events, bool create_missing) {
  HYDRANT_RETURN_IF_ERROR(ValidateGroupName(group));
  HYDRANT_RETURN_IF_ERROR(ValidateStreamName(stream));
  if (events.empty()) return Status::Ok();
  int64_t now = clock_->NowMillis();
  // Lines are built outside the lock; offsets are fixed once the file size is known.
  std::string data;
  std::vector<std::pair<size_t, uint32_t>> spans;  // (offset in data, length without '\n')
  spans.reserve(events.size());
  for (const auto& e : events) {
    std::string line = EventLine(e.timestamp_ms, now, utf8::Sanitize(e.message, kMaxMessageBytes));
    spans.emplace_back(data.size(), static_cast<uint32_t>(line.size() - 1));
    data += line;
  }

  std::lock_guard lock(mu_);
  auto git = groups_.find(group);
  GroupState* g = git == groups_.end() ? nullptr : git->second.get();
  if (g == nullptr) {
    if (!create_missing) return Status::NotFound(GroupNotFound());
    HYDRANT_RETURN_IF_ERROR(CreateGroupLocked(group, &g));
  }
  auto sit = g->streams.find(stream);
  StreamState* s = sit == g->streams.end() ? nullptr : sit->second.get();
  if (s == nullptr) {
    if (!create_missing) return Status::NotFound(StreamNotFound());
    HYDRANT_RETURN_IF_ERROR(CreateStreamLocked(g, stream, &s));
  }
  int fd = ::open(s->path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno("open " + s->path, errno);
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = n < 0 ? errno : EIO;
      // Leave the file as it was, so no half line stays behind.
      if (::ftruncate(fd, static_cast<off_t>(s->file_size)) != 0)
        spdlog::warn("logs: cannot cut a partial append from {}", s->path);
      ::close(fd);
      return Status::FromErrno("write " + s->path, err);
    }
    off += static_cast<size_t>(n);
  }
  ::close(fd);
  uint64_t base = s->file_size;
  for (size_t k = 0; k < events.size(); ++k) {
    EventRef r{events[k].timestamp_ms, now, base + spans[k].first, spans[k].second};
    if (!s->first_ts) s->first_ts = r.timestamp_ms;
    s->last_ts = r.timestamp_ms;
    s->last_ingestion = now;
    s->events.push_back(r);
  }
  s->file_size += data.size();
  return Status::Ok();
}

bool LogStore::GroupExists(std::string_view group) const {
  std::lock_guard lock(mu_);
  return groups_.count(group) != 0;
}

}  // namespace hydrant::logs
