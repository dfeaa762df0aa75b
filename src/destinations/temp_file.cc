#include "destinations/temp_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "common/file_util.h"
#include "destinations/store_files.h"

namespace hydrant::store {

TempFile::TempFile(Env* env, int fd, std::string path)
    : env_(env), fd_(fd), path_(std::move(path)) {
  buf_.reserve(kWriteBuffer);
}

TempFile::~TempFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!kept_) ::unlink(path_.c_str());
}

Status TempFile::Write(std::string_view bytes) {
  if (done_) return Status::Internal("write after commit");
  if (!error_.ok()) return error_;
  size_ += bytes.size();
  if (buf_.size() + bytes.size() <= kWriteBuffer) {
    buf_.append(bytes);
    return Status::Ok();
  }
  error_ = Flush();
  if (error_.ok()) {
    if (bytes.size() >= kWriteBuffer) {
      error_ = WriteOut(bytes);
    } else {
      buf_.append(bytes);
    }
  }
  return error_;
}

Result<std::string> TempFile::Finish() {
  if (done_) return Status::Internal("commit called twice");
  done_ = true;
  if (!error_.ok()) return error_;
  HYDRANT_RETURN_IF_ERROR(Flush());
  if (env_->Fsync(fd_) != 0) return Status::FromErrno("fsync " + path_, errno);
  ::close(fd_);
  fd_ = -1;
  return md5_.Finish();
}

Status TempFile::Flush() {
  Status st = WriteOut(buf_);
  buf_.clear();
  return st;
}

Status TempFile::WriteOut(std::string_view data) {
  md5_.Add(data);
  while (!data.empty()) {
    const uint64_t room = kWritebackStep - (written_ - synced_);
    const size_t n = static_cast<size_t>(std::min<uint64_t>(room, data.size()));
    const ssize_t w = env_->Pwrite(fd_, data.data(), n, static_cast<off_t>(written_));
    if (w < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno("write " + path_, errno);
    }
    written_ += static_cast<uint64_t>(w);
    data.remove_prefix(static_cast<size_t>(w));
    if (written_ - synced_ >= kWritebackStep) HYDRANT_RETURN_IF_ERROR(WriteBackStep());
  }
  return Status::Ok();
}

Status TempFile::WriteBackStep() {
  const auto start = static_cast<off64_t>(synced_);
  const auto len = static_cast<off64_t>(written_ - synced_);
  synced_ = written_;
  if (!step_writeback_) return Status::Ok();
  bool ok = env_->SyncFileRange(fd_, start, len, SYNC_FILE_RANGE_WRITE) == 0;
  if (ok && start > 0) {
    const auto prev = static_cast<off64_t>(std::min<uint64_t>(kWritebackStep, start));
    ok = env_->SyncFileRange(
             fd_, start - prev, prev,
             SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER) == 0;
  }
  if (ok) return Status::Ok();
  const int err = errno;
  if (err == ENOSYS || err == EINVAL || err == ESPIPE || err == EOPNOTSUPP) {
    step_writeback_ = false;  // unsupported here: write the rest as before
    return Status::Ok();
  }
  // A write-back error: the waiting sync_file_range has consumed it for this file
  // description, so the final fsync would not report it. The object fails here.
  return Status::FromErrno("write back " + path_, err);
}

}  // namespace hydrant::store
