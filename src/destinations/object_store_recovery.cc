// The embedded store's work on what an earlier process left (ObjectStore, see
// object_store.h): importing a bucket written before the index (one metadata file
// per object) into the index, and the background sweep that removes data files
// no index row names. docs/object-store.md, "Recovery" and "Stores written before
// the index", says when each runs.

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <optional>
#include <string>
#include <vector>

#include "common/file_util.h"
#include "common/strings.h"
#include "destinations/object_store.h"
#include "destinations/object_store_index.h"
#include "destinations/object_store_internal.h"
#include "destinations/store_files.h"
#include "destinations/store_format.h"

namespace hydrant::store {

using store_format::DecodeMeta;
using store_format::IsDataName;
using store_format::IsObjectMetaName;
using store_format::IsShardName;
using store_format::KeyPaths;
using store_format::ParsedMeta;
using store_format::PathsFor;

namespace {

// The data id in a data file name "<64 hex sha>.<16 hex id>.data", if it is one.
std::optional<uint64_t> DataIdOf(std::string_view name) {
  if (name.size() != 64 + 1 + 16 + 5 || name[64] != '.') return std::nullopt;
  uint64_t id = 0;
  for (char c : name.substr(65, 16)) {
    int v = HexDigitValue(c);
    if (v < 0) return std::nullopt;
    id = (id << 4) | static_cast<uint64_t>(v);
  }
  return id;
}

}  // namespace

Status ObjectStore::ImportLegacyBucket(const std::string& name) {
  std::string dir = BucketDir(name);
  size_t imported = 0, damaged = 0;
  for (const std::string& shard : fs::ListDir(dir)) {
    if (!IsShardName(shard)) continue;
    std::string shard_dir = dir + "/" + shard;
    if (!fs::IsDir(shard_dir)) continue;
    std::vector<IndexedObject> rows;  // one shard at a time: memory stays small
    for (const std::string& f : fs::ListDir(shard_dir)) {
      if (!IsObjectMetaName(f)) continue;
      std::string meta_path = shard_dir + "/" + f;
      auto content = ReadSmallFile(meta_path);
      std::optional<ParsedMeta> pm;
      if (content) pm = DecodeMeta(*content);
      bool ok = pm.has_value();
      if (ok) {
        KeyPaths kp = PathsFor(dir, pm->key);
        struct stat st;
        std::string data = kp.Data(pm->data_id);
        ok = kp.Meta() == meta_path && ::stat(data.c_str(), &st) == 0 &&
             static_cast<uint64_t>(st.st_size) == pm->size;
      }
      if (!ok) {
        // Cannot come from a crash (metadata was fsynced before it was renamed into
        // place, after its data); only from damage. Such an object cannot be served.
        spdlog::warn("object store: not importing unreadable object metadata {}", meta_path);
        ++damaged;
        continue;
      }
      IndexedObject row;
      row.key = std::move(pm->key);
      row.size = pm->size;
      row.md5 = std::move(pm->md5);
      row.mtime_ms = pm->mtime_ms;
      row.data_id = pm->data_id;
      row.meta = std::move(pm->meta);
      row.part_sizes = std::move(pm->part_sizes);
      rows.push_back(std::move(row));
    }
    // Imported again, idempotently, if a crash comes before the bucket is marked.
    HYDRANT_RETURN_IF_ERROR(index_->PutMany(name, rows));
    imported += rows.size();
  }
  HYDRANT_RETURN_IF_ERROR(index_->AddBucket(name));
  if (imported || damaged) {
    spdlog::info("object store: bucket {}: imported {} objects into the index ({} damaged)", name,
                 imported, damaged);
  }
  return Status::Ok();
}

void ObjectStore::Sweep() {
  std::vector<std::string> names;
  {
    std::shared_lock lock(mu_);
    for (const auto& [name, b] : buckets_) names.push_back(name);
  }
  size_t orphans = 0, metas = 0;
  for (const std::string& name : names) {
    std::string dir = BucketDir(name);
    for (const std::string& shard : fs::ListDir(dir)) {
      if (!IsShardName(shard)) continue;
      std::string shard_dir = dir + "/" + shard;
      for (const std::string& f : fs::ListDir(shard_dir)) {
        if (stop_sweep_) return;  // sweep_done_ stays false: the next Open sweeps again
        std::string path = shard_dir + "/" + f;
        if (IsObjectMetaName(f)) {
          // Metadata of a store written before the index: the bucket is indexed now.
          metas += ::unlink(path.c_str()) == 0;
          continue;
        }
        if (!IsDataName(f)) continue;
        std::optional<uint64_t> id = DataIdOf(f);
        if (!id) continue;
        std::shared_lock store_lock(mu_);
        auto it = buckets_.find(name);
        if (it == buckets_.end()) break;  // deleted meanwhile
        // Exclusive: a put holds it from its data file's rename to its row's commit,
        // so an unreferenced file seen here is not one being published.
        std::unique_lock lock(it->second->mu);
        auto referenced = index_->References(name, *id);
        if (!referenced.ok()) {
          spdlog::warn("object store: sweep of bucket {} stopped: {}", name,
                       referenced.status().message());
          return;
        }
        if (!*referenced) orphans += ::unlink(path.c_str()) == 0;
      }
    }
  }
  if (orphans || metas) {
    spdlog::info(
        "object store: removed {} data files no object names (writes cut short) and {} "
        "imported metadata files",
        orphans, metas);
  }
  sweep_done_ = true;
}

}  // namespace hydrant::store
