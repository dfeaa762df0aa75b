#include "kinesis/registry.h"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "buffer/group_commit.h"
#include "common/clock.h"
#include "common/file_util.h"
#include "common/log_fields.h"

namespace hydrant::kinesis {

namespace {

// Stream folders are "s-<name>": names may be "." or "..".
constexpr std::string_view kFolderPrefix = "s-";
constexpr std::string_view kDeletingMarker = "/DELETING";

}  // namespace

KinesisRegistry::KinesisRegistry(const RegistryOptions& opts) : opts_(opts) {
  if (!opts_.clock) opts_.clock = &SystemClock::Get();
}

KinesisRegistry::~KinesisRegistry() {
  {
    std::lock_guard lk(trim_mu_);
    stop_ = true;
  }
  trim_cv_.notify_all();
  if (trim_thread_.joinable()) trim_thread_.join();
  committer_.reset();  // drains pending syncs
}

StreamDeps KinesisRegistry::Deps() {
  StreamDeps d;
  d.committer = committer_.get();
  d.quota = opts_.quota;
  d.clock = opts_.clock;
  d.env = opts_.env;
  d.segment_bytes = opts_.segment_bytes;
  return d;
}

std::string KinesisRegistry::Arn(const std::string& name) const {
  return opts_.account.Arn("kinesis", "stream/" + name);
}

Result<std::unique_ptr<KinesisRegistry>> KinesisRegistry::Open(const RegistryOptions& opts) {
  std::unique_ptr<KinesisRegistry> r(new KinesisRegistry(opts));
  const std::string streams_dir = r->opts_.dir + "/streams";
  HYDRANT_RETURN_IF_ERROR(fs::MakeDirs(streams_dir));
  auto key = LoadOrCreateIteratorKey(r->opts_.dir + "/iterator.key");
  if (!key.ok()) return key.status();
  r->iterators_ = std::make_unique<IteratorCodec>(std::move(key).value());
  r->committer_ = std::make_unique<buffer::GroupCommitter>();
  for (const auto& entry : fs::ListDir(streams_dir)) {
    const std::string dir = streams_dir + "/" + entry;
    if (!entry.starts_with(kFolderPrefix) || !fs::IsDir(dir)) continue;
    const std::string meta_path = dir + "/stream.json";
    if (fs::Exists(dir + std::string(kDeletingMarker)) || !fs::Exists(meta_path)) {
      // A deletion, or a creation, that a crash cut short.
      spdlog::info("event=kinesis_stream_folder_removed dir={}", LogQuote(entry));
      HYDRANT_RETURN_IF_ERROR(fs::RemoveAll(dir));
      continue;
    }
    // A stream that cannot be opened is left as it is on disk, its name kept
    // (a Create cannot write over it); the others open.
    const std::string name = entry.substr(kFolderPrefix.size());
    auto damaged = [&](const Status& st) {
      spdlog::error("event=kinesis_stream_damaged stream={} dir={} error={}", LogQuote(name),
                    LogQuote(entry), LogQuote(st.ToString()));
      r->damaged_[name] = st.message();
    };
    auto text = fs::ReadFile(meta_path, 16 << 20);
    if (!text.ok()) {
      damaged(text.status());
      continue;
    }
    auto meta = StreamMeta::FromJson(*text);
    if (!meta.ok()) {
      damaged(meta.status());
      continue;
    }
    auto s = KinesisStream::Open(dir, std::move(meta).value(), r->Deps(), /*create=*/false);
    if (!s.ok()) {
      damaged(s.status());
      continue;
    }
    r->streams_[(*s)->name()] = *s;
  }
  if (r->opts_.trim_every.count() > 0) {
    r->trim_thread_ = std::thread([raw = r.get()] {
      std::unique_lock lk(raw->trim_mu_);
      while (!raw->trim_cv_.wait_for(lk, raw->opts_.trim_every, [raw] { return raw->stop_; })) {
        lk.unlock();
        raw->TrimAll();
        lk.lock();
      }
    });
  }
  return r;
}

size_t KinesisRegistry::open_shards() const {
  std::lock_guard lk(mu_);
  size_t n = 0;
  for (const auto& [name, s] : streams_) n += s->meta().open_shards();
  return n;
}

Status KinesisRegistry::CheckShardQuota(size_t more) const {
  const size_t now = open_shards();
  if (now + more > opts_.max_open_shards) {
    return Status::ResourceExhausted(
        "This request would exceed the shard limit for the account " + opts_.account.account_id +
        " in " + opts_.account.region + ". Current shard count for the account: " +
        std::to_string(now) + ". Limit: " + std::to_string(opts_.max_open_shards) +
        ". Number of additional shards that would have resulted from this request: " +
        std::to_string(more) +
        ". Refer to the AWS Service Limits page "
        "(http://docs.aws.amazon.com/general/latest/gr/aws_service_limits.html) for current limits "
        "and how to request higher limits.");
  }
  return Status::Ok();
}

Result<std::shared_ptr<KinesisStream>> KinesisRegistry::Create(
    const std::string& name, uint32_t shard_count, const std::string& mode,
    const std::map<std::string, std::string>& tags) {
  std::lock_guard control(control_mu_);
  {
    std::lock_guard lk(mu_);
    if (streams_.count(name)) {
      return Status::AlreadyExists("Stream " + name + " under account " +
                                   opts_.account.account_id + " already exists.");
    }
    if (auto d = damaged_.find(name); d != damaged_.end()) {
      return Status::AlreadyExists("Stream " + name + " under account " +
                                   opts_.account.account_id +
                                   " exists on disk but cannot be opened (" + d->second +
                                   "); its folder is kept as it is.");
    }
    if (streams_.size() >= opts_.max_streams) {
      return Status::ResourceExhausted("This request would exceed the limit of " +
                                       std::to_string(opts_.max_streams) +
                                       " streams for the account " + opts_.account.account_id + ".");
    }
  }
  HYDRANT_RETURN_IF_ERROR(CheckShardQuota(shard_count));
  StreamMeta m;
  m.name = name;
  m.arn = Arn(name);
  m.created_ms = opts_.clock->NowMillis();
  m.mode = mode;
  m.shards = EvenShards(shard_count, 0, m.created_ms);
  m.next_shard_index = shard_count;
  m.tags = tags;
  const std::string dir = opts_.dir + "/streams/" + std::string(kFolderPrefix) + name;
  if (fs::Exists(dir)) HYDRANT_RETURN_IF_ERROR(fs::RemoveAll(dir));  // a stale folder
  auto s = KinesisStream::Open(dir, std::move(m), Deps(), /*create=*/true);
  if (!s.ok()) {
    (void)fs::RemoveAll(dir);
    return s.status();
  }
  std::lock_guard lk(mu_);
  streams_[name] = *s;
  return s;
}

std::shared_ptr<KinesisStream> KinesisRegistry::Get(const std::string& name) const {
  std::lock_guard lk(mu_);
  auto it = streams_.find(name);
  return it == streams_.end() ? nullptr : it->second;
}

Status KinesisRegistry::Delete(const std::string& name) {
  std::lock_guard control(control_mu_);
  std::shared_ptr<KinesisStream> s;
  {
    std::lock_guard lk(mu_);
    auto it = streams_.find(name);
    if (it == streams_.end()) {
      return Status::NotFound("Stream " + name + " under account " + opts_.account.account_id +
                              " not found.");
    }
    s = it->second;
    streams_.erase(it);
  }
  const std::string dir = opts_.dir + "/streams/" + std::string(kFolderPrefix) + name;
  HYDRANT_RETURN_IF_ERROR(fs::WriteFileAtomic(dir + std::string(kDeletingMarker), ""));
  return s->Destroy();
}

std::vector<std::string> KinesisRegistry::List() const {
  std::lock_guard lk(mu_);
  std::vector<std::string> out;
  for (const auto& [name, s] : streams_) out.push_back(name);
  return out;
}

Status KinesisRegistry::Split(KinesisStream& s, uint32_t shard, HashKey new_start) {
  std::lock_guard control(control_mu_);
  HYDRANT_RETURN_IF_ERROR(CheckShardQuota(1));
  return s.Split(shard, new_start);
}

Status KinesisRegistry::Merge(KinesisStream& s, uint32_t shard, uint32_t adjacent) {
  std::lock_guard control(control_mu_);
  return s.Merge(shard, adjacent);
}

Status KinesisRegistry::UpdateShardCount(KinesisStream& s, uint32_t target) {
  std::lock_guard control(control_mu_);
  const size_t current = s.meta().open_shards();
  if (target > current) HYDRANT_RETURN_IF_ERROR(CheckShardQuota(target - current));
  return s.UpdateShardCount(target);
}

uint64_t KinesisRegistry::TrimAll() {
  std::vector<std::shared_ptr<KinesisStream>> all;
  {
    std::lock_guard lk(mu_);
    for (const auto& [name, s] : streams_) all.push_back(s);
  }
  uint64_t n = 0;
  for (auto& s : all) {
    n += s->Trim();
    s->ReleaseIdleFiles();
  }
  return n;
}

}  // namespace hydrant::kinesis
