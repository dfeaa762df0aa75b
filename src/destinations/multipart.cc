// ObjectStore's multipart uploads (S3's CreateMultipartUpload ... Complete/Abort,
// ListParts, ListMultipartUploads). Their files: store_format.h; their commit
// points and recovery: docs/object-store.md, "Multipart uploads".

#include <fcntl.h>
#include <openssl/evp.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <filesystem>

#include "common/file_util.h"
#include "common/strings.h"
#include "destinations/object_store.h"
#include "destinations/object_store_internal.h"
#include "destinations/store_files.h"
#include "destinations/store_format.h"
#include "destinations/temp_file.h"

namespace hydrant::store {

using store_format::DecodePart;
using store_format::DecodeUpload;
using store_format::EncodePart;
using store_format::EncodeUpload;
using store_format::HexOf;
using store_format::IdHex;
using store_format::IsDataName;
using store_format::IsPartMetaName;
using store_format::IsUploadId;
using store_format::kTempData;
using store_format::kTempGoneUpload;
using store_format::kTempMeta;
using store_format::kTempPart;
using store_format::kTempUpload;
using store_format::kUploadFile;
using store_format::kUploadsDir;
using store_format::ParsedPart;
using store_format::ParsedUpload;
using store_format::PartDataName;
using store_format::PartMetaName;
using store_format::PartStem;

std::pair<std::string, std::string> SplitErrorCode(const Status& st) {
  const std::string& m = st.message();
  for (const char* code :
       {kNoSuchUpload, kInvalidPart, kInvalidPartOrder, kEntityTooSmall, kMalformedXml}) {
    std::string_view c = code;
    if (m.size() >= c.size() + 2 && m.compare(0, c.size(), c) == 0 &&
        m.compare(c.size(), 2, ": ") == 0) {
      return {std::string(c), m.substr(c.size() + 2)};
    }
  }
  return {"", m};
}

namespace {

Status CodedError(StatusCode code, std::string_view s3_code, std::string_view text) {
  return Status(code, std::string(s3_code) + ": " + std::string(text));
}

Status NoSuchUploadError() {
  return CodedError(StatusCode::kNotFound, kNoSuchUpload,
                    "The specified upload does not exist. The upload ID may be invalid, or the "
                    "upload may have been aborted or completed.");
}

}  // namespace

class ObjectStore::PartWriterImpl final : public PartWriter {
 public:
  PartWriterImpl(ObjectStore* store, std::shared_ptr<Upload> upload, int number, int fd,
                 std::string tmp_path)
      : store_(store),
        upload_(std::move(upload)),
        number_(number),
        file_(store->env_, fd, std::move(tmp_path)) {}

  Status Write(std::string_view bytes) override { return file_.Write(bytes); }

  Result<PartInfo> Commit() override {
    auto md5 = file_.Finish();  // durable before the part is acknowledged
    if (!md5.ok()) return md5.status();
    auto info = store_->PublishPart(upload_, number_, file_.path(), file_.size(), *md5);
    if (info.ok()) file_.Keep();
    return info;
  }

