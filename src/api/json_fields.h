#pragma once
// Typed reads of JSON members, for the edges where hydrant reads JSON it wrote or
// validated (API inputs after ValidateRequest, stored descriptions): a member
// that is absent, null or of another type reads as absent.

#include <cstdint>
#include <optional>
#include <string_view>

#include <boost/json/object.hpp>

namespace hydrant::api {

inline const boost::json::value* GetMember(const boost::json::object& o, std::string_view key) {
  const boost::json::value* v = o.if_contains(key);
  return v == nullptr || v->is_null() ? nullptr : v;
}
inline const boost::json::object* GetObject(const boost::json::object& o, std::string_view key) {
  const boost::json::value* v = GetMember(o, key);
  return v != nullptr && v->is_object() ? &v->get_object() : nullptr;
}
inline std::optional<std::string_view> GetString(const boost::json::object& o,
                                                 std::string_view key) {
  const boost::json::value* v = GetMember(o, key);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return std::string_view(v->get_string().data(), v->get_string().size());
}
inline std::optional<bool> GetBool(const boost::json::object& o, std::string_view key) {
  const boost::json::value* v = GetMember(o, key);
  if (v == nullptr || !v->is_bool()) return std::nullopt;
  return v->get_bool();
}
inline std::optional<int64_t> GetInt(const boost::json::object& o, std::string_view key) {
  const boost::json::value* v = GetMember(o, key);
  if (v == nullptr || !v->is_number()) return std::nullopt;
  boost::system::error_code ec;
  auto n = v->to_number<int64_t>(ec);
  if (ec) return std::nullopt;
  return n;
}

}  // namespace hydrant::api
