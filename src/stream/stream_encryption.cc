// DeliveryStream: encryption at rest of its logs (StartDeliveryStreamEncryption,
// StopDeliveryStreamEncryption; buffer/encrypted_log.h) and the
// DeliveryStreamEncryptionConfiguration that Describe shows for it.

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include "api/json_fields.h"
#include "stream/delivery_stream.h"

namespace hydrant::stream {

namespace json = boost::json;

std::string_view KmsFailureType(std::string_view kms_error_code) {
  if (kms_error_code == "NotFoundException") return "KMS_KEY_NOT_FOUND";
  if (kms_error_code == "DisabledException") return "DISABLED_KMS_KEY";
  if (kms_error_code == "KMSInvalidStateException") return "INVALID_KMS_KEY";
  if (kms_error_code == "AccessDeniedException") return "KMS_ACCESS_DENIED";
  return "UNKNOWN_ERROR";
}

std::string_view KmsErrorCode(const Status& st) {
  static constexpr std::string_view kCodes[][2] = {
      {"NotFoundException", "KMS.NotFoundException"},
      {"DisabledException", "KMS.DisabledException"},
      {"KMSInvalidStateException", "KMS.KMSInvalidStateException"},
      {"AccessDeniedException", "KMS.AccessDeniedException"},
      {"InvalidCiphertextException", "KMS.InvalidCiphertextException"},
      {"KMSInternalException", "KMS.KMSInternalException"},
      {"LimitExceededException", "KMS.LimitExceededException"}};
  for (const auto& c : kCodes) {
    if (st.error_code() == c[0]) return c[1];
  }
  return "";
}

std::string_view LogReadErrorCode(const Status& st) {
  const std::string_view kms = KmsErrorCode(st);
  return kms.empty() ? "InternalError" : kms;
}

std::string KeyAtRest(const json::object& description) {
  if (api::GetString(description, "KeyType").value_or("") != "CUSTOMER_MANAGED_CMK") return "";
  return std::string(api::GetString(description, "KeyARN").value_or(""));
}

Status DeliveryStream::ChangeEncryption(const json::object* enabled) {
  StreamMeta m = Meta();
  m.encryption = enabled ? *enabled : json::object();
  m.encryption["Status"] = enabled ? "ENABLING" : "DISABLING";
  HYDRANT_RETURN_IF_ERROR(SetMeta(m));  // the change survives a crash: Open finishes it
  return FinishEncryptionChange();
}

Status DeliveryStream::FinishEncryptionChange() {
  StreamMeta m = Meta();
  const std::string_view status = api::GetString(m.encryption, "Status").value_or("");
  if (status == "DISABLING") {
    HYDRANT_RETURN_IF_ERROR(SetLogEncryption(std::nullopt));
    m.key_at_rest.reset();
    m.encryption = json::object{{"Status", "DISABLED"}};
    spdlog::info("stream={} event=encryption_disabled", m.name);
    return SetMeta(std::move(m));
  }
  if (status != "ENABLING") return Status::Ok();
  const std::string key = KeyAtRest(m.encryption);
  Status st = SetLogEncryption(key);
  if (st.ok()) {
    m.key_at_rest = key;
    m.encryption["Status"] = "ENABLED";
    spdlog::info("stream={} event=encryption_enabled key_type={}", m.name,
                 key.empty() ? "AWS_OWNED_CMK" : "CUSTOMER_MANAGED_CMK");
  } else {
    // The attempt failed: encryption stays as it was (on with the earlier key,
    // or off).
    Status restored = SetLogEncryption(m.key_at_rest);
    if (!restored.ok()) {
      spdlog::error("stream={} event=encryption_restore_failed error=\"{}\"", m.name,
                    restored.ToString());
    }
    m.encryption["Status"] = "ENABLING_FAILED";
    std::string details = st.message();
    if (details.size() > 1024) details.resize(1024);
    m.encryption["FailureDescription"] =
        json::object{{"Type", KmsFailureType(st.error_code())}, {"Details", details}};
    spdlog::warn("stream={} event=encryption_failed errorCode={} error=\"{}\"", m.name,
                 st.error_code(), st.message());
  }
  return SetMeta(std::move(m));
}

Status DeliveryStream::SetLogEncryption(const std::optional<std::string>& kms_key) {
  if (!enc_log_ || !enc_transformed_) {
    if (!kms_key) return Status::Ok();
    return Status::Unavailable("encryption at rest is not available (no KMS)");
  }
  if (!kms_key) {
    enc_log_->Disable();
    enc_transformed_->Disable();
    return Status::Ok();
  }
  Status st = enc_log_->Enable(*kms_key);
  Status xst = enc_transformed_->Enable(*kms_key);
  return st.ok() ? xst : st;
}

}  // namespace hydrant::stream
