#include "stream/stream_meta.h"

#include <boost/json.hpp>

namespace hydrant::stream {

namespace json = boost::json;

json::object StreamMeta::ToJson() const {
  json::object o;
  o["name"] = name;
  o["arn"] = arn;
  o["type"] = type;
  o["status"] = status;
  o["version_id"] = version_id;
  o["create_ms"] = create_ms;
  o["last_update_ms"] = last_update_ms;
  o["destination_id"] = destination_id;
  o["destination"] = destination_;
  o["source"] = source;
  o["encryption"] = encryption;
  json::array t;
  for (const auto& [k, v] : tags) t.push_back(json::array{json::string(k), json::string(v)});
  o["tags"] = std::move(t);
  o["incarnation"] = incarnation;
  if (key_at_rest) o["key_at_rest"] = *key_at_rest;
  return o;
}

Result<StreamMeta> StreamMeta::FromJson(const json::object& o) {
  try {
    StreamMeta m;
    m.name = json::value_to<std::string>(o.at("name"));
    m.arn = json::value_to<std::string>(o.at("arn"));
    m.type = json::value_to<std::string>(o.at("type"));
    m.status = json::value_to<std::string>(o.at("status"));
    m.version_id = o.at("version_id").to_number<int64_t>();
    m.create_ms = o.at("create_ms").to_number<int64_t>();
    m.last_update_ms = o.at("last_update_ms").to_number<int64_t>();
    m.destination_id = json::value_to<std::string>(o.at("destination_id"));
    m.SetDestination(o.at("destination").as_object());
    m.source = o.at("source").as_object();
    m.encryption = o.at("encryption").as_object();
    for (const auto& t : o.at("tags").as_array()) {
      const auto& kv = t.as_array();
      m.tags.emplace_back(json::value_to<std::string>(kv.at(0)), json::value_to<std::string>(kv.at(1)));
    }
    m.incarnation = json::value_to<std::string>(o.at("incarnation"));
    if (const json::value* k = o.if_contains("key_at_rest")) {
      m.key_at_rest = json::value_to<std::string>(*k);
    } else if (const json::value* st = m.encryption.if_contains("Status");
               st && st->is_string() && st->as_string() == "ENABLED") {
      // Written before encryption at rest existed: the description said ENABLED.
      const json::value* arn = m.encryption.if_contains("KeyARN");
      m.key_at_rest = arn && arn->is_string() ? std::string(arn->as_string()) : std::string();
    }
    return m;
  } catch (const std::exception& e) {
    return Status::Corruption(std::string("stream metadata: ") + e.what());
  }
}

void StreamMeta::SetDestination(json::object stored) {
  spec_ = std::make_shared<const api::DestinationSpec>(api::ParseDestinationSpec(stored));
  destination_ = std::move(stored);
}

std::string StreamMeta::kinesis_stream_arn() const {
  const auto* d = source.if_contains("KinesisStreamSourceDescription");
  const auto* arn = d && d->is_object() ? d->as_object().if_contains("KinesisStreamARN") : nullptr;
  return arn && arn->is_string() ? std::string(arn->as_string()) : std::string();
}

int64_t StreamMeta::delivery_start_ms() const {
  const auto* d = source.if_contains("KinesisStreamSourceDescription");
  const auto* t = d && d->is_object() ? d->as_object().if_contains("DeliveryStartTimestamp") : nullptr;
  if (!t) return 0;
  if (t->is_double()) return static_cast<int64_t>(t->as_double() * 1000.0 + 0.5);
  if (t->is_int64()) return t->as_int64() * 1000;
  return 0;
}

std::string StreamArn(const AccountContext& account, std::string_view name) {
  return account.Arn("firehose", "deliverystream/" + std::string(name));
}

}  // namespace hydrant::stream
