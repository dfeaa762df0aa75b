// Buckets and objects: opening a store, puts (the commit point is in Publish),
// reads, deletes and listings. The index: object_store_index.h. Importing older
// stores and the orphan sweep: object_store_recovery.cc. Multipart uploads:
// multipart.cc. The files: store_format.h.

#include "destinations/object_store.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <random>

#include "common/file_util.h"
#include "destinations/object_store_index.h"
#include "destinations/object_store_internal.h"
#include "destinations/sink_errors.h"
#include "destinations/store_files.h"
#include "destinations/store_format.h"
#include "destinations/temp_file.h"

namespace hydrant::store {

using store_format::DecodeBucket;
using store_format::EncodeBucket;
using store_format::IdHex;
using store_format::kBucketFile;
using store_format::kBucketPolicyFile;
using store_format::kCleanFile;
using store_format::kIndexFile;
using store_format::KeyPaths;
using store_format::kLockFile;
using store_format::kTempBucket;
using store_format::kTempData;
using store_format::kTempDeletedBucket;
using store_format::kTmpDir;
using store_format::PathsFor;

namespace {

// The smallest string greater than every string starting with `p`, or "" when
// none exists (p is all 0xFF bytes).
std::string PrefixEnd(std::string p) {
  while (!p.empty()) {
    unsigned char c = static_cast<unsigned char>(p.back());
    if (c != 0xFF) {
      p.back() = static_cast<char>(c + 1);
      return p;
    }
    p.pop_back();
  }
  return p;
}

}  // namespace

// --- writers -----------------------------------------------------------------

class ObjectStore::Writer final : public ObjectWriter {
 public:
  Writer(ObjectStore* store, std::string bucket, std::string key, ObjectMeta meta, int fd,
         std::string tmp_path)
      : store_(store),
        bucket_(std::move(bucket)),
        key_(std::move(key)),
        meta_(std::move(meta)),
        file_(store->env_, fd, std::move(tmp_path)) {}

  Status Write(std::string_view bytes) override { return file_.Write(bytes); }

  Result<ObjectInfo> Commit() override {
    auto md5 = file_.Finish();
    if (!md5.ok()) return md5.status();
    auto info = store_->Publish(bucket_, key_, file_.path(), file_.size(), *md5, meta_);
    if (info.ok()) file_.Keep();
    return info;
  }

 private:
  ObjectStore* store_;
  std::string bucket_, key_;
  ObjectMeta meta_;
  TempFile file_;
};

// --- store -------------------------------------------------------------------

ObjectStore::ObjectStore(std::string root, int lock_fd, Env* env)
    : root_(std::move(root)), lock_fd_(lock_fd), env_(env ? env : Env::Default()) {}

ObjectStore::~ObjectStore() {
  stop_sweep_ = true;
  if (sweeper_.joinable()) sweeper_.join();
  bool had_index = index_ != nullptr;
  index_.reset();  // the last connection checkpoints the WAL into the database
  if (had_index && sweep_done_) {
    // Nothing to sweep at the next Open (unless this marker is missing then).
    std::string clean = root_ + "/" + kCleanFile;
    ::unlink(clean.c_str());
    if (WriteFileSynced(clean, "").ok()) (void)fs::SyncDir(root_);
  }
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock
}

void ObjectStore::WaitForSweep() {
  if (sweeper_.joinable()) sweeper_.join();
}

Result<std::unique_ptr<ObjectStore>> ObjectStore::Open(const std::string& root_in, Env* env) {
  std::string root = root_in;
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  std::error_code ec;
  std::filesystem::create_directories(root, ec);
  if (ec) return Status::IoError("create " + root + ": " + ec.message());
  std::string lock_path = root + "/" + kLockFile;
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Status::FromErrno("open " + lock_path, errno);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return Status::Unavailable("object store " + root + " is in use by another process");
    }
    return Status::FromErrno("flock " + lock_path, err);
  }
  std::unique_ptr<ObjectStore> store(new ObjectStore(root, fd, env));
  HYDRANT_RETURN_IF_ERROR(store->Load());
  return store;
}

