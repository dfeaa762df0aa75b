#pragma once
// Small POSIX file helpers, one copy for every module: whole writes, durable
// replacement, reads of small files, folder listings. Errors name the path.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace hydrant::fs {

// Writes `data` to `path` atomically and durably: temp file, fdatasync, rename,
// fsync of the directory. Readers see the old or the new content, never a mix.
// The file gets `mode` (0600 for files holding secrets).
Status WriteFileAtomic(const std::string& path, std::string_view data, unsigned mode = 0644);
// The file's content; NotFound when it does not exist. Reading stops once more
// than `max_bytes` were read (metadata readers refuse runaway files that way).
Result<std::string> ReadFile(const std::string& path, size_t max_bytes = static_cast<size_t>(-1));
// Writes all of `data` to `fd` (retrying short writes and EINTR); `what` names
// the file in the error.
Status WriteAll(int fd, std::string_view data, const std::string& what);
// The names in a folder, without "." and ".."; empty when it cannot be read.
std::vector<std::string> ListDir(const std::string& path);
// The same, or the error when the folder cannot be read.
Result<std::vector<std::string>> ReadDir(const std::string& path);
bool Exists(const std::string& path);
bool IsDir(const std::string& path);
Status MakeDirs(const std::string& path);  // mkdir -p
Status RemoveAll(const std::string& path); // rm -rf; OK if absent
// fsync of a folder: makes the creations, renames and unlinks in it durable.
Status SyncDir(const std::string& dir);

}  // namespace hydrant::fs
