#include "stream/definition_store.h"

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
}  // namespace

std::string FileDefinitionStore::StreamDir(std::string_view name) const {
  std::string dir = root_ + "/";
  dir += kDirPrefix;
  dir += name;
  return dir;
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

Result<std::vector<StreamMeta>> FileDefinitionStore::LoadAll() {
  HYDRANT_RETURN_IF_ERROR(fs::MakeDirs(root_));
  auto dirs = ListStreamDirs();
  if (!dirs.ok()) return dirs.status();
  std::vector<StreamMeta> out;
  for (const auto& dir : *dirs) {
    auto text = fs::ReadFile(dir + std::string(kDefinitionFile));
    if (!text.ok()) continue;  // no definition: an interrupted deletion
    boost::system::error_code ec;
    json::value v = json::parse(*text, ec);
    if (ec || !v.is_object()) return Status::Corruption(dir + "/stream.json is not valid JSON");
    auto meta = StreamMeta::FromJson(v.as_object());
    if (!meta.ok()) return meta.status();
    out.push_back(std::move(meta).value());
  }
  return out;
}

Status FileDefinitionStore::Save(const StreamMeta& meta) {
  const std::string dir = StreamDir(meta.name);
  return fs::WriteFileAtomic(dir + std::string(kDefinitionFile), json::serialize(meta.ToJson()));
}

Status FileDefinitionStore::Remove(std::string_view name) {
  const std::string dir = StreamDir(name);
  const std::string path = dir + std::string(kDefinitionFile);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return Status::FromErrno("unlink " + path, errno);
  }
  (void)fs::SyncDir(dir);
  return Status::Ok();
}

}  // namespace hydrant::stream
