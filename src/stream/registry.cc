#include "stream/registry.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
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
  d.log_keys = opts_.log_keys;
  d.error_log = opts_.error_log;
  d.region = opts_.account.region;
  d.definitions = definitions_;
  d.scheduler = scheduler_.get();
  d.files = files_budget_.get();
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
  if (opts.max_streams_with_open_files) {
    r->files_budget_ = std::make_unique<FileBudget>(opts.max_streams_with_open_files);
  }
  // Only an unreadable streams folder stops the start; one bad stream does not.
  auto loaded = r->definitions_->LoadAll();
  if (!loaded.ok()) return loaded.status();
  for (auto& note : loaded->restored) {
    spdlog::warn("stream={} event=stream_definition_restored detail=\"{}\"", note.name,
                 note.reason);
    r->start_notes_[note.name].push_back(std::move(note.reason));
  }
  std::unordered_set<std::string> known;
  for (const auto& name : loaded->deleting) {
    // Its DELETING marker was written before the definition was removed: a
    // deletion interrupted by a stop or crash, finished now.
    known.insert(name);
    const std::string dir = r->files_.StreamDir(name);
    spdlog::info("stream={} event=stream_delete_finished dir={}", name, dir);
    if (Status st = fs::RemoveAll(dir); !st.ok()) {
      r->Quarantine(name, std::nullopt, st);
    }
  }
  for (const auto& d : loaded->damaged) {
    known.insert(d.name);
    r->Quarantine(d.name, std::nullopt, Status::Corruption(d.reason));
  }
  for (const auto& m : loaded->streams) known.insert(m.name);
  // A folder the definition store (another than the folders' own) does not know:
  // never deleted on a guess.
  auto dirs = r->files_.ListStreamDirs();
  if (!dirs.ok()) return dirs.status();
  for (const auto& dir : *dirs) {
    std::string name = FileDefinitionStore::NameOfDir(dir);
    if (!known.count(name)) {
      r->Quarantine(name, std::nullopt,
                    Status::Corruption(dir + " has no definition in the definition store"));
    }
  }
  for (auto& meta : loaded->streams) {
    std::string name = meta.name;
    DeliveryDeps deps = r->Deps();
    deps.definition_loaded = true;
    auto s = DeliveryStream::Open(r->files_.StreamDir(name), meta, std::move(deps));
    if (!s.ok()) {
      r->Quarantine(name, std::move(meta), s.status());
      continue;
    }
    r->streams_[name] = std::move(s).value();
  }
  if (!r->quarantined_.empty() && opts.quarantine_retry.count() > 0) {
    r->retry_thread_ = std::thread([raw = r.get()] { raw->RetryLoop(); });
  }
  return r;
}

void StreamRegistry::Quarantine(const std::string& name, std::optional<StreamMeta> meta,
                                const Status& why) {
  std::lock_guard lk(mu_);
  auto [it, added] = quarantined_.try_emplace(name);
  QuarantineEntry& e = it->second;
  if (added) {
    e.info.name = name;
    e.info.dir = files_.StreamDir(name);
    e.info.since_ms = clock_->NowMillis();
  }
  if (meta) e.meta = std::move(meta);
  e.info.reason = why.ToString();
  ++e.info.attempts;
  // Every attempt is logged: the retry interval bounds the rate.
  spdlog::error("stream={} event=stream_quarantined dir={} attempts={} error=\"{}\"", name,
                e.info.dir, e.info.attempts, e.info.reason);
}

