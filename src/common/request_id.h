#pragma once
// Request ids, as AWS services write them: a version 4 UUID (Firehose, CloudWatch
// Logs, Lambda: x-amzn-RequestId) or 16 upper-case hex digits (S3:
// x-amz-request-id). Random, never repeated within a process in practice.

#include <string>

namespace hydrant {

// "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx", y one of 8, 9, a, b.
std::string NewUuid();
// "0123456789ABCDEF": distinct for every call of the process.
std::string NewHexRequestId();

}  // namespace hydrant
