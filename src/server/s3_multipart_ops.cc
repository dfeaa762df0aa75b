// The multipart uploads of the S3 API: CreateMultipartUpload, UploadPart,
// CompleteMultipartUpload, AbortMultipartUpload, ListParts and
// ListMultipartUploads (see s3_handlers.h). The uploads themselves live in the
// ObjectStore, whose failures carry S3's error codes.
#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "destinations/object_store.h"
#include "server/s3_handlers.h"
#include "server/s3_payload.h"
#include "server/s3_sse.h"
#include "server/s3_strings.h"
#include "server/xml_reader.h"

namespace hydrant::server::s3 {
namespace {

// Store failures of the multipart calls, which carry S3's codes (SplitErrorCode).
void MultipartError(Context& c, const Status& st) {
  auto [code, text] = store::SplitErrorCode(st);
  if (code == store::kNoSuchUpload) {
    return Error(c, 404, code, text, {{"UploadId", c.query.Get("uploadId")}});
  }
  if (!code.empty()) return Error(c, 400, code, text);
  StoreError(c, st);
}

}  // namespace

void CreateMultipartUpload(Context& c, store::ObjectStore* store) {
  if (!ValidKeyOrError(c)) return;
  if (!store->BucketExists(c.bucket)) return NoSuchBucket(c);
  // An encrypted upload's data key is made now; every part is encrypted with it
  // (a segment each, server/sse_format.h).
  store::ObjectMeta meta = MetaFromRequest(c.req);
  std::optional<sse::NewDataKey> key;
  if (!EncryptNewObject(c, store, &meta, &key)) return;
  auto up = store->CreateMultipartUpload(c.bucket, c.key, meta);
  if (!up.ok()) return MultipartError(c, up.status());
  if (key) SseHeaders(c, key->record);
  XmlWriter w = StartXmlReply("InitiateMultipartUploadResult");
  w.Element("Bucket", c.bucket);
  w.Element("Key", c.key);
  w.Element("UploadId", up->upload_id);
  w.Close();
  ReplyXml(c, w);
}

void UploadPart(Context& c, store::ObjectStore* store) {
  if (!ValidKeyOrError(c)) return;
  if (!store->BucketExists(c.bucket)) return NoSuchBucket(c);
  auto n = PartNumberParam(c);
  if (!n) return;
  // Streamed into the part's temp file; dropped uncommitted when the body breaks
  // off or a digest does not hold.
  auto writer = store->BeginUploadPart(c.bucket, c.key, c.query.Get("uploadId"), *n);
  if (!writer.ok()) return MultipartError(c, writer.status());
  // The part of an encrypted upload is encrypted with the upload's data key.
  store::ListPartsRequest one;
  one.max_parts = 1;
  auto upload = store->ListParts(c.bucket, c.key, c.query.Get("uploadId"), one);
  if (!upload.ok()) return MultipartError(c, upload.status());
  std::optional<sse::Record> record;
  if (!StoredRecord(c, upload->upload.meta.encryption, &record)) return;
  ByteSink* sink = writer->get();
  std::optional<sse::ChunkEncryptor> encryptor;
  if (record) {
    std::string data_key;
    if (!ObjectDataKey(c, *record, c.key, &data_key)) return;
    sink = &encryptor.emplace(std::move(data_key), sink);
  }
  std::vector<std::pair<std::string, std::string>> checksums;
  if (!StreamPayload(c, sink, &checksums)) return;
  if (encryptor) {
    if (Status st = encryptor->Finish(); !st.ok()) return MultipartError(c, st);
  }
  auto part = (*writer)->Commit();
  if (!part.ok()) return MultipartError(c, part.status());
  c.resp->status = 200;
  c.resp->SetHeader("ETag", part->etag);
  if (record) SseHeaders(c, *record);
  for (const auto& [name, value] : checksums) c.resp->SetHeader(name, value);
}

void CompleteMultipartUpload(Context& c, store::ObjectStore* store) {
  if (!ValidKeyOrError(c)) return;
  if (!store->BucketExists(c.bucket)) return NoSuchBucket(c);
  auto roots = XmlElements(c.req.body, "CompleteMultipartUpload");
  if (roots.size() != 1) return MalformedXml(c);
  auto items = XmlElements(roots[0], "Part");
  if (items.empty() || items.size() > static_cast<size_t>(store::kMaxPartNumber)) {
    return MalformedXml(c);
  }
  std::vector<store::CompletedPart> parts;
  parts.reserve(items.size());
  for (auto item : items) {
    auto num = XmlElements(item, "PartNumber");
    auto etag = XmlElements(item, "ETag");
    if (num.size() != 1 || etag.size() != 1) return MalformedXml(c);
    auto n = ParseCount(TrimSpaces(num[0]));
    auto e = XmlUnescape(TrimSpaces(etag[0]));
    if (!n || !e) return MalformedXml(c);
    parts.push_back({*n, std::move(*e)});
  }
  auto info = store->CompleteMultipartUpload(c.bucket, c.key, c.query.Get("uploadId"), parts);
  if (!info.ok()) return MultipartError(c, info.status());
  if (auto record = sse::DecodeRecord(info->meta.encryption)) SseHeaders(c, *record);
  std::string host(TrimSpaces(c.req.Header("Host")));
  XmlWriter w = StartXmlReply("CompleteMultipartUploadResult");
  w.Element("Location", (host.empty() ? "" : "http://" + host) + "/" + c.bucket + "/" +
                            http::PercentEncode(c.key, /*keep_slash=*/true));
  w.Element("Bucket", c.bucket);
  w.Element("Key", c.key);
  w.Element("ETag", info->etag);
  w.Close();
  ReplyXml(c, w);
}

void AbortMultipartUpload(Context& c, store::ObjectStore* store) {
  if (!ValidKeyOrError(c)) return;
  Status st = store->AbortMultipartUpload(c.bucket, c.key, c.query.Get("uploadId"));
  if (!st.ok()) return MultipartError(c, st);
  c.resp->status = 204;
}

void ListParts(Context& c, store::ObjectStore* store) {
  if (!ValidKeyOrError(c)) return;
  store::ListPartsRequest lr;
  int max_parts = kMaxKeys;
  if (!CountParam(c, "max-parts", &max_parts)) return;
  lr.max_parts = std::min(max_parts, kMaxKeys);
  if (!CountParam(c, "part-number-marker", &lr.part_number_marker)) return;
  auto r = store->ListParts(c.bucket, c.key, c.query.Get("uploadId"), lr);
  if (!r.ok()) return MultipartError(c, r.status());
  XmlWriter w = StartXmlReply("ListPartsResult");
  w.Element("Bucket", c.bucket);
  w.Element("Key", c.key);
  w.Element("UploadId", r->upload.upload_id);
  WriteInitiator(w);
  WriteOwner(w);
  w.Element("StorageClass", "STANDARD");
  w.Element("PartNumberMarker", std::to_string(lr.part_number_marker));
  if (r->truncated) w.Element("NextPartNumberMarker", std::to_string(r->next_part_number_marker));
  w.Element("MaxParts", std::to_string(lr.max_parts));
  w.Element("IsTruncated", r->truncated ? "true" : "false");
  for (const auto& p : r->parts) {
    w.Open("Part");
    w.Element("PartNumber", std::to_string(p.part_number));
    w.Element("LastModified", Iso8601(p.last_modified_ms));
    w.Element("ETag", p.etag);
    // A part of an encrypted upload lists its plaintext size (server/sse_format.h).
    uint64_t size = p.size;
    if (!r->upload.meta.encryption.empty()) size = sse::PlainSize(p.size).value_or(p.size);
    w.Element("Size", std::to_string(size));
    w.Close();
  }
  w.Close();
  ReplyXml(c, w);
}

void ListMultipartUploads(Context& c, store::ObjectStore* store) {
  store::ListUploadsRequest lr;
  lr.prefix = c.query.Get("prefix");
  lr.delimiter = c.query.Get("delimiter");
  lr.key_marker = c.query.Get("key-marker");
  // S3 ignores upload-id-marker without key-marker.
  if (!lr.key_marker.empty()) lr.upload_id_marker = c.query.Get("upload-id-marker");
  int max_uploads = kMaxKeys;
  if (!CountParam(c, "max-uploads", &max_uploads)) return;
  lr.max_uploads = std::min(max_uploads, kMaxKeys);
  bool url;
  if (!EncodingTypeParam(c, &url)) return;
  auto r = store->ListMultipartUploads(c.bucket, lr);
  if (!r.ok()) return MultipartError(c, r.status());
  XmlWriter w = StartXmlReply("ListMultipartUploadsResult");
  w.Element("Bucket", c.bucket);
  w.Element("KeyMarker", MaybeEncode(lr.key_marker, url));
  w.Element("UploadIdMarker", lr.upload_id_marker);
  w.Element("NextKeyMarker", MaybeEncode(r->next_key_marker, url));
  w.Element("NextUploadIdMarker", r->next_upload_id_marker);
  if (!lr.delimiter.empty()) w.Element("Delimiter", MaybeEncode(lr.delimiter, url));
  w.Element("Prefix", MaybeEncode(lr.prefix, url));
  w.Element("MaxUploads", std::to_string(lr.max_uploads));
  w.Element("IsTruncated", r->truncated ? "true" : "false");
  if (url) w.Element("EncodingType", "url");
  for (const auto& u : r->uploads) {
    w.Open("Upload");
    w.Element("Key", MaybeEncode(u.key, url));
    w.Element("UploadId", u.upload_id);
    WriteInitiator(w);
    WriteOwner(w);
    w.Element("StorageClass", "STANDARD");
    w.Element("Initiated", Iso8601(u.initiated_ms));
    w.Close();
  }
  WriteCommonPrefixes(w, r->common_prefixes, url);
  w.Close();
  ReplyXml(c, w);
}

}  // namespace hydrant::server::s3
