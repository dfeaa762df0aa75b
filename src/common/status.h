#pragma once
// Status and Result<T>: hydrant's error values. No exceptions cross module
// boundaries; every fallible call returns one of these and the caller checks it.

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace hydrant {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,   // the caller's input is wrong; retrying will not help
  kNotFound,
  kAlreadyExists,
  kIoError,           // the OS refused a read, write or sync
  kCorruption,        // data on disk failed its checksum or framing
  kResourceExhausted, // a quota or limit was reached (disk quota, sizes)
  kUnavailable,       // a dependency (bucket, endpoint) cannot be reached now; retry later
  kInternal,
};

// [[nodiscard]]: a Status that nobody looks at is a bug; a deliberate
// ignore is written `(void)`, with a comment saying why.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
  static Status IoError(std::string m) { return {StatusCode::kIoError, std::move(m)}; }
  static Status Corruption(std::string m) { return {StatusCode::kCorruption, std::move(m)}; }
  static Status ResourceExhausted(std::string m) {
    return {StatusCode::kResourceExhausted, std::move(m)};
  }
  static Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
  // IoError with strerror(err) appended: "what: No such file or directory". A
  // full disk (ENOSPC, EDQUOT) also carries kDiskFullErrorCode.
  static Status FromErrno(std::string_view what, int err);

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // A finer code in the words of the service the error concerns (Firehose's
  // "S3.AccessDenied", an HTTP client's "HTTP timeout"), carried beside the
  // message rather than inside it; "" = none. It must name a string with static
  // storage duration (the codes are constants of their modules).
  std::string_view error_code() const { return error_code_; }
  Status WithErrorCode(std::string_view static_code) && {
    error_code_ = static_code;
    return std::move(*this);
  }
  // "Code: error_code: message" (the parts that are set).
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  std::string_view error_code_;
};

// The error code of a failure because the file system is full (ENOSPC, or
// EDQUOT: the user's quota). Every layer keeps it, so the edge can answer in its
// protocol's words: Firehose "Slow down.", S3 507 InsufficientStorage.
inline constexpr std::string_view kDiskFullErrorCode = "DiskFull";
inline bool IsDiskFull(const Status& st) { return st.error_code() == kDiskFullErrorCode; }

// Result<T> holds either a value or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}             // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {       // NOLINT
    assert(!std::get<Status>(v_).ok());
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace hydrant

#define HYDRANT_RETURN_IF_ERROR(expr)         \
  do {                                        \
    ::hydrant::Status _st = (expr);           \
    if (!_st.ok()) return _st;                \
  } while (0)
