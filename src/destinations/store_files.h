#pragma once
// Small POSIX file helpers of the embedded object store (destinations/object_store.h):
// whole writes, fsync of a folder, small metadata files, folder listings, and the
// file-to-file copy that concatenates multipart parts. Errors name the path.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace hydrant::store {

// Writes all of `data` to `fd` (retrying short writes and EINTR); `what` names
// the file in the error.
Status WriteAll(int fd, std::string_view data, const std::string& what);
// fsync of the folder `path` (makes renames and unlinks in it durable).
Status FsyncPath(const std::string& path);
// Writes `data` to `path` (a new file) and fsyncs it.
Status WriteFileSynced(const std::string& path, std::string_view data);
// The content of a small file (at most a little over 1 MiB is read), or nullopt
// when it cannot be read.
std::optional<std::string> ReadSmallFile(const std::string& path);
// Lists the names in a directory (without "." and "..").
std::vector<std::string> ListDir(const std::string& path);
bool IsDir(const std::string& path);
// Appends `size` bytes of the file `src` to `out_fd`: copy_file_range (the kernel
// copies, nothing passes through user space), else read/write in 1 MiB chunks.
Status AppendFile(int out_fd, const std::string& src, uint64_t size, const std::string& out_path);

}  // namespace hydrant::store
