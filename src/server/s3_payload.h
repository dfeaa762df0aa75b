#pragma once
// What an upload (PutObject, UploadPart) carries: its bytes, streamed from the
// request (Request::body_reader, or the in-memory body) into the store's
// writer, aws-chunked decoded and checked against Content-MD5 and every
// x-amz-checksum-* as they pass; and the object metadata its headers set (also
// for CopyObject with REPLACE and CreateMultipartUpload). Memory stays bounded
// (one read buffer) whatever the upload's size.

#include <string>
#include <utility>
#include <vector>

#include "common/byte_sink.h"
#include "destinations/object_store.h"
#include "server/http_types.h"
#include "server/s3_context.h"

namespace hydrant::server::s3 {

// Streams the upload's bytes into `sink`, checking the framing, the decoded
// length and the digests. On success *checksums holds the checksums that held
// (from headers, and from trailers of aws-chunked bodies) and the caller
// commits the writer; false after an error reply (a broken or cut body, a digest
// that does not hold, a failed write), and the caller must drop the writer
// uncommitted, so that nothing becomes visible.
bool StreamPayload(Context& c, ByteSink* sink,
                   std::vector<std::pair<std::string, std::string>>* checksums);

// Content-Type (S3's default when none), Content-Encoding without aws-chunked,
// and the x-amz-meta-* headers (names lower-cased).
store::ObjectMeta MetaFromRequest(const http::Request& req);

}  // namespace hydrant::server::s3
