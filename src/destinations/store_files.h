#pragma once
// File helpers of the embedded object store (destinations/object_store.h) beyond
// common/file_util.h: new synced files, small metadata files, and the file-to-file
// copy that concatenates multipart parts. Errors name the path.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace hydrant::store {

// Writes `data` to `path` (a new file) and fsyncs it.
Status WriteFileSynced(const std::string& path, std::string_view data);
// The content of a small file (at most a little over 1 MiB is read), or nullopt
// when it cannot be read.
std::optional<std::string> ReadSmallFile(const std::string& path);
// Appends `size` bytes of the file `src` to `out_fd`: copy_file_range (the kernel
// copies, nothing passes through user space), else read/write in 1 MiB chunks.
Status AppendFile(int out_fd, const std::string& src, uint64_t size, const std::string& out_path);

}  // namespace hydrant::store