std::string ObjectStore::BucketDir(std::string_view bucket) const {
  return root_ + "/" + std::string(bucket);
}

uint64_t ObjectStore::NewId() {
  // splitmix64 over a per-process random seed plus a counter: distinct within
  // the process, and unlikely to meet an id left by an earlier process.
  static const uint64_t seed = [] {
    std::random_device rd;
    return (static_cast<uint64_t>(rd()) << 32) ^ rd() ^
           static_cast<uint64_t>(NowMillis()) * 0x9E3779B97F4A7C15ull;
  }();
  static std::atomic<uint64_t> counter{0};
  uint64_t z = seed + 0x9E3779B97F4A7C15ull * (++counter);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

std::string ObjectStore::NewTempPath(std::string_view suffix) {
  return root_ + "/" + kTmpDir + "/" + IdHex(NewId()) + std::string(suffix);
}

Status ObjectStore::Load() {
  std::string tmp = root_ + "/" + kTmpDir;
  std::error_code ec;
  // Whatever is in tmp belongs to writers that never committed, or to buckets
  // being deleted: none of it is visible, all of it can go.
  std::filesystem::remove_all(tmp, ec);
  if (ec) return Status::IoError("clean " + tmp + ": " + ec.message());
  if (::mkdir(tmp.c_str(), 0755) != 0 && errno != EEXIST) {
    return Status::FromErrno("mkdir " + tmp, errno);
  }
  // The marker goes before anything changes: if this process dies, the next Open
  // finds it missing and sweeps.
  std::string clean = root_ + "/" + kCleanFile;
  bool was_clean = ::unlink(clean.c_str()) == 0;
  if (was_clean) HYDRANT_RETURN_IF_ERROR(fs::SyncDir(root_));
  // Until a sweep has run, closing must not write the marker back (even if this
  // Open fails further on).
  if (!was_clean) sweep_done_ = false;
  auto index = ObjectIndex::Open(root_ + "/" + kIndexFile);
  if (!index.ok()) return index.status();
  index_ = std::move(index).value();
  auto indexed = index_->Buckets();
  if (!indexed.ok()) return indexed.status();
  bool imported = false;
  for (const std::string& name : fs::ListDir(root_)) {
    if (!IsValidBucketName(name) || !fs::IsDir(BucketDir(name))) continue;
    if (std::find(indexed->begin(), indexed->end(), name) == indexed->end()) {
      // A bucket of a store written before the index, or made by hand.
      HYDRANT_RETURN_IF_ERROR(ImportLegacyBucket(name));
      imported = true;
    }
    auto bucket = std::make_unique<Bucket>();
    bucket->creation_ms = LoadBucketTime(name);
    for (const char* doc : {kBucketPolicyFile, store_format::kBucketEncryptionFile}) {
      if (auto text = fs::ReadFile(BucketDir(name) + "/" + doc); text.ok()) {
        bucket->docs[doc] = std::make_shared<const std::string>(std::move(text).value());
      }
    }
    buckets_.emplace(name, std::move(bucket));
  }
  // Rows of a bucket whose folder is gone: a crash inside DeleteBucket.
  for (const std::string& name : *indexed) {
    if (!buckets_.count(name)) HYDRANT_RETURN_IF_ERROR(index_->DropBucket(name));
  }
  HYDRANT_RETURN_IF_ERROR(LoadUploads());
  if (imported) sweep_done_ = false;
  if (!sweep_done_) sweeper_ = std::thread([this] { Sweep(); });
  return Status::Ok();
}

int64_t ObjectStore::LoadBucketTime(const std::string& name) const {
  std::string dir = BucketDir(name);
  auto text = ReadSmallFile(dir + "/" + kBucketFile);
  std::optional<int64_t> ctime;
  if (text) ctime = DecodeBucket(*text);
  if (ctime) return *ctime;
  // A bucket folder made by hand: take its modification time.
  struct stat st;
  if (::stat(dir.c_str(), &st) == 0) return int64_t{st.st_mtime} * 1000;
  return 0;
}

Status ObjectStore::CreateBucket(std::string_view name) {
  if (!IsValidBucketName(name)) {
    return Status::InvalidArgument("The specified bucket is not valid.");
  }
  std::unique_lock lock(mu_);
  if (buckets_.count(name)) return Status::AlreadyExists("bucket " + std::string(name) + " exists");
  // Build the bucket folder in tmp and rename it into place: a bucket appears
  // with its metadata or not at all.
  std::string tmp_dir = NewTempPath(kTempBucket);
  if (::mkdir(tmp_dir.c_str(), 0755) != 0) return Status::FromErrno("mkdir " + tmp_dir, errno);
  int64_t now = NowMillis();
  Status st = WriteFileSynced(tmp_dir + "/" + kBucketFile, EncodeBucket(now));
  if (st.ok()) st = fs::SyncDir(tmp_dir);
  // Marked indexed (and cleared of rows a failed DeleteBucket may have left)
  // before the folder appears; a crash before the rename leaves a mark without a
  // folder, which Open drops.
  if (st.ok()) st = index_->DropBucket(name);
  if (st.ok()) st = index_->AddBucket(name);
  std::string dir = BucketDir(name);
  if (st.ok() && ::rename(tmp_dir.c_str(), dir.c_str()) != 0) {
    st = Status::FromErrno("rename " + tmp_dir + " to " + dir, errno);
  }
  if (!st.ok()) {
    std::error_code ec;
    std::filesystem::remove_all(tmp_dir, ec);
    return st;
  }
  HYDRANT_RETURN_IF_ERROR(fs::SyncDir(root_));
  auto b = std::make_unique<Bucket>();
  b->creation_ms = now;
  buckets_.emplace(std::string(name), std::move(b));
  return Status::Ok();
}

Status ObjectStore::DeleteBucket(std::string_view name) {
  std::unique_lock lock(mu_);
  auto it = buckets_.find(name);
  if (it == buckets_.end()) return Status::NotFound("The specified bucket does not exist");
  {
    std::unique_lock block(it->second->mu);
    auto empty = index_->Empty(name);
    if (!empty.ok()) return empty.status();
    if (!*empty) return Status::InvalidArgument("BucketNotEmpty");
  }
  std::string dir = BucketDir(name);
  std::string tmp_dir = NewTempPath(kTempDeletedBucket);
  if (::rename(dir.c_str(), tmp_dir.c_str()) != 0) {
    return Status::FromErrno("rename " + dir + " to " + tmp_dir, errno);
  }
  HYDRANT_RETURN_IF_ERROR(fs::SyncDir(root_));
  buckets_.erase(it);
  // The folder is gone, so the bucket is; its mark goes now, or at the next Open.
  if (Status st = index_->DropBucket(name); !st.ok()) {
    spdlog::warn("object store: bucket {} deleted; its index mark stays until restart: {}", name,
                 st.message());
  }
  std::error_code ec;
  std::filesystem::remove_all(tmp_dir, ec);  // leftovers are removed at next Open
  // As S3: in-progress multipart uploads do not keep a bucket alive; they go
  // with it. (A crash here leaves them to Open, which drops uploads whose
  // bucket is gone.) No Upload::mu is taken: a completion holding it waits for
  // mu_ in Publish, and then finds no bucket.
  std::vector<std::shared_ptr<Upload>> doomed;
  {
    std::lock_guard ulock(uploads_mu_);
    for (const auto& [id, up] : uploads_)
      if (up->bucket == name) doomed.push_back(up);
  }
  for (const auto& up : doomed) DropUpload(up.get());
  return Status::Ok();
}

Status ObjectStore::SetBucketDocument(std::string_view name, const char* file,
                                      std::string_view text) {
  std::shared_lock lock(mu_);
  auto it = buckets_.find(name);
  if (it == buckets_.end()) return Status::NotFound("The specified bucket does not exist");
  Bucket& b = *it->second;
  std::lock_guard dlock(b.docs_mu);
  const std::string path = BucketDir(name) + "/" + file;
  if (text.empty()) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      return Status::FromErrno("unlink " + path, errno);
    }
    HYDRANT_RETURN_IF_ERROR(fs::SyncDir(BucketDir(name)));
    b.docs.erase(file);
    return Status::Ok();
  }
  HYDRANT_RETURN_IF_ERROR(fs::WriteFileAtomic(path, text));
  b.docs[file] = std::make_shared<const std::string>(text);
  return Status::Ok();
}

