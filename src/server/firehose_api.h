#pragma once
// FirehoseApi: the Firehose JSON 1.1 protocol on POST / with
// X-Amz-Target: Firehose_20150804.<Operation>. Control-plane operations use
// Boost.JSON; PutRecord and PutRecordBatch are parsed with simdjson and answered
// once their records are durable.

#include <string>
#include <string_view>

#include "server/http_types.h"
#include "stream/registry.h"

namespace hydrant::server {

class FirehoseApi {
 public:
  explicit FirehoseApi(stream::StreamRegistry* registry);

  static bool IsFirehoseRequest(const http::Request& req);
  void Handle(http::Request&& req, http::Respond respond);

 private:
  void PutRecords(std::string_view op, http::Request&& req, http::Respond respond);
  std::string RequestId();

  stream::StreamRegistry* registry_;
};

}  // namespace hydrant::server