 private:
  ObjectStore* store_;
  std::shared_ptr<Upload> upload_;
  int number_;
  TempFile file_;
};

// --- multipart uploads ----------------------------------------------------------
// Files under <root>/.uploads/<id>/: store_format.h. A part is committed by its own .meta file
// (data renamed in under a fresh name, then the .meta renamed over the old one: uploads are few,
// so they stay out of the object index); an upload folder is created in .tmp and renamed into
// place, and removed by renaming it back into .tmp.

std::string ObjectStore::UploadDir(std::string_view id) const {
  return root_ + "/" + kUploadsDir + "/" + std::string(id);
}

Status ObjectStore::LoadUploads() {
  std::string dir = root_ + "/" + kUploadsDir;
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return Status::FromErrno("mkdir " + dir, errno);
  }
  for (const std::string& id : fs::ListDir(dir)) {
    std::string up_dir = dir + "/" + id;
    if (!IsUploadId(id) || !fs::IsDir(up_dir)) {
      spdlog::warn("object store: ignoring {} (not an upload)", up_dir);
      continue;
    }
    auto text = ReadSmallFile(up_dir + "/" + kUploadFile);
    std::optional<ParsedUpload> pu;
    if (text) pu = DecodeUpload(*text);
    if (!pu || !buckets_.count(pu->bucket)) {
      // No bucket: deleted while the upload was open (its removal did not finish
      // before a crash). No valid upload file: damage (it is synced before the
      // folder is renamed into place). Either way nothing can complete it.
      if (!pu) spdlog::warn("object store: dropping damaged multipart upload {}", up_dir);
      std::error_code ec;
      std::filesystem::remove_all(up_dir, ec);
      continue;
    }
    auto up = std::make_shared<Upload>();
    up->id = id;
    up->bucket = std::move(pu->bucket);
    up->key = std::move(pu->key);
    up->initiated_ms = pu->initiated_ms;
    up->meta = std::move(pu->meta);
    std::vector<std::string> names = fs::ListDir(up_dir);
    std::vector<std::string> keep;
    for (const std::string& f : names) {
      if (!IsPartMetaName(f)) continue;
      std::string meta_path = up_dir + "/" + f;
      auto content = ReadSmallFile(meta_path);
      std::optional<ParsedPart> pp;
      if (content) pp = DecodePart(*content);
      bool ok = pp && PartStem(static_cast<int>(pp->number)) == f.substr(0, 5);
      std::string data;
      if (ok) {
        data = PartDataName(static_cast<int>(pp->number), pp->data_id);
        struct stat st;
        ok = ::stat((up_dir + "/" + data).c_str(), &st) == 0 &&
             static_cast<uint64_t>(st.st_size) == pp->size;
      }
      if (!ok) {
        spdlog::warn("object store: dropping unreadable part {}", meta_path);
        ::unlink(meta_path.c_str());
        continue;
      }
      keep.push_back(data);
      Upload::Part& part = up->parts[static_cast<int>(pp->number)];
      part.size = pp->size;
      part.md5 = std::move(pp->md5);
      part.data_id = pp->data_id;
      part.mtime_ms = static_cast<int64_t>(pp->mtime_ms);
    }
    // Part data no .meta points at: an upload that crashed before its commit
    // point, or a part that was uploaded again.
    for (const std::string& f : names) {
      if (!IsDataName(f)) continue;
      if (std::find(keep.begin(), keep.end(), f) != keep.end()) continue;
      ::unlink((up_dir + "/" + f).c_str());
    }
    uploads_.emplace(id, std::move(up));
  }
  return Status::Ok();
}

Result<UploadInfo> ObjectStore::CreateMultipartUpload(std::string_view bucket, std::string_view key,
                                                      const ObjectMeta& meta) {
  if (auto err = ValidateKey(key)) return Status::InvalidArgument(*err);
  if (!BucketExists(bucket)) return Status::NotFound("The specified bucket does not exist");
  // Ids sort in initiation order (ListMultipartUploads): 14 hex digits of
  // (ms << 12) made strictly increasing within the process (4096 per ms before
  // they run ahead of the clock), then 18 random ones.
  int64_t now = NowMillis();
  static std::atomic<uint64_t> last_stamp{0};
  uint64_t stamp = static_cast<uint64_t>(now) << 12;
  uint64_t prev = last_stamp.load();
  while (!last_stamp.compare_exchange_weak(prev, std::max(stamp, prev + 1))) {
  }
  stamp = std::max(stamp, prev + 1);
  std::string id = IdHex(stamp).substr(2) + IdHex(NewId()) + IdHex(NewId()).substr(0, 2);
  // Built in tmp and renamed into place: an upload appears whole or not at all.
  std::string tmp_dir = NewTempPath(kTempUpload);
  if (::mkdir(tmp_dir.c_str(), 0755) != 0) return Status::FromErrno("mkdir " + tmp_dir, errno);
  auto cleanup = [&](Status st) {
    std::error_code ec;
    std::filesystem::remove_all(tmp_dir, ec);
    return st;
  };
  Status st = WriteFileSynced(tmp_dir + "/" + kUploadFile, EncodeUpload(bucket, key, now, meta));
  if (st.ok()) st = fs::SyncDir(tmp_dir);
  if (!st.ok()) return cleanup(st);
  std::shared_lock store_lock(mu_);  // keeps the bucket from being deleted meanwhile
  if (!buckets_.count(bucket)) {
    return cleanup(Status::NotFound("The specified bucket does not exist"));
  }
  std::string dir = UploadDir(id);
  if (::rename(tmp_dir.c_str(), dir.c_str()) != 0) {
    return cleanup(Status::FromErrno("rename " + tmp_dir + " to " + dir, errno));
  }
  HYDRANT_RETURN_IF_ERROR(fs::SyncDir(root_ + "/" + kUploadsDir));
  auto up = std::make_shared<Upload>();
  up->id = id;
  up->bucket = std::string(bucket);
  up->key = std::string(key);
  up->initiated_ms = now;
  up->meta = meta;
  UploadInfo info{id, up->key, now, meta};
  std::lock_guard lock(uploads_mu_);
  uploads_.emplace(id, std::move(up));
  return info;
}

