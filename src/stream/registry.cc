#include "stream/registry.h"

#include <dirent.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <limits>
#include <spdlog/spdlog.h>

#include "common/file_util.h"

namespace hydrant::stream {

namespace json = boost::json;

namespace {
// Stream names are [a-zA-Z0-9_.-]{1,64}; the "s-" prefix keeps "." and ".." safe.
constexpr const char* kDirPrefix = "s-";
}  // namespace

std::string StreamRegistry::StreamDir(const std::string& name) const {
  return opts_.data_dir + "/streams/" + kDirPrefix + name;
}

DeliveryDeps StreamRegistry::Deps() {
  DeliveryDeps d;
  d.sink = sink_;
  d.committer = committer_.get();
  d.quota = quota_.get();
  d.clock = clock_;
  d.random = random_;
  d.options = opts_.delivery;
  d.invoker = opts_.invoker;
  d.error_log = opts_.error_log;
  d.region = opts_.region;
  return d;
}

Result<std::unique_ptr<StreamRegistry>> StreamRegistry::Open(const RegistryOptions& opts,
                                                             store::ObjectSink* sink,
                                                             const Clock* clock) {
  std::unique_ptr<StreamRegistry> r(new StreamRegistry());
  r->opts_ = opts;
  r->sink_ = sink;
  r->clock_ = clock ? clock : &SystemClock::Get();
  r->quota_ = std::make_unique<buffer::DiskQuota>(
      opts.disk_quota_bytes ? opts.disk_quota_bytes : std::numeric_limits<uint64_t>::max());
  r->committer_ = std::make_unique<buffer::GroupCommitter>();
  r->random_ = naming::DefaultRandom();
  std::string root = opts.data_dir + "/streams";
  HYDRANT_RETURN_IF_ERROR(fs::MakeDirs(root));
  DIR* d = ::opendir(root.c_str());
  if (!d) return Status::FromErrno("opendir " + root, errno);
  std::vector<std::string> dirs;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n.rfind(kDirPrefix, 0) == 0) dirs.push_back(root + "/" + n);
  }
  ::closedir(d);
  for (const auto& dir : dirs) {
    auto text = fs::ReadFile(dir + "/stream.json");
    if (!text.ok()) {
      // A stream whose deletion was interrupted: finish it.
      spdlog::warn("event=stream_dir_without_metadata dir={} action=removed", dir);
      HYDRANT_RETURN_IF_ERROR(fs::RemoveAll(dir));
      continue;
    }
    boost::system::error_code ec;
    json::value v = json::parse(*text, ec);
    if (ec || !v.is_object()) return Status::Corruption(dir + "/stream.json is not valid JSON");
    auto meta = StreamMeta::FromJson(v.as_object());
    if (!meta.ok()) return meta.status();
    std::string name = meta->name;
    auto s = DeliveryStream::Open(dir, std::move(meta).value(), r->Deps());
    if (!s.ok()) return s.status();
    r->streams_[name] = std::move(s).value();
  }
  return r;
}

StreamRegistry::~StreamRegistry() {
  std::vector<std::thread> reapers;
  {
    std::lock_guard lk(mu_);
    reapers.swap(reapers_);
  }
  for (auto& t : reapers) t.join();
  for (auto& [name, s] : streams_) s->Stop();
  streams_.clear();
  committer_.reset();  // drains pending syncs
}

std::shared_ptr<DeliveryStream> StreamRegistry::Get(const std::string& name) const {
  std::lock_guard lk(mu_);
  auto it = streams_.find(name);
  return it == streams_.end() ? nullptr : it->second;
}

Status StreamRegistry::Create(StreamMeta meta) {
  std::lock_guard lk(mu_);
  if (streams_.count(meta.name) || deleting_.count(meta.name)) return Status::AlreadyExists(meta.name);
  if (streams_.size() >= opts_.max_streams) {
    return Status::ResourceExhausted("stream limit of " + std::to_string(opts_.max_streams) +
                                     " reached");
  }
  std::string dir = StreamDir(meta.name);
  HYDRANT_RETURN_IF_ERROR(fs::RemoveAll(dir));  // leftovers of an interrupted delete
  std::string name = meta.name;
  auto s = DeliveryStream::Open(dir, std::move(meta), Deps());
  if (!s.ok()) {
    (void)fs::RemoveAll(dir);
    return s.status();
  }
  streams_[name] = std::move(s).value();
  return Status::Ok();
}

Status StreamRegistry::Delete(const std::string& name) {
  std::shared_ptr<DeliveryStream> s;
  {
    std::lock_guard lk(mu_);
    auto it = streams_.find(name);
    if (it == streams_.end()) return Status::NotFound(name);
    s = it->second;
    // Metadata first: a crash from here on leaves a folder that Open() removes.
    std::string meta_path = s->dir() + "/stream.json";
    if (::unlink(meta_path.c_str()) != 0 && errno != ENOENT) {
      return Status::FromErrno("unlink " + meta_path, errno);
    }
    (void)fs::SyncDir(s->dir());
    streams_.erase(it);
    deleting_.insert(name);
  }
  // The rest happens in the background, as DeleteDeliveryStream does on AWS: the
  // delivery thread may be waiting for a function (up to 5 minutes), and the name
  // stays taken until its files are gone.
  std::lock_guard lk(mu_);
  reapers_.emplace_back([this, s = std::move(s), name] {
    if (Status st = s->Destroy(); !st.ok()) {
      spdlog::error("stream={} event=delete_failed error=\"{}\"", name, st.ToString());
    }
    std::lock_guard lk(mu_);
    deleting_.erase(name);
  });
  return Status::Ok();
}

std::vector<StreamMeta> StreamRegistry::List() const {
  std::lock_guard lk(mu_);
  std::vector<StreamMeta> out;
  out.reserve(streams_.size());
  for (const auto& [name, s] : streams_) out.push_back(s->Meta());
  return out;
}

std::vector<std::shared_ptr<DeliveryStream>> StreamRegistry::All() const {
  std::lock_guard lk(mu_);
  std::vector<std::shared_ptr<DeliveryStream>> out;
  for (const auto& [name, s] : streams_) out.push_back(s);
  return out;
}

}  // namespace hydrant::stream
