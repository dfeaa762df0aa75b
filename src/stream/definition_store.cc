#include "stream/definition_store.h"

#include <stdio.h>
#include <unistd.h>

#include <cerrno>

#include <boost/json.hpp>

#include "common/file_util.h"

namespace hydrant::stream {

namespace json = boost::json;

namespace {
// Stream names are [a-zA-Z0-9_.-]{1,64}; the "s-" prefix keeps "." and ".." safe.
constexpr std::string_view kDirPrefix = "s-";
constexpr std::string_view kDefinitionFile = "/stream.json";
constexpr std::string_view kCopyFile = "/stream.json.bak";
constexpr std::string_view kDamagedFile = "/stream.json.damaged";
constexpr std::string_view kDeletingMarker = "/DELETING";
// A definition is a few KiB; a larger file is not one.
constexpr size_t kMaxDefinitionBytes = 16 << 20;

// The definition in `path`: NotFound when absent, Corruption with the reason else.
Result<StreamMeta> ReadDefinition(const std::string& path, std::string_view name) {
  auto text = fs::ReadFile(path, kMaxDefinitionBytes);
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound) return Status::NotFound(path + " is missing");
    return Status::Corruption(path + ": " + text.status().message());
  }
  if (text->empty()) return Status::Corruption(path + " is empty");
  boost::system::error_code ec;
  json::value v = json::parse(*text, ec);
  if (ec || !v.is_object()) return Status::Corruption(path + " is not valid JSON");
  auto meta = StreamMeta::FromJson(v.as_object());
  if (!meta.ok()) return Status::Corruption(path + ": " + meta.status().message());
  if (meta->name != name) {
    return Status::Corruption(path + " names stream \"" + meta->name + "\", its folder \"" +
                              std::string(name) + "\"");
  }
  return meta;
}
}  // namespace

std::string FileDefinitionStore::StreamDir(std::string_view name) const {
  std::string dir = root_ + "/";
  dir += kDirPrefix;
  dir += name;
  return dir;
}

std::string FileDefinitionStore::NameOfDir(std::string_view dir) {
  size_t slash = dir.rfind('/');
  std::string_view base = slash == std::string_view::npos ? dir : dir.substr(slash + 1);
  if (base.starts_with(kDirPrefix)) base.remove_prefix(kDirPrefix.size());
  return std::string(base);
}

Result<std::vector<std::string>> FileDefinitionStore::ListStreamDirs() const {
  auto names = fs::ReadDir(root_);
  if (!names.ok()) return names.status();
  std::vector<std::string> dirs;
  for (const std::string& n : *names) {
    if (std::string_view(n).starts_with(kDirPrefix)) dirs.push_back(root_ + "/" + n);
  }
  return dirs;
}

Result<LoadedDefinitions> FileDefinitionStore::LoadAll() {
  HYDRANT_RETURN_IF_ERROR(fs::MakeDirs(root_));
  auto dirs = ListStreamDirs();
  if (!dirs.ok()) return dirs.status();
  LoadedDefinitions out;
  for (const auto& dir : *dirs) {
    std::string name = NameOfDir(dir);
    std::string restored;
    auto meta = Load(name, &restored);
    if (!restored.empty()) out.restored.push_back({name, std::move(restored)});
    if (meta.ok()) {
      out.streams.push_back(std::move(meta).value());
    } else if (meta.status().code() == StatusCode::kNotFound) {
      out.deleting.push_back(std::move(name));
    } else {
      out.damaged.push_back({std::move(name), meta.status().message()});
    }
  }
  return out;
}

Result<StreamMeta> FileDefinitionStore::Load(std::string_view name, std::string* restored) {
  const std::string dir = StreamDir(name);
  if (fs::Exists(dir + std::string(kDeletingMarker)) || !fs::IsDir(dir)) {
    return Status::NotFound("stream " + std::string(name) + " is deleted");
  }
  const std::string path = dir + std::string(kDefinitionFile);
  auto meta = ReadDefinition(path, name);
  if (meta.ok()) return meta;
  const std::string copy_path = dir + std::string(kCopyFile);
  auto copy = ReadDefinition(copy_path, name);
  if (!copy.ok()) {
    // Without a marker a missing definition is not a deletion (older versions
    // wrote none, but neither a copy): the data is kept and reported.
    return Status::Corruption(meta.status().message() + "; " + copy.status().message());
  }
  // Rebuild from the copy; a damaged original is kept beside it for inspection.
  if (meta.status().code() != StatusCode::kNotFound) {
    const std::string kept = dir + std::string(kDamagedFile);
    if (::rename(path.c_str(), kept.c_str()) != 0) {
      return Status::Corruption(meta.status().message() + "; cannot set it aside: " +
                                Status::FromErrno("rename", errno).message());
    }
  }
  Status st = fs::WriteFileAtomic(path, json::serialize(copy->ToJson()));
  if (!st.ok()) return Status::Corruption(meta.status().message() + "; " + st.message());
  if (restored) {
    *restored = meta.status().message() + "; rebuilt from " + copy_path + " (version " +
                std::to_string(copy->version_id) + ")";
  }
  return copy;
}

Status FileDefinitionStore::Save(const StreamMeta& meta) {
  const std::string dir = StreamDir(meta.name);
  if (fs::Exists(dir + std::string(kDeletingMarker))) {
    return Status::NotFound("stream " + meta.name + " is being deleted");
  }
  const std::string text = json::serialize(meta.ToJson());
  HYDRANT_RETURN_IF_ERROR(fs::WriteFileAtomic(dir + std::string(kDefinitionFile), text));
  // The copy second: a crash in between leaves the new definition and the old
  // copy, and only a lost definition makes the copy count.
  return fs::WriteFileAtomic(dir + std::string(kCopyFile), text);
}

Status FileDefinitionStore::Remove(std::string_view name) {
  const std::string dir = StreamDir(name);
  if (!fs::IsDir(dir)) return Status::Ok();
  // The marker first, durably: from here on the folder is a deletion to finish.
  HYDRANT_RETURN_IF_ERROR(fs::WriteFileAtomic(dir + std::string(kDeletingMarker), ""));
  for (std::string_view file : {kDefinitionFile, kCopyFile}) {
    const std::string path = dir + std::string(file);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      return Status::FromErrno("unlink " + path, errno);
    }
  }
  (void)fs::SyncDir(dir);  // the marker is durable already; this only tidies
  return Status::Ok();
}

}  // namespace hydrant::stream
