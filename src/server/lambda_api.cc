#include "server/lambda_api.h"

#include <chrono>
#include <thread>

#include <boost/json.hpp>

#include "processing/invoker_registry.h"
#include "server/authorization.h"

namespace hydrant::server {

namespace json = boost::json;

namespace {

constexpr std::string_view kPrefix = "/2015-03-31/functions";

http::Response LambdaError(int status, const std::string& type, const std::string& message) {
  http::Response r = http::JsonReply(status, json::serialize(json::object{{"Type", "User"}, {"message", message}}));
  r.SetHeader("x-amzn-ErrorType", type);
  return r;
}

json::object Configuration(const processing::LocalFunctionInfo& f) {
  return json::object{{"FunctionName", f.name},
                      {"FunctionArn", f.arn},
                      {"Runtime", f.runtime},
                      {"Handler", f.handler},
                      {"Timeout", f.timeout_seconds},
                      {"MemorySize", f.memory_mb},
                      {"Version", "$LATEST"},
                      {"PackageType", "Zip"},
                      {"CodeSize", 0},
                      {"Description", "run by hydrant"},
                      {"State", "Active"},
                      {"LastModified", "1970-01-01T00:00:00.000+0000"}};
}

}  // namespace

std::string SignedService(const http::Request& req) {
  std::string_view auth = req.Header("Authorization");
  size_t c = auth.find("Credential=");
  if (c == std::string_view::npos) return "";
  std::string_view cred = auth.substr(c + 11);
  cred = cred.substr(0, cred.find_first_of(", "));
  // ACCESS/DATE/REGION/SERVICE/aws4_request
  size_t end = cred.rfind('/');
  if (end == std::string_view::npos) return "";
  size_t start = cred.rfind('/', end - 1);
  if (start == std::string_view::npos) return "";
  return std::string(cred.substr(start + 1, end - start - 1));
}

LambdaApi::LambdaApi(processing::InvokerRegistry* invokers, AccountContext account,
                     const Authorizer* authz)
    : invokers_(invokers), account_(std::move(account)), authz_(authz) {}

bool LambdaApi::Denied(const http::Request& req, std::string_view action, std::string_view arn,
                       const http::Respond& respond) const {
  if (!authz_ || !Authorizer::Applies(req)) return false;
  auto denied = authz_->Check(req, LambdaAccess(action, arn));
  if (!denied) return false;
  respond(LambdaError(403, "AccessDeniedException", *denied));
  return true;
}

LambdaApi::~LambdaApi() {
  std::unique_lock lk(mu_);
  idle_.wait(lk, [this] { return in_flight_ == 0; });
}

bool LambdaApi::IsLambdaRequest(const http::Request& req) {
  if (!req.Path().starts_with(kPrefix)) return false;
  std::string svc = SignedService(req);
  return svc.empty() || svc == "lambda";
}

void LambdaApi::Handle(http::Request&& req, http::Respond respond) {
  std::string_view path = req.Path().substr(kPrefix.size());
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  if (!path.empty() && path.back() == '/') path.remove_suffix(1);
  std::string name_part(path.substr(0, path.find('/')));
  auto decoded = http::PercentDecode(name_part);
  std::string name = decoded ? *decoded : name_part;
  std::string_view rest = path.size() > name_part.size() ? path.substr(name_part.size() + 1) : "";

  if (!invokers_) {
    respond(LambdaError(404, "ResourceNotFoundException", "No functions are configured."));
    return;
  }
  if (req.method == "GET" && name.empty()) {
    if (Denied(req, "ListFunctions", "", respond)) return;
    json::array fns;
    for (const auto& f : invokers_->LocalFunctions()) fns.push_back(Configuration(f));
    respond(http::JsonReply(200, json::serialize(json::object{{"Functions", std::move(fns)}})));
    return;
  }
  processing::FunctionRef ref;
  if (name.empty() || !processing::ParseFunctionRef(name, &ref)) {
    respond(LambdaError(400, "InvalidParameterValueException",
                        "'" + name + "' is not a valid function name or ARN."));
    return;
  }
  if (ref.region.empty()) ref.region = account_.region;
  if (ref.account.empty()) ref.account = account_.account_id;
  const std::string arn = "arn:aws:lambda:" + ref.region + ":" + ref.account + ":function:" + ref.name;
  // Functions live in this server's region and account only: an ARN naming
  // another is not one of them (and must not be authorized as if it were).
  if (ref.region != account_.region || ref.account != account_.account_id) {
    respond(LambdaError(404, "ResourceNotFoundException", "Function not found: " + arn));
    return;
  }
  const bool get = req.method == "GET" && rest.empty();
  if ((get || (req.method == "POST" && rest == "invocations")) &&
      Denied(req, get ? "GetFunction" : "InvokeFunction", arn, respond)) {
    return;
  }
  if (!invokers_->IsLocal(ref.name)) {
    respond(LambdaError(404, "ResourceNotFoundException", "Function not found: " + arn));
    return;
  }
  if (req.method == "GET" && rest.empty()) {
    for (const auto& f : invokers_->LocalFunctions()) {
      if (f.name == ref.name) {
        respond(http::JsonReply(200, json::serialize(json::object{{"Configuration", Configuration(f)}})));
        return;
      }
    }
  }
  if (req.method != "POST" || rest != "invocations") {
    respond(LambdaError(400, "InvalidRequestContentException",
                        "hydrant's Lambda API supports Invoke, ListFunctions and GetFunction only."));
    return;
  }
  std::string_view type = req.Header("X-Amz-Invocation-Type");
  if (!type.empty() && type != "RequestResponse") {
    respond(LambdaError(400, "InvalidParameterValueException",
                        "Only the RequestResponse invocation type is supported."));
    return;
  }
  {
    std::lock_guard lk(mu_);
    if (in_flight_ >= kMaxInFlight) {
      respond(LambdaError(429, "TooManyRequestsException", "Rate Exceeded."));
      return;
    }
    ++in_flight_;
  }
  // Invocations can run for minutes: a thread of their own, not an I/O thread.
  std::thread([this, ref, body = std::move(req.body), respond = std::move(respond)]() mutable {
    struct Done {
      LambdaApi* api;
      ~Done() {
        std::lock_guard lk(api->mu_);
        if (--api->in_flight_ == 0) api->idle_.notify_all();
      }
    } done{this};
    std::string event = body.empty() ? "{}" : std::move(body);
    auto r = invokers_->Invoke(ref, event, std::chrono::minutes(5));
    using K = processing::InvokeResult::Kind;
    if (r.kind == K::kOk) {
      http::Response resp = http::JsonReply(200, std::move(r.payload));
      resp.SetHeader("X-Amz-Executed-Version", "$LATEST");
      respond(std::move(resp));
    } else if (r.kind == K::kFunctionError) {
      http::Response resp = http::JsonReply(200, r.payload.empty()
                                               ? json::serialize(json::object{{"errorMessage", r.error_message}})
                                               : std::move(r.payload));
      resp.SetHeader("X-Amz-Executed-Version", "$LATEST");
      resp.SetHeader("X-Amz-Function-Error", "Unhandled");
      respond(std::move(resp));
    } else {
      bool not_found = r.error_code == "Lambda.ResourceNotFound";
      respond(LambdaError(not_found ? 404 : 500,
                          not_found ? "ResourceNotFoundException" : "ServiceException",
                          r.error_message.empty() ? r.error_code : r.error_message));
    }
  }).detach();
}

}  // namespace hydrant::server