Result<std::shared_ptr<const std::string>> ObjectStore::BucketDocument(std::string_view name,
                                                                       const char* file) const {
  std::shared_lock lock(mu_);
  auto it = buckets_.find(name);
  if (it == buckets_.end()) return Status::NotFound("The specified bucket does not exist");
  std::lock_guard dlock(it->second->docs_mu);
  auto doc = it->second->docs.find(file);
  if (doc == it->second->docs.end()) return std::shared_ptr<const std::string>();
  return doc->second;
}

Status ObjectStore::SetBucketPolicy(std::string_view name, std::string_view json) {
  return SetBucketDocument(name, kBucketPolicyFile, json);
}

Result<std::shared_ptr<const std::string>> ObjectStore::BucketPolicy(std::string_view name) const {
  return BucketDocument(name, kBucketPolicyFile);
}

Status ObjectStore::SetBucketEncryption(std::string_view name, std::string_view config) {
  return SetBucketDocument(name, store_format::kBucketEncryptionFile, config);
}

Result<std::shared_ptr<const std::string>> ObjectStore::BucketEncryption(
    std::string_view name) const {
  return BucketDocument(name, store_format::kBucketEncryptionFile);
}

bool ObjectStore::BucketExists(std::string_view name) const {
  std::shared_lock lock(mu_);
  return buckets_.count(name) > 0;
}

