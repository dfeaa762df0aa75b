#include "stream/object_output.h"

namespace hydrant::stream {

ObjectOutput::ObjectOutput(store::ObjectSink* sink, const api::S3DestinationSpec& cfg,
                           std::string key)
    : sink_(sink), bucket_(cfg.bucket), key_(std::move(key)), compression_(cfg.compression),
      extension_(cfg.extension), role_arn_(cfg.role_arn), kms_key_arn_(cfg.kms_key_arn) {}

Status ObjectOutput::Append(std::string_view data) {
  if (!writer_) {
    store::ObjectMeta om;
    om.content_type = "application/octet-stream";
    om.content_encoding = std::string(codecs::ContentEncoding(compression_));
    om.role_arn = role_arn_;
    om.sse_kms_key_id = kms_key_arn_;
    auto w = sink_->BeginPut(bucket_, key_, om);
    if (!w.ok()) return w.status();
    writer_ = std::move(w).value();
    std::string_view entry = key_;
    if (size_t slash = entry.rfind('/'); slash != std::string_view::npos) entry.remove_prefix(slash + 1);
    if (!extension_.empty() && entry.ends_with(extension_)) entry.remove_suffix(extension_.size());
    encoder_ = codecs::MakeEncoder(compression_, writer_.get(), entry);
  }
  ++records_;
  bytes_ += data.size();
  return encoder_->Append(data);
}

Status ObjectOutput::Commit() {
  if (!writer_) return Status::Ok();
  HYDRANT_RETURN_IF_ERROR(encoder_->Finish());
  auto info = writer_->Commit();
  return info.ok() ? Status::Ok() : info.status();
}

void CountPut(std::atomic<uint64_t>& attempts, std::atomic<uint64_t>& successes, bool ok) {
  if (ok) successes.fetch_add(1, std::memory_order_relaxed);
  attempts.fetch_add(1, std::memory_order_relaxed);
}

naming::ObjectNameInput NameInputFor(const std::string& stream, int64_t version,
                                     const api::S3DestinationSpec& cfg, int64_t oldest_ms) {
  naming::ObjectNameInput ni;
  ni.stream_name = stream;
  ni.version_id = version;
  ni.oldest_arrival_ms = oldest_ms;
  ni.time_zone = cfg.time_zone;
  ni.extension = cfg.extension;
  return ni;
}

}  // namespace hydrant::stream
