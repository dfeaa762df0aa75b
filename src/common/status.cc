#include "common/status.h"

#include <cerrno>
#include <cstring>

namespace hydrant {

Status Status::FromErrno(std::string_view what, int err) {
  std::string m(what);
  m += ": ";
  m += std::strerror(err);
  Status st(StatusCode::kIoError, std::move(m));
  if (err == ENOSPC || err == EDQUOT) return std::move(st).WithErrorCode(kDiskFullErrorCode);
  return st;
}

std::string Status::ToString() const {
  static constexpr const char* kNames[] = {"OK",        "InvalidArgument",   "NotFound",
                                           "AlreadyExists", "IoError",     "Corruption",
                                           "ResourceExhausted", "Unavailable", "Internal"};
  std::string s = kNames[static_cast<int>(code_)];
  if (!error_code_.empty()) {
    s += ": ";
    s += error_code_;
  }
  if (!message_.empty()) {
    s += ": ";
    s += message_;
  }
  return s;
}

}  // namespace hydrant