Result<std::shared_ptr<ObjectStore::Upload>> ObjectStore::FindUpload(std::string_view bucket,
                                                                     std::string_view key,
                                                                     std::string_view id) const {
  if (!BucketExists(bucket)) return Status::NotFound("The specified bucket does not exist");
  if (!IsUploadId(id)) return NoSuchUploadError();  // also: ids never become foreign paths
  std::lock_guard lock(uploads_mu_);
  auto it = uploads_.find(id);
  if (it == uploads_.end() || it->second->bucket != bucket || it->second->key != key) {
    return NoSuchUploadError();
  }
  return it->second;
}

Result<std::unique_ptr<PartWriter>> ObjectStore::BeginUploadPart(std::string_view bucket,
                                                                 std::string_view key,
                                                                 std::string_view upload_id,
                                                                 int part_number) {
  if (part_number < 1 || part_number > kMaxPartNumber) {
    return Status::InvalidArgument("Part number must be an integer between 1 and 10000, inclusive");
  }
  auto up = FindUpload(bucket, key, upload_id);
  if (!up.ok()) return up.status();
  std::string tmp = NewTempPath(kTempPart);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Status::FromErrno("create " + tmp, errno);
  return std::unique_ptr<PartWriter>(
      new PartWriterImpl(this, std::move(up).value(), part_number, fd, std::move(tmp)));
}

Result<PartInfo> ObjectStore::UploadPart(std::string_view bucket, std::string_view key,
                                         std::string_view upload_id, int part_number,
                                         std::string_view data) {
  auto w = BeginUploadPart(bucket, key, upload_id, part_number);
  if (!w.ok()) return w.status();
  HYDRANT_RETURN_IF_ERROR((*w)->Write(data));
  return (*w)->Commit();
}

Result<PartInfo> ObjectStore::PublishPart(const std::shared_ptr<Upload>& up, int number,
                                          const std::string& tmp_data, uint64_t size,
                                          const std::string& md5) {
  uint64_t id = NewId();
  int64_t mtime = NowMillis();
  std::string tmp_meta = NewTempPath(kTempMeta);
  HYDRANT_RETURN_IF_ERROR(WriteFileSynced(tmp_meta, EncodePart(number, size, md5, mtime, id)));
  auto fail = [&](Status st) {
    ::unlink(tmp_meta.c_str());
    return st;
  };
  std::lock_guard lock(up->mu);
  if (up->gone) return fail(NoSuchUploadError());
  std::string dir = UploadDir(up->id);
  // As Publish: the data under a fresh name (an orphan until referenced), then
  // the part's .meta over the previous one (the commit point).
  std::string data = dir + "/" + PartDataName(number, id);
  if (::rename(tmp_data.c_str(), data.c_str()) != 0) {
    return fail(Status::FromErrno("rename " + tmp_data, errno));
  }
  if (Status st = fs::SyncDir(dir); !st.ok()) {
    ::unlink(data.c_str());
    return fail(st);
  }
  if (::rename(tmp_meta.c_str(), (dir + "/" + PartMetaName(number)).c_str()) != 0) {
    Status st = Status::FromErrno("rename " + tmp_meta, errno);
    ::unlink(data.c_str());
    return fail(st);
  }
  Status synced = fs::SyncDir(dir);
  auto [pos, inserted] = up->parts.try_emplace(number);
  std::optional<uint64_t> old_id;
  if (!inserted) old_id = pos->second.data_id;
  pos->second = Upload::Part{size, md5, id, mtime};
  if (old_id && *old_id != id) ::unlink((dir + "/" + PartDataName(number, *old_id)).c_str());
  if (!synced.ok()) return synced;  // in place, but not acknowledged: may not survive a crash
  return PartInfo{number, size, EtagOf(md5, 0), mtime};
}

