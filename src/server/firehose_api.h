#pragma once
// FirehoseApi: the Firehose JSON 1.1 protocol on POST / with
// X-Amz-Target: Firehose_20150804.<Operation>. It parses and validates requests,
// dispatches control-plane operations by name to stream::ControlPlane and puts to
// sources::DirectPut, and writes the answers. PutRecord and PutRecordBatch are
// parsed with simdjson and answered once their records are durable.

#include <optional>
#include <string_view>

#include "api/errors.h"
#include "server/http_types.h"
#include "sources/direct_put.h"
#include "stream/control_plane.h"

namespace hydrant::stream {
class StreamRegistry;
}

namespace hydrant::server {

class Authorizer;

class FirehoseApi {
 public:
  // `authz` (optional, outlives this object) authorizes signed requests:
  // firehose:<Operation> on the stream's ARN, before the stream is looked up.
  explicit FirehoseApi(stream::StreamRegistry* registry, const Authorizer* authz = nullptr);

  static bool IsFirehoseRequest(const http::Request& req);
  void Handle(http::Request&& req, http::Respond respond);

 private:
  void PutRecords(std::string_view op, http::Request&& req, http::Respond respond);
  // AccessDeniedException when the signed caller may not run `op` on the stream.
  std::optional<api::ApiError> Denied(const http::Request& req, std::string_view op,
                                      std::string_view stream_name) const;

  stream::StreamRegistry* registry_;
  const Authorizer* authz_;
  stream::ControlPlane control_;
  sources::DirectPut direct_put_;
};

}  // namespace hydrant::server
