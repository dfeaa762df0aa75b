#pragma once
// Small POSIX file helpers with durable semantics.

#include <string>
#include <string_view>

#include "common/status.h"

namespace hydrant::fs {

// Writes `data` to `path` atomically and durably: temp file, fdatasync, rename,
// fsync of the directory. Readers see the old or the new content, never a mix.
Status WriteFileAtomic(const std::string& path, std::string_view data);
Result<std::string> ReadFile(const std::string& path);
bool Exists(const std::string& path);
Status MakeDirs(const std::string& path);  // mkdir -p
Status RemoveAll(const std::string& path); // rm -rf; OK if absent
Status SyncDir(const std::string& dir);

}  // namespace hydrant::fs
