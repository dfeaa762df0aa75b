#pragma once
// FirehoseApi: the Firehose JSON 1.1 protocol on POST / with
// X-Amz-Target: Firehose_20150804.<Operation>. It parses and validates requests,
// dispatches control-plane operations by name to stream::ControlPlane and puts to
// sources::DirectPut, and writes the answers. PutRecord and PutRecordBatch are
// parsed with simdjson and answered once their records are durable.

#include <string_view>

#include "server/http_types.h"
#include "sources/direct_put.h"
#include "stream/control_plane.h"

namespace hydrant::stream {
class StreamRegistry;
}

namespace hydrant::server {

class FirehoseApi {
 public:
  explicit FirehoseApi(stream::StreamRegistry* registry);

  static bool IsFirehoseRequest(const http::Request& req);
  void Handle(http::Request&& req, http::Respond respond);

 private:
  void PutRecords(std::string_view op, http::Request&& req, http::Respond respond);

  stream::StreamRegistry* registry_;
  stream::ControlPlane control_;
  sources::DirectPut direct_put_;
};

}  // namespace hydrant::server
