#pragma once
// AWS JSON-protocol errors: {"__type": "...", "message": "..."} with an HTTP status.

#include <string>
#include <utility>
#include <variant>

namespace hydrant::api {

struct ApiError {
  ApiError() = default;
  ApiError(std::string t, std::string m, std::string c = {})
      : type(std::move(t)), message(std::move(m)), code(std::move(c)) {}

  std::string type;     // e.g. "ValidationException", "InvalidArgumentException"
  std::string message;  // says what is wrong
  // InvalidKMSResourceException and InvalidSourceException also carry a `code`
  // (the KMS error behind it); "" = none.
  std::string code;

  // 400 for client errors; 500 for ServiceUnavailableException / InternalFailure.
  int http_status() const;
  // The response body: {"__type":TYPE,"message":MESSAGE} (and "code" when set).
  std::string ToJson() const;
};

inline ApiError Validation(std::string m) { return {"ValidationException", std::move(m)}; }
inline ApiError InvalidArgument(std::string m) { return {"InvalidArgumentException", std::move(m)}; }
inline ApiError NotFound(std::string m) { return {"ResourceNotFoundException", std::move(m)}; }
inline ApiError InUse(std::string m) { return {"ResourceInUseException", std::move(m)}; }
inline ApiError LimitExceeded(std::string m) { return {"LimitExceededException", std::move(m)}; }
inline ApiError ConcurrentModification(std::string m) {
  return {"ConcurrentModificationException", std::move(m)};
}
inline ApiError ServiceUnavailable(std::string m) {
  return {"ServiceUnavailableException", std::move(m)};
}
inline ApiError SerializationError(std::string m) { return {"SerializationException", std::move(m)}; }

// A value or the API error to answer with.
template <typename T>
using ApiResult = std::variant<T, ApiError>;

}  // namespace hydrant::api