std::vector<BucketInfo> ObjectStore::ListBuckets() const {
  std::shared_lock lock(mu_);
  std::vector<BucketInfo> out;
  out.reserve(buckets_.size());
  for (const auto& [name, b] : buckets_) out.push_back({name, b->creation_ms});
  return out;
}

Result<std::unique_ptr<ObjectWriter>> ObjectStore::BeginPut(std::string_view bucket,
                                                            std::string_view key,
                                                            const ObjectMeta& meta) {
  if (auto err = ValidateKey(key)) return Status::InvalidArgument(*err);
  if (!BucketExists(bucket)) return Status::NotFound("The specified bucket does not exist");
  std::string tmp = NewTempPath(kTempData);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Status::FromErrno("create " + tmp, errno);
  return std::unique_ptr<ObjectWriter>(
      new Writer(this, std::string(bucket), std::string(key), meta, fd, std::move(tmp)));
}

Status ObjectStore::CheckAccess(std::string_view bucket, const ObjectMeta& meta) {
  auto where = [&](std::string_view step) {
    return std::string(step) + " in bucket " + std::string(bucket) + " (embedded store): ";
  };
  if (!BucketExists(bucket)) {
    return SinkError(kS3NoSuchBucket,
                     "bucket " + std::string(bucket) + " does not exist in the embedded store");
  }
  ListRequest lr;
  lr.max_keys = 1;
  if (auto l = List(bucket, lr); !l.ok()) {
    return SinkError(FirehoseErrorCode(l.status()), where("list") + l.status().message());
  }
  char suffix[17];
  std::snprintf(suffix, sizeof(suffix), "%016llx", static_cast<unsigned long long>(NewId()));
  std::string key = std::string(kProbeKeyPrefix) + suffix;
  ObjectMeta pm;
  pm.content_type = "text/plain";
  if (auto p = PutObject(bucket, key, "hydrant access probe\n", pm); !p.ok()) {
    return SinkError(FirehoseErrorCode(p.status()), where("put " + key) + p.status().message());
  }
  if (Status d = DeleteObject(bucket, key); !d.ok()) {
    return SinkError(FirehoseErrorCode(d), where("delete " + key) + d.message());
  }
  return Status::Ok();
}

