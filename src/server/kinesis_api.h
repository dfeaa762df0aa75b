#pragma once
// KinesisApi: the Kinesis Data Streams API on POST / with
// X-Amz-Target: Kinesis_20131202.<Operation>, in JSON 1.1 (docs/kinesis.md lists
// the operations, their limits and the choices made where AWS is silent). Streams
// live in kinesis::KinesisRegistry; records are durable in their shard's log
// before PutRecord / PutRecords answer.
//
// PutRecord and PutRecords run on the caller's (I/O) thread and answer from the
// group committer's; everything else reads or writes files and belongs on a
// worker (RunsInline says which). Thread-safe.

#include <optional>
#include <string_view>

#include "api/errors.h"
#include "server/http_types.h"

namespace hydrant::kinesis {
class KinesisRegistry;
}

namespace hydrant::server {

class Authorizer;

class KinesisApi {
 public:
  // `authz` (optional, outlives this object) authorizes signed requests:
  // kinesis:<Operation> on the stream's ARN.
  KinesisApi(kinesis::KinesisRegistry* registry, const Authorizer* authz);

  static bool IsKinesisRequest(const http::Request& req);
  // PutRecord and PutRecords: answered without blocking the caller's thread.
  static bool RunsInline(const http::Request& req);
  void Handle(http::Request&& req, http::Respond respond);

 private:
  kinesis::KinesisRegistry* registry_;
  const Authorizer* authz_;
};

}  // namespace hydrant::server