size_t StreamRegistry::RetryQuarantined() {
  std::lock_guard retry(retry_mu_);
  std::vector<std::pair<std::string, std::optional<StreamMeta>>> todo;
  {
    std::lock_guard lk(mu_);
    for (const auto& [name, e] : quarantined_) todo.emplace_back(name, e.meta);
  }
  size_t opened = 0;
  for (auto& [name, meta] : todo) {
    if (!meta) {
      std::string restored;
      auto loaded = definitions_->Load(name, &restored);
      if (!restored.empty()) {
        spdlog::warn("stream={} event=stream_definition_restored detail=\"{}\"", name, restored);
        std::lock_guard lk(mu_);
        start_notes_[name].push_back(std::move(restored));
      }
      if (!loaded.ok()) {
        Quarantine(name, std::nullopt, loaded.status());
        continue;
      }
      meta = std::move(loaded).value();
    }
    auto s = DeliveryStream::Open(files_.StreamDir(name), *meta, Deps());
    if (!s.ok()) {
      Quarantine(name, std::move(meta), s.status());
      continue;
    }
    spdlog::warn("stream={} event=stream_quarantine_ended", name);
    std::lock_guard lk(mu_);
    quarantined_.erase(name);
    streams_[name] = std::move(s).value();
    ++opened;
  }
  return opened;
}

void StreamRegistry::RetryLoop() {
  std::unique_lock lk(mu_);
  while (!stopping_ && !quarantined_.empty()) {
    retry_cv_.wait_for(lk, opts_.quarantine_retry, [&] { return stopping_; });
    if (stopping_) break;
    lk.unlock();
    (void)RetryQuarantined();  // failures are logged and stay quarantined
    lk.lock();
  }
}

std::vector<std::string> StreamRegistry::StartNotes(const std::string& name) const {
  std::lock_guard lk(mu_);
  auto it = start_notes_.find(name);
  return it == start_notes_.end() ? std::vector<std::string>{} : it->second;
}

std::vector<QuarantinedStream> StreamRegistry::Quarantined() const {
  std::lock_guard lk(mu_);
  std::vector<QuarantinedStream> out;
  for (const auto& [name, e] : quarantined_) out.push_back(e.info);
  return out;
}

StreamRegistry::~StreamRegistry() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
  }
  retry_cv_.notify_all();
  if (retry_thread_.joinable()) retry_thread_.join();
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
    if (streams_.count(name) || creating_.count(name) || deleting_.count(name) ||
        quarantined_.count(name)) {
      return Status::AlreadyExists(name);
    }
    if (streams_.size() + creating_.size() + quarantined_.size() >= opts_.max_streams) {
      return Status::ResourceExhausted("stream limit of " + std::to_string(opts_.max_streams) +
                                       " reached");
    }
    creating_.insert(name);
  }
  // The name is reserved: the files are made without holding mu_, which every put
  // takes (Get).
  const std::string dir = files_.StreamDir(name);
  std::shared_ptr<DeliveryStream> opened;
  // Leftovers of a deletion (a folder with data is quarantined, its name taken).
  Status st = fs::RemoveAll(dir);
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
  // as it did while the old code unlinked under the lock). The stream's update lock keeps a
  // concurrent UpdateDestination or tag change from writing the definition back.
  // The store marks the folder as being deleted before it removes the definition,
  // so a start after a crash from here on finishes the deletion.
  Status removed;
  {
    auto update_lock = found->LockForUpdate();
    removed = definitions_->Remove(name);
    if (removed.ok()) found->MarkDeleted();
  }
  std::unique_lock lk(mu_);
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
  std::vector<std::thread> done;  // reapers that have finished: joined below, outside mu_
  for (auto t = reapers_.begin(); t != reapers_.end();) {
    if (std::find(finished_reapers_.begin(), finished_reapers_.end(), t->get_id()) !=
        finished_reapers_.end()) {
      done.push_back(std::move(*t));
      t = reapers_.erase(t);
    } else {
      ++t;
    }
  }
  finished_reapers_.clear();
  reapers_.emplace_back([this, s = std::move(s), name] {
    if (Status st = s->Destroy(); !st.ok()) {
      spdlog::error("stream={} event=delete_failed error=\"{}\"", name, st.ToString());
    }
    std::lock_guard lk(mu_);
    deleting_.erase(name);
    finished_reapers_.push_back(std::this_thread::get_id());
  });
  lk.unlock();
  for (auto& t : done) t.join();  // each has only its return left
  return Status::Ok();
}

size_t StreamRegistry::BackgroundDeletions() const {
  std::lock_guard lk(mu_);
  return reapers_.size();
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
