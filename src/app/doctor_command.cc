#include "app/doctor_command.h"

#include <chrono>
#include <ostream>

#include <boost/json.hpp>

#include "aws/http_client.h"
#include "observability/doctor.h"

namespace hydrant::app {

namespace {

// The doctor probes buckets and invokes a function (each bounded by its own timeout).
constexpr auto kDoctorTimeout = std::chrono::seconds(120);

std::string QueryEncode(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string ErrorMessage(const std::string& body) {
  boost::json::error_code ec;
  auto v = boost::json::parse(body, ec);
  if (!ec && v.is_object()) {
    if (auto* m = v.as_object().if_contains("message"); m && m->is_string()) {
      return std::string(m->as_string());
    }
  }
  return body;
}

}  // namespace

int RunDoctorCommand(const DoctorCommandOptions& opts, aws::HttpClient* http, std::ostream& out,
                     std::ostream& err) {
  if (opts.delivery_stream.empty()) {
    err << "hydrant doctor: a delivery stream name is required\n";
    return 2;
  }
  std::string base = opts.endpoint;
  while (!base.empty() && base.back() == '/') base.pop_back();
  aws::HttpRequest req;
  req.method = "GET";
  req.url = base + "/doctor?stream=" + QueryEncode(opts.delivery_stream);
  auto resp = http->Send(req, kDoctorTimeout);
  if (!resp.ok()) {
    err << "hydrant doctor: cannot reach hydrant at " << opts.endpoint << ": "
        << resp.status().message() << "\n";
    return 2;
  }
  if (resp->status == 404) {
    err << "hydrant doctor: " << ErrorMessage(resp->body) << "\n";
    return 2;
  }
  if (resp->status != 200) {
    err << "hydrant doctor: hydrant answered HTTP " << resp->status << ": "
        << ErrorMessage(resp->body) << "\n";
    return 2;
  }
  auto report = observability::DoctorReport::FromJson(resp->body);
  if (!report.ok()) {
    err << "hydrant doctor: " << report.status().message() << "\n";
    return 2;
  }
  if (opts.json) {
    out << resp->body << "\n";
  } else {
    out << report->ToText();
  }
  return report->HasFailure() ? 1 : 0;
}

}  // namespace hydrant::app