void ObjectStore::DropUpload(Upload* up) {
  up->gone = true;
  {
    std::lock_guard lock(uploads_mu_);
    uploads_.erase(up->id);
  }
  std::string dir = UploadDir(up->id);
  std::string tmp = NewTempPath(kTempGoneUpload);
  std::error_code ec;
  if (::rename(dir.c_str(), tmp.c_str()) == 0) {
    // Gone for good once this rename is durable; leftovers in .tmp go at Open.
    if (Status st = fs::SyncDir(root_ + "/" + kUploadsDir); !st.ok()) {
      spdlog::warn("object store: {}", st.ToString());
    }
    std::filesystem::remove_all(tmp, ec);
  } else {
    std::filesystem::remove_all(dir, ec);
  }
}

namespace {
std::string_view Unquote(std::string_view etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    etag = etag.substr(1, etag.size() - 2);
  }
  return etag;
}

}  // namespace

Result<ObjectInfo> ObjectStore::CompleteMultipartUpload(std::string_view bucket,
                                                        std::string_view key,
                                                        std::string_view upload_id,
                                                        const std::vector<CompletedPart>& parts) {
  auto found = FindUpload(bucket, key, upload_id);
  if (!found.ok()) return found.status();
  std::shared_ptr<Upload> up = std::move(found).value();
  // Held throughout: a part uploaded again meanwhile waits, then finds the upload gone.
  std::lock_guard lock(up->mu);
  if (up->gone) return NoSuchUploadError();
  if (parts.empty()) {
    return CodedError(StatusCode::kInvalidArgument, kMalformedXml,
                      "The XML you provided was not well-formed or did not validate against our "
                      "published schema");
  }
  for (size_t i = 1; i < parts.size(); ++i) {
    if (parts[i].part_number <= parts[i - 1].part_number) {
      return CodedError(StatusCode::kInvalidArgument, kInvalidPartOrder,
                        "The list of parts was not in ascending order. The parts list must be "
                        "specified in order by part number.");
    }
  }
  std::vector<const Upload::Part*> chosen;
  for (const CompletedPart& p : parts) {
    auto it = up->parts.find(p.part_number);
    if (it == up->parts.end() || !EqualsIgnoreCase(Unquote(p.etag), HexOf(it->second.md5))) {
      return CodedError(StatusCode::kInvalidArgument, kInvalidPart,
                        "One or more of the specified parts could not be found. The part may not "
                        "have been uploaded, or the specified entity tag may not match the "
                        "part's entity tag. (part " +
                            std::to_string(p.part_number) + ")");
    }
    chosen.push_back(&it->second);
  }
  for (size_t i = 0; i + 1 < chosen.size(); ++i) {
    if (chosen[i]->size < kMinPartSize) {
      return CodedError(StatusCode::kInvalidArgument, kEntityTooSmall,
                        "Your proposed upload is smaller than the minimum allowed size (part " +
                            std::to_string(parts[i].part_number) + " has " +
                            std::to_string(chosen[i]->size) + " bytes; every part but the last " +
                            "needs " + std::to_string(kMinPartSize) + ")");
    }
  }
  // Concatenate file to file into a temp file, then publish it as a put is.
  std::string tmp = NewTempPath(kTempData);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Status::FromErrno("create " + tmp, errno);
  std::string dir = UploadDir(up->id);
  uint64_t total = 0;
  std::vector<uint64_t> sizes;
  std::string md5s;
  Status st;
  for (size_t i = 0; i < chosen.size() && st.ok(); ++i) {
    std::string src = dir + "/" + PartDataName(parts[i].part_number, chosen[i]->data_id);
    st = AppendFile(fd, src, chosen[i]->size, tmp);
    total += chosen[i]->size;
    sizes.push_back(chosen[i]->size);
    md5s += chosen[i]->md5;
  }
  if (st.ok() && ::fsync(fd) != 0) st = Status::FromErrno("fsync " + tmp, errno);
  ::close(fd);
  if (!st.ok()) {
    ::unlink(tmp.c_str());
    if (up->gone) return NoSuchUploadError();  // its bucket was deleted meanwhile
    return st;
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(md5s.data(), md5s.size(), md, &len, EVP_md5(), nullptr);
  auto info = Publish(std::string(bucket), std::string(key), tmp, total,
                      std::string(reinterpret_cast<char*>(md), len), up->meta, std::move(sizes));
  if (!info.ok()) {
    ::unlink(tmp.c_str());
    return info;
  }
  // A crash before this leaves the upload beside its object (see docs).
  DropUpload(up.get());
  return info;
}

Status ObjectStore::AbortMultipartUpload(std::string_view bucket, std::string_view key,
                                         std::string_view upload_id) {
  auto found = FindUpload(bucket, key, upload_id);
  if (!found.ok()) return found.status();
  std::lock_guard lock((*found)->mu);
  if ((*found)->gone) return NoSuchUploadError();
  DropUpload(found->get());
  return Status::Ok();
}

Result<ListPartsResult> ObjectStore::ListParts(std::string_view bucket, std::string_view key,
                                               std::string_view upload_id,
                                               const ListPartsRequest& req) const {
  auto found = FindUpload(bucket, key, upload_id);
  if (!found.ok()) return found.status();
  const Upload& up = **found;
  std::lock_guard lock((*found)->mu);
  if (up.gone) return NoSuchUploadError();
  ListPartsResult out;
  out.upload = UploadInfo{up.id, up.key, up.initiated_ms, up.meta};
  for (auto it = up.parts.upper_bound(req.part_number_marker); it != up.parts.end(); ++it) {
    if (static_cast<int>(out.parts.size()) >= req.max_parts) {
      out.truncated = true;
      break;
    }
    out.parts.push_back(
        PartInfo{it->first, it->second.size, EtagOf(it->second.md5, 0), it->second.mtime_ms});
  }
  if (out.truncated && !out.parts.empty())
    out.next_part_number_marker = out.parts.back().part_number;
  return out;
}

Result<ListUploadsResult> ObjectStore::ListMultipartUploads(std::string_view bucket,
                                                            const ListUploadsRequest& req) const {
  if (!BucketExists(bucket)) return Status::NotFound("The specified bucket does not exist");
  // The uploads in progress are few: gather and sort them per call.
  std::vector<std::shared_ptr<Upload>> all;
  {
    std::lock_guard lock(uploads_mu_);
    for (const auto& [id, up] : uploads_) {
      if (up->bucket == bucket && StartsWith(up->key, req.prefix)) all.push_back(up);
    }
  }
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
    return a->key != b->key ? a->key < b->key : a->id < b->id;
  });
  ListUploadsResult out;
  if (req.max_uploads <= 0) return out;
  int count = 0;
  for (size_t i = 0; i < all.size();) {
    const Upload& up = *all[i];
    if (!req.key_marker.empty()) {
      bool after =
          up.key > req.key_marker || (up.key == req.key_marker && !req.upload_id_marker.empty() &&
                                      up.id > req.upload_id_marker);
      if (!after) {
        ++i;
        continue;
      }
    }
    if (!req.delimiter.empty()) {
      size_t d = up.key.find(req.delimiter, req.prefix.size());
      if (d != std::string::npos) {
        std::string cp = up.key.substr(0, d + req.delimiter.size());
        size_t next = i;
        while (next < all.size() && StartsWith(all[next]->key, cp)) ++next;
        if (!req.key_marker.empty() && cp <= req.key_marker) {  // on an earlier page
          i = next;
          continue;
        }
        if (count == req.max_uploads) {
          out.truncated = true;
          break;
        }
        out.common_prefixes.push_back(cp);
        out.next_key_marker = cp;
        out.next_upload_id_marker.clear();
        ++count;
        i = next;
        continue;
      }
    }
    if (count == req.max_uploads) {
      out.truncated = true;
      break;
    }
    out.uploads.push_back(UploadInfo{up.id, up.key, up.initiated_ms, up.meta});
    out.next_key_marker = up.key;
    out.next_upload_id_marker = up.id;
    ++count;
    ++i;
  }
  if (!out.truncated) {
    out.next_key_marker.clear();
    out.next_upload_id_marker.clear();
  }
  return out;
}

}  // namespace hydrant::store
