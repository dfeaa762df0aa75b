#include "server/sts_api.h"

#include <cctype>
#include <optional>
#include <string>

#include "common/request_id.h"
#include "iam/principal.h"
#include "server/aws_query.h"
#include "server/xml_writer.h"

namespace hydrant::server {

namespace {

using query::Error;
using Opt = std::optional<std::string>;

bool SessionNameChar(unsigned char c) {
  return std::isalnum(c) || c == '_' || c == '+' || c == '=' || c == ',' || c == '.' || c == '@' ||
         c == '-';
}

// The caller: the authenticated principal, or root (no principal, or the
// anonymous caller of open mode).
iam::Principal Caller(const http::Request& req, const iam::IdentityStore& store) {
  if (req.principal && req.principal->kind != iam::Principal::Kind::kAnonymous) {
    return *req.principal;
  }
  iam::Principal root;
  root.kind = iam::Principal::Kind::kRoot;
  root.account_id = store.account_id();
  root.arn = "arn:aws:iam::" + store.account_id() + ":root";
  root.user_id = store.account_id();
  if (req.principal) root.access_key_id = req.principal->access_key_id;
  return root;
}

void WriteCredentials(XmlWriter& w, const iam::SessionCredentials& s) {
  w.Open("Credentials");
  w.Element("AccessKeyId", s.access_key_id);
  w.Element("SecretAccessKey", s.secret_access_key);
  w.Element("SessionToken", s.session_token);
  w.Element("Expiration", query::FormatTime(s.expires_ms));
  w.Close();
}

}  // namespace

http::Response StsApi::Handle(const http::Request& req) const {
  const std::string request_id = NewUuid();
  query::Params p(req);
  Opt action = p.Get("Action");
  auto fail = [&](const Error& e) {
    return query::ErrorReply(query::kStsNamespace, e, request_id);
  };
  auto ok = [&](std::string xml) {
    return query::Reply(*action, query::kStsNamespace, std::move(xml), request_id);
  };
  if (!action) return fail({400, "MissingAction", "Missing Action", true});
  const iam::Principal caller = Caller(req, *store_);

  if (*action == "GetCallerIdentity") {
    XmlWriter w;
    w.Element("Arn", caller.arn);
    w.Element("UserId", caller.user_id);
    w.Element("Account", caller.account_id.empty() ? store_->account_id() : caller.account_id);
    return ok(w.Take());
  }
  if (*action == "AssumeRole") {
    query::Validator v;
    Opt arn = p.Get("RoleArn"), session = p.Get("RoleSessionName");
    v.Required("roleArn", arn);
    v.Length("roleArn", arn, 20, 2048);
    v.Required("roleSessionName", session);
    v.Length("roleSessionName", session, 2, 64);
    v.Chars("roleSessionName", session, SessionNameChar, "[\\w+=,.@-]*");
    auto duration = v.Int("durationSeconds", p.Get("DurationSeconds"), 900, 43200);
    if (auto e = v.Result()) return fail(*e);
    auto creds = store_->AssumeRole(
        caller, *arn, *session, static_cast<int>(duration.value_or(3600)),
        [&](const iam::Principal& who, const std::string& role, const std::string& trust) {
          return may_assume_(who, role, trust, req);
        });
    if (!creds.ok()) return fail(query::FromStatus(creds.status()));
    XmlWriter w;
    WriteCredentials(w, *creds);
    w.Open("AssumedRoleUser");
    w.Element("AssumedRoleId", creds->assumed_role_id);
    w.Element("Arn", creds->assumed_role_arn);
    w.Close();
    return ok(w.Take());
  }
  if (*action == "GetSessionToken") {
    query::Validator v;
    auto duration = v.Int("durationSeconds", p.Get("DurationSeconds"), 900, 129600);
    if (auto e = v.Result()) return fail(*e);
    auto creds = store_->GetSessionToken(caller, static_cast<int>(duration.value_or(43200)));
    if (!creds.ok()) return fail(query::FromStatus(creds.status()));
    XmlWriter w;
    WriteCredentials(w, *creds);
    return ok(w.Take());
  }
  return fail(
      {400, "InvalidAction",
       "Could not find operation " + *action + " for version " + std::string(query::kStsVersion),
       true});
}

}  // namespace hydrant::server
