#include "api/errors.h"

#include <boost/json.hpp>

namespace hydrant::api {

int ApiError::http_status() const {
  // Server faults (AWS's "fault": true shapes and the generic internal error) are
  // 500, so SDKs retry them; every modelled client exception is 400.
  if (type == "ServiceUnavailableException" || type == "InternalFailure" ||
      type == "InternalServerError") {
    return 500;
  }
  return 400;
}

std::string ApiError::ToJson() const {
  boost::json::object o;
  o["__type"] = type;
  o["message"] = message;
  if (!code.empty()) o["code"] = code;
  return boost::json::serialize(o);
}

}  // namespace hydrant::api