Result<ObjectInfo> ObjectStore::Publish(const std::string& bucket, const std::string& key,
                                        const std::string& tmp_data, uint64_t size,
                                        const std::string& md5, const ObjectMeta& meta,
                                        std::vector<uint64_t> part_sizes) {
  IndexedObject row;
  row.key = key;
  row.size = size;
  row.md5 = md5;
  row.mtime_ms = NowMillis();
  row.data_id = NewId();
  row.meta = meta;
  row.part_sizes = std::move(part_sizes);

  std::shared_lock store_lock(mu_);
  auto it = buckets_.find(bucket);
  if (it == buckets_.end()) return Status::NotFound("The specified bucket does not exist");
  Bucket* b = it->second.get();
  std::unique_lock lock(b->mu);
  KeyPaths kp = PathsFor(BucketDir(bucket), key);
  if (::mkdir(kp.shard_dir.c_str(), 0755) == 0) {
    HYDRANT_RETURN_IF_ERROR(fs::SyncDir(BucketDir(bucket)));
  } else if (errno != EEXIST) {
    return Status::FromErrno("mkdir " + kp.shard_dir, errno);
  }
  // 1. data under its unique name, durable: not yet referenced, so invisible (an
  //    orphan that the sweep after an unclean shutdown removes if we crash now).
  std::string data = kp.Data(row.data_id);
  if (::rename(tmp_data.c_str(), data.c_str()) != 0) {
    return Status::FromErrno("rename " + tmp_data, errno);
  }
  if (Status st = fs::SyncDir(kp.shard_dir); !st.ok()) {
    ::unlink(data.c_str());
    return st;
  }
  // 2. the commit point: the index row naming that data file (fsynced in the WAL).
  auto old_id = index_->Put(bucket, row);
  if (!old_id.ok()) {
    ::unlink(data.c_str());
    return old_id.status();
  }
  // 3. the previous version's data (readers that already opened it keep reading).
  if (*old_id && **old_id != row.data_id) ::unlink(kp.Data(**old_id).c_str());
  return MakeInfo(bucket, std::move(row));
}

Result<ObjectInfo> ObjectStore::PutObject(std::string_view bucket, std::string_view key,
                                          std::string_view data, const ObjectMeta& meta) {
  auto w = BeginPut(bucket, key, meta);
  if (!w.ok()) return w.status();
  HYDRANT_RETURN_IF_ERROR((*w)->Write(data));
  return (*w)->Commit();
}

ObjectInfo ObjectStore::MakeInfo(std::string_view bucket, IndexedObject&& e) const {
  ObjectInfo info;
  info.etag = EtagOf(e.md5, e.part_sizes.size());
  info.data_path = PathsFor(BucketDir(bucket), e.key).Data(e.data_id);
  info.key = std::move(e.key);
  info.size = e.size;
  info.last_modified_ms = e.mtime_ms;
  info.meta = std::move(e.meta);
  info.part_sizes = std::move(e.part_sizes);
  return info;
}

