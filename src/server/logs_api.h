#pragma once
// LogsApi: the subset of the CloudWatch Logs API (JSON 1.1, POST / with
// X-Amz-Target: Logs_20140328.<Operation>) that reads and writes hydrant's LogStore:
// Firehose error logs (/aws/kinesisfirehose/STREAM) and the output of the Lambda
// functions hydrant runs (/aws/lambda/NAME).
//
//   read:  DescribeLogGroups, DescribeLogStreams, GetLogEvents, FilterLogEvents
//   write: CreateLogGroup, CreateLogStream, PutLogEvents, DeleteLogGroup, DeleteLogStream
//
// Shapes follow botocore's logs/2014-03-28 model; errors are AWS's types
// (ResourceNotFoundException, ResourceAlreadyExistsException,
// InvalidParameterException, SerializationException, UnrecognizedClientException for
// other operations) with CloudWatch's messages. Limits and choices: docs/logs.md.
// Handle() reads files: call it off the I/O threads. Thread-safe.

#include <string>

#include "common/account.h"
#include "common/clock.h"
#include "server/http_types.h"

namespace hydrant::logs {
class LogStore;
}

namespace hydrant::server {

class Authorizer;

class LogsApi {
 public:
  // `store` may be null: every call then answers ServiceUnavailableException.
  // `clock` (PutLogEvents' too-old/too-new checks) must outlive this object.
  // `authz` (optional, outlives this object) authorizes signed requests
  // (logs:<Operation> on the log group or stream, server/authorization.h).
  LogsApi(logs::LogStore* store, AccountContext account, const Clock* clock = &SystemClock::Get(),
          const Authorizer* authz = nullptr);

  static bool IsLogsRequest(const http::Request& req);
  http::Response Handle(const http::Request& req);

 private:
  logs::LogStore* store_;
  AccountContext account_;
  const Clock* clock_;
  const Authorizer* authz_;
};

}  // namespace hydrant::server
