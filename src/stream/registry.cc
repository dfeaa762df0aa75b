#include "stream/registry.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <limits>
#include <unordered_set>

#include <spdlog/spdlog.h>

#include "common/file_util.h"

namespace hydrant::stream {

StreamRegistry::StreamRegistry(const RegistryOptions& opts)
    : opts_(opts),
      files_(opts.data_dir + "/streams"),
      definitions_(opts.definitions ? opts.definitions : &files_) {}

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
  d.region = opts_.account.region;
  d.definitions = definitions_;
  d.scheduler = scheduler_.get();
  d.options.lock_logs = false;  // lock_fd_ covers them
  return d;
}

Result<std::unique_ptr<StreamRegistry>> StreamRegistry::Open(const RegistryOptions& opts,
                                                             store::ObjectSink* sink,
                                                             const Clock* clock) {
  std::unique_ptr<StreamRegistry> r(new StreamRegistry(opts));
  r->sink_ = sink;
  r->clock_ = clock ? clock : &SystemClock::Get();
  r->quota_ = std::make_unique<buffer::DiskQuota>(
      opts.disk_quota_bytes ? opts.disk_quota_bytes : std::numeric_limits<uint64_t>::max());
  r->committer_ = std::make_unique<buffer::GroupCommitter>();
  r->random_ = naming::DefaultRandom();
  HYDRANT_RETURN_IF_ERROR(fs::MakeDirs(opts.data_dir + "/streams"));
  const std::string lock_path = opts.data_dir + "/streams.lock";
  r->lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (r->lock_fd_ < 0) return Status::FromErrno("open " + lock_path, errno);
  if (::flock(r->lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      return Status::Unavailable("the streams of " + opts.data_dir +
                                 " are open in another process (" + lock_path + " is locked)");
    }
    return Status::FromErrno("flock " + lock_path, errno);
  }
  r->scheduler_ = std::make_unique<DeliveryScheduler>(opts.scheduler);
  auto metas = r->definitions_->LoadAll();
  if (!metas.ok()) return metas.status();
  std::unordered_set<std::string> defined;
  for (const auto& m : *metas) defined.insert(r->files_.StreamDir(m.name));
  auto dirs = r->files_.ListStreamDirs();
  if (!dirs.ok()) return dirs.status();
  for (const auto& dir : *dirs) {
    if (defined.count(dir)) continue;
    // A stream whose deletion was interrupted (its definition goes first): finish it.
    spdlog::warn("event=stream_dir_without_metadata dir={} action=removed", dir);
    HYDRANT_RETURN_IF_ERROR(fs::RemoveAll(dir));
  }
  for (auto& meta : *metas) {
    std::string name = meta.name;
    DeliveryDeps deps = r->Deps();
    deps.definition_loaded = true;
    auto s = DeliveryStream::Open(r->files_.StreamDir(name), std::move(meta), std::move(deps));
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
  scheduler_.reset();
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock
}

std::shared_ptr<DeliveryStream> StreamRegistry::Get(const std::string& name) const {
  std::lock_guard lk(mu_);
  auto it = streams_.find(name);
  return it == streams_.end() ? nullptr : it->second;
}

Status StreamRegistry::Create(StreamMeta meta) {
  const std::string name = meta.name;
  {
    std::lock_guard lk(mu_);
    if (streams_.count(name) || creating_.count(name) || deleting_.count(name)) {
      return Status::AlreadyExists(name);
    }
    if (streams_.size() + creating_.size() >= opts_.max_streams) {
      return Status::ResourceExhausted("stream limit of " + std::to_string(opts_.max_streams) +
                                       " reached");
    }
    creating_.insert(name);
  }
  // The name is reserved: the files are made without holding mu_, which every put
  // takes (Get).
  const std::string dir = files_.StreamDir(name);
  std::shared_ptr<DeliveryStream> opened;
  Status st = fs::RemoveAll(dir);  // leftovers of an interrupted delete
  if (st.ok()) {
    auto s = DeliveryStream::Open(dir, std::move(meta), Deps());
    if (s.ok()) {
      opened = std::move(s).value();
    } else {
      st = s.status();
      // Best effort: a definition left behind makes the stream reappear at the next
      // start, a folder left behind is removed then.
      (void)definitions_->Remove(name);
      (void)fs::RemoveAll(dir);
    }
  }
  std::lock_guard lk(mu_);
  creating_.erase(name);
  if (!st.ok()) return st;
  streams_[name] = std::move(opened);
  return Status::Ok();
}

Status StreamRegistry::Delete(const std::string& name) {
  std::shared_ptr<DeliveryStream> found;
  {
    std::lock_guard lk(mu_);
    auto it = streams_.find(name);
    if (it == streams_.end() || deleting_.count(name)) return Status::NotFound(name);
    found = it->second;
    deleting_.insert(name);  // a second Delete is NotFound, a Create is refused
  }
  // The definition first, without holding mu_ (the stream stays visible meanwhile,
  // as it did while the old code unlinked under the lock): a crash from here on
  // leaves a folder that Open() removes. The stream's update lock keeps a
  // concurrent UpdateDestination or tag change from writing the definition back.
  Status removed;
  {
    auto update_lock = found->LockForUpdate();
    removed = definitions_->Remove(name);
    if (removed.ok()) found->MarkDeleted();
  }
  std::lock_guard lk(mu_);
  if (!removed.ok()) {
    deleting_.erase(name);
    return removed;
  }
  auto it = streams_.find(name);
  std::shared_ptr<DeliveryStream> s = std::move(it->second);
  streams_.erase(it);
  // The rest happens in the background, as DeleteDeliveryStream does on AWS: the
  // delivery pass in progress may be waiting for a function (up to 5 minutes), and the name
  // stays taken until its files are gone.
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