Result<OpenedObject> ObjectStore::Find(std::string_view bucket, std::string_view key,
                                       bool open_data) const {
  std::shared_lock store_lock(mu_);
  auto it = buckets_.find(bucket);
  if (it == buckets_.end()) return Status::NotFound("The specified bucket does not exist");
  // Publish and DeleteObject unlink a data file only under the exclusive lock, so
  // the file opened here is the one this description names.
  std::shared_lock lock(it->second->mu);
  auto row = index_->Get(bucket, key);
  if (!row.ok()) return row.status();
  if (!*row) return Status::NotFound("The specified key does not exist.");
  OpenedObject out;
  out.info = MakeInfo(bucket, std::move(**row));
  if (open_data) {
    out.data = UniqueFd(::open(out.info.data_path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!out.data) return Status::FromErrno("open " + out.info.data_path, errno);
  }
  return out;
}

Result<ObjectInfo> ObjectStore::HeadObject(std::string_view bucket, std::string_view key) const {
  auto found = Find(bucket, key, /*open_data=*/false);
  if (!found.ok()) return found.status();
  return std::move(found->info);
}

Result<OpenedObject> ObjectStore::OpenObject(std::string_view bucket, std::string_view key) const {
  return Find(bucket, key, /*open_data=*/true);
}

Status ObjectStore::DeleteObject(std::string_view bucket, std::string_view key) {
  std::shared_lock store_lock(mu_);
  auto it = buckets_.find(bucket);
  if (it == buckets_.end()) return Status::NotFound("The specified bucket does not exist");
  std::unique_lock lock(it->second->mu);
  // The row goes first (the object disappears, durably), then its data.
  auto id = index_->Remove(bucket, key);
  if (!id.ok()) return id.status();
  if (*id) ::unlink(PathsFor(BucketDir(bucket), key).Data(**id).c_str());
  return Status::Ok();
}

Result<ListResult> ObjectStore::List(std::string_view bucket, const ListRequest& req) const {
  std::shared_lock store_lock(mu_);  // the bucket is not deleted meanwhile
  if (!buckets_.count(bucket)) return Status::NotFound("The specified bucket does not exist");
  ListResult out;
  if (req.max_keys <= 0) return out;
  auto cursor = index_->NewCursor(bucket);
  if (!cursor.ok()) return cursor.status();
  ObjectIndex::Cursor& cur = **cursor;
  const std::string& prefix = req.prefix;
  std::string from = prefix;
  if (!req.start_after.empty() && req.start_after >= prefix) {
    from = req.start_after;
    from.push_back('\0');  // the smallest key after start_after
  }
  HYDRANT_RETURN_IF_ERROR(cur.Seek(from));
  int count = 0;
  while (cur.Valid() && StartsWith(cur.row().key, prefix)) {
    const std::string& key = cur.row().key;
    if (!req.delimiter.empty()) {
      size_t d = key.find(req.delimiter, prefix.size());
      if (d != std::string::npos) {
        std::string cp = key.substr(0, d + req.delimiter.size());
        // Every key under this prefix rolls up into it: seek past them all.
        std::string end = PrefixEnd(cp);
        if (cp > req.start_after) {  // else returned on an earlier page
          if (count == req.max_keys) {
            out.truncated = true;
            break;
          }
          out.common_prefixes.push_back(cp);
          out.next_start_after = cp;
          ++count;
        }
        if (end.empty()) break;
        HYDRANT_RETURN_IF_ERROR(cur.Seek(end));
        continue;
      }
    }
    if (count == req.max_keys) {
      out.truncated = true;
      break;
    }
    ObjectInfo info;
    info.key = key;
    info.size = cur.row().size;
    info.etag = EtagOf(cur.row().md5, cur.row().parts);
    info.last_modified_ms = cur.row().mtime_ms;
    info.meta.encryption = cur.row().meta.encryption;
    info.part_sizes = cur.row().part_sizes;
    out.objects.push_back(std::move(info));
    out.next_start_after = key;
    ++count;
    HYDRANT_RETURN_IF_ERROR(cur.Next());
  }
  if (!out.truncated) out.next_start_after.clear();
  return out;
}

}  // namespace hydrant::store
