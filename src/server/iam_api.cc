#include "server/iam_api.h"

#include <algorithm>
#include <cctype>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/request_id.h"
#include "common/strings.h"
#include "iam/principal.h"
#include "server/aws_query.h"
#include "server/xml_writer.h"

namespace hydrant::server {

namespace {

using iam::EntityKind;
using query::Error;
using query::Params;
using query::Validator;
using Opt = std::optional<std::string>;

// What an operation answers: the inner XML of <ActionResult> (none for actions
// without output), or an error.
struct Outcome {
  std::optional<Error> error;
  Opt result;
};
Outcome Fail(const Status& st) { return {query::FromStatus(st), std::nullopt}; }
Outcome Fail(Error e) { return {std::move(e), std::nullopt}; }
Outcome Done() { return {}; }
Outcome Result(std::string xml) { return {std::nullopt, std::move(xml)}; }

struct Ctx {
  const http::Request& req;
  Params p;
  iam::IdentityStore& store;
};

// ---- field checks (botocore's iam model: shapes and their patterns) ------------------

bool NameChar(unsigned char c) {
  return std::isalnum(c) || c == '_' || c == '+' || c == '=' || c == ',' || c == '.' || c == '@' ||
         c == '-';
}
bool WordChar(unsigned char c) { return std::isalnum(c) || c == '_'; }
bool DocChar(unsigned char c) { return c >= 0x20 || c == '\t' || c == '\n' || c == '\r'; }
constexpr std::string_view kNamePattern = "[\\w+=,.@-]+";

// userNameType, roleNameType (1..64), existingUserNameType (1..128), policyNameType (1..128).
void Name(Validator& v, std::string_view field, const Opt& value, size_t max,
          bool required = true) {
  if (required) v.Required(field, value);
  v.Length(field, value, 1, max);
  v.Chars(field, value, NameChar, kNamePattern);
}

// pathType: "/" or "/.../" of characters 0x21-0x7E.
void Path(Validator& v, const Opt& value) {
  v.Length("path", value, 1, 512);
  if (!value) return;
  bool ok = !value->empty() && value->front() == '/' && value->back() == '/';
  for (unsigned char c : *value) ok = ok && c >= 0x21 && c <= 0x7e;
  v.Pattern("path", value, ok, "(\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)");
}

// policyPathType: ((/[A-Za-z0-9\.,\+@=_-]+)*)/
bool PolicyPathOk(std::string_view p) {
  if (p.empty() || p.front() != '/' || p.back() != '/') return false;
  if (p.find("//") != std::string_view::npos && p != "/") return false;
  for (unsigned char c : p) {
    if (!(c == '/' || std::isalnum(c) || c == '.' || c == ',' || c == '+' || c == '@' || c == '=' ||
          c == '_' || c == '-')) {
      return false;
    }
  }
  return true;
}
void PolicyPath(Validator& v, std::string_view field, const Opt& value) {
  v.Length(field, value, 1, 512);
  if (value) v.Pattern(field, value, PolicyPathOk(*value), "((/[A-Za-z0-9\\.,\\+@=_-]+)*)/");
}

// pathPrefixType: \u002F[\u0021-\u007F]*
void PathPrefix(Validator& v, const Opt& value) {
  v.Length("pathPrefix", value, 1, 512);
  if (!value) return;
  bool ok = !value->empty() && value->front() == '/';
  for (unsigned char c : *value) ok = ok && c >= 0x21 && c <= 0x7f;
  v.Pattern("pathPrefix", value, ok, "\\u002F[\\u0021-\\u007F]*");
}

void Document(Validator& v, std::string_view field, const Opt& value) {
  v.Required(field, value);
  v.Length(field, value, 1, 131072);
  v.Chars(field, value, DocChar, "[\\u0009\\u000A\\u000D\\u0020-\\u00FF]+");
}

void Arn(Validator& v, const Opt& value) {
  v.Required("policyArn", value);
  v.Length("policyArn", value, 20, 2048);
}

struct Paging {
  Opt marker;
  int max_items = 100;
};
Paging PagingOf(Validator& v, const Params& p) {
  Paging g;
  g.marker = p.Get("Marker");
  v.Length("marker", g.marker, 1, 320);
  if (auto n = v.Int("maxItems", p.Get("MaxItems"), 1, 1000)) g.max_items = static_cast<int>(*n);
  return g;
}

std::optional<std::vector<iam::Tag>> TagsOf(Validator& v, const Params& p) {
  std::vector<iam::Tag> tags;
  for (auto& row : p.Members("Tags", {"Key", "Value"})) {
    Opt key = row[0], value = row[1];
    v.Length("tags.member.key", key, 1, 128);
    v.Length("tags.member.value", value, 0, 256);
    tags.push_back({row[0], row[1]});
  }
  if (tags.size() > 50) {
    v.Pattern("tags", Opt("[...]"), false, "Member must have length less than or equal to 50");
  }
  return tags;
}

// ---- XML of the model's shapes ---------------------------------------------------------

void WriteTags(XmlWriter& w, const std::vector<iam::Tag>& tags) {
  if (tags.empty()) return;
  w.Open("Tags");
  for (const auto& t : tags) {
    w.Open("member");
    w.Element("Key", t.key);
    w.Element("Value", t.value);
    w.Close();
  }
  w.Close();
}

// IAM returns policy documents URL-encoded (botocore decodes them).
std::string Encoded(std::string_view doc) { return PercentEncode(doc, false); }

void WriteUser(XmlWriter& w, std::string_view element, const iam::UserInfo& u) {
  w.Open(element);
  w.Element("Path", u.path);
  w.Element("UserName", u.name);
  w.Element("UserId", u.id);
  w.Element("Arn", u.arn);
  w.Element("CreateDate", query::FormatTime(u.create_ms));
  WriteTags(w, u.tags);
  w.Close();
}

void WriteRole(XmlWriter& w, std::string_view element, const iam::RoleInfo& r) {
  w.Open(element);
  w.Element("Path", r.path);
  w.Element("RoleName", r.name);
  w.Element("RoleId", r.id);
  w.Element("Arn", r.arn);
  w.Element("CreateDate", query::FormatTime(r.create_ms));
  w.Element("AssumeRolePolicyDocument", Encoded(r.trust_policy));
  if (!r.description.empty()) w.Element("Description", r.description);
  w.Element("MaxSessionDuration", std::to_string(r.max_session_seconds));
  WriteTags(w, r.tags);
  w.Close();
}

void WritePolicy(XmlWriter& w, std::string_view element, const iam::PolicyInfo& p,
                 bool description) {
  w.Open(element);
  w.Element("PolicyName", p.name);
  w.Element("PolicyId", p.id);
  w.Element("Arn", p.arn);
  w.Element("Path", p.path);
  w.Element("DefaultVersionId", "v1");
  w.Element("AttachmentCount", std::to_string(p.attachment_count));
  w.Element("PermissionsBoundaryUsageCount", "0");
  w.Element("IsAttachable", "true");
  if (description && !p.description.empty()) w.Element("Description", p.description);
  w.Element("CreateDate", query::FormatTime(p.create_ms));
  w.Element("UpdateDate", query::FormatTime(p.create_ms));
  WriteTags(w, p.tags);
  w.Close();
}

// One page of `items` ordered by key(): the items from Marker on (at most
// MaxItems), then IsTruncated and the next Marker.
template <typename T, typename KeyFn, typename WriteFn>
std::string Page(std::string_view list, std::vector<T> items, KeyFn key, const Paging& g,
                 WriteFn write) {
  std::stable_sort(items.begin(), items.end(),
                   [&](const T& a, const T& b) { return key(a) < key(b); });
  auto it = items.begin();
  if (g.marker) {
    it = std::find_if(items.begin(), items.end(), [&](const T& x) { return key(x) >= *g.marker; });
  }
  XmlWriter w;
  w.Open(list);
  int n = 0;
  for (; it != items.end() && n < g.max_items; ++it, ++n) write(w, *it);
  w.Close();
  w.Element("IsTruncated", it != items.end() ? "true" : "false");
  if (it != items.end()) w.Element("Marker", key(*it));
  return w.Take();
}

std::string LowerName(const std::string& s) { return AsciiLower(s); }

// ---- the caller ------------------------------------------------------------------------

// The user making the request (for calls without UserName): a user, or a
// GetSessionToken session of one.
Opt CallerUser(const Ctx& c) {
  const iam::Principal* p = c.req.principal.get();
  if (p &&
      (p->kind == iam::Principal::Kind::kUser || p->kind == iam::Principal::Kind::kFederated)) {
    return p->user_name;
  }
  return std::nullopt;
}

Error NonUserCaller() {
  return {400, "ValidationError", "Must specify userName when calling with non-User credentials"};
}

// UserName, or the caller's own user.
std::variant<std::string, Error> UserOrCaller(const Ctx& c, Validator& v) {
  Opt user = c.p.Get("UserName");
  Name(v, "userName", user, 128, false);
  if (auto e = v.Result()) return *e;
  if (user) return *user;
  if (Opt me = CallerUser(c)) return *me;
  return NonUserCaller();
}

// ---- users ---------------------------------------------------------------------------

Outcome CreateUser(Ctx& c) {
  Validator v;
  Opt name = c.p.Get("UserName"), path = c.p.Get("Path");
  Name(v, "userName", name, 64);
  Path(v, path);
  auto tags = TagsOf(v, c.p);
  if (auto e = v.Result()) return Fail(*e);
  auto u = c.store.CreateUser(*name, path.value_or("/"), std::move(*tags));
  if (!u.ok()) return Fail(u.status());
  XmlWriter w;
  WriteUser(w, "User", *u);
  return Result(w.Take());
}

Outcome GetUser(Ctx& c) {
  Validator v;
  Opt name = c.p.Get("UserName");
  Name(v, "userName", name, 128, false);
  if (auto e = v.Result()) return Fail(*e);
  if (!name) name = CallerUser(c);
  const iam::Principal* p = c.req.principal.get();
  if (!name && p && p->kind == iam::Principal::Kind::kAssumedRole) return Fail(NonUserCaller());
  XmlWriter w;
  if (!name) {
    // The account's root (also the anonymous caller of open mode), as IAM answers it.
    w.Open("User");
    w.Element("UserId", c.store.account_id());
    w.Element("Arn", "arn:aws:iam::" + c.store.account_id() + ":root");
    w.Element("CreateDate", query::FormatTime(c.store.NowMillis()));
    w.Close();
    return Result(w.Take());
  }
  auto u = c.store.GetUser(*name);
  if (!u.ok()) return Fail(u.status());
  WriteUser(w, "User", *u);
  return Result(w.Take());
}

Outcome ListUsers(Ctx& c) {
  Validator v;
  Opt prefix = c.p.Get("PathPrefix");
  PathPrefix(v, prefix);
  Paging g = PagingOf(v, c.p);
  if (auto e = v.Result()) return Fail(*e);
  std::vector<iam::UserInfo> users;
  for (auto& u : c.store.ListUsers()) {
    if (!prefix || u.path.starts_with(*prefix)) users.push_back(std::move(u));
  }
  return Result(Page(
      "Users", std::move(users), [](const iam::UserInfo& u) { return LowerName(u.name); }, g,
      [](XmlWriter& w, const iam::UserInfo& u) { WriteUser(w, "member", u); }));
}

Outcome DeleteUser(Ctx& c) {
  Validator v;
  Opt name = c.p.Get("UserName");
  Name(v, "userName", name, 128);
  if (auto e = v.Result()) return Fail(*e);
  if (Status st = c.store.DeleteUser(*name); !st.ok()) return Fail(st);
  return Done();
}

// ---- access keys ------------------------------------------------------------------------

Outcome CreateAccessKey(Ctx& c) {
  Validator v;
  auto user = UserOrCaller(c, v);
  if (auto* e = std::get_if<Error>(&user)) return Fail(*e);
  auto k = c.store.CreateAccessKey(std::get<std::string>(user));
  if (!k.ok()) return Fail(k.status());
  XmlWriter w;
  w.Open("AccessKey");
  w.Element("UserName", k->user_name);
  w.Element("AccessKeyId", k->access_key_id);
  w.Element("Status", "Active");
  w.Element("SecretAccessKey", k->secret_access_key);
  w.Element("CreateDate", query::FormatTime(k->create_ms));
  w.Close();
  return Result(w.Take());
}

Outcome ListAccessKeys(Ctx& c) {
  Validator v;
  Paging g = PagingOf(v, c.p);
  Opt user = c.p.Get("UserName");
  Name(v, "userName", user, 128, false);
  if (auto e = v.Result()) return Fail(*e);
  if (!user) user = CallerUser(c);
  std::vector<iam::AccessKeyInfo> keys;
  if (user) {  // root has no listed keys here (its keys come from the configuration)
    auto k = c.store.ListAccessKeys(*user);
    if (!k.ok()) return Fail(k.status());
    keys = std::move(*k);
  }
  return Result(Page(
      "AccessKeyMetadata", std::move(keys),
      [](const iam::AccessKeyInfo& k) { return k.access_key_id; }, g,
      [](XmlWriter& w, const iam::AccessKeyInfo& k) {
        w.Open("member");
        w.Element("UserName", k.user_name);
        w.Element("AccessKeyId", k.access_key_id);
        w.Element("Status", k.active ? "Active" : "Inactive");
        w.Element("CreateDate", query::FormatTime(k.create_ms));
        w.Close();
      }));
}

// The user of an access key call: UserName, the calling user, or (root and
// open mode) the key's owner.
std::variant<std::string, Error> KeyUser(const Ctx& c, Validator& v, const Opt& key_id) {
  Opt user = c.p.Get("UserName");
  Name(v, "userName", user, 128, false);
  v.Required("accessKeyId", key_id);
  v.Length("accessKeyId", key_id, 16, 128);
  v.Chars("accessKeyId", key_id, WordChar, "[\\w]+");
  if (auto e = v.Result()) return *e;
  if (user) return *user;
  if (Opt me = CallerUser(c)) return *me;
  if (auto owner = c.store.UserOfAccessKey(*key_id)) return *owner;
  return Error{404, std::string(iam::kNoSuchEntity),
               "The Access Key with id " + *key_id + " cannot be found."};
}

Outcome UpdateAccessKey(Ctx& c) {
  Validator v;
  Opt key_id = c.p.Get("AccessKeyId"), status = c.p.Get("Status");
  v.Required("status", status);
  v.Enum("status", status, {"Active", "Inactive", "Expired"});
  auto user = KeyUser(c, v, key_id);
  if (auto* e = std::get_if<Error>(&user)) return Fail(*e);
  if (*status == "Expired") {
    return Fail(
        Error{400, "InvalidInput", "Status Expired cannot be set; use Active or Inactive."});
  }
  Status st = c.store.UpdateAccessKey(std::get<std::string>(user), *key_id, *status == "Active");
  return st.ok() ? Done() : Fail(st);
}

Outcome DeleteAccessKey(Ctx& c) {
  Validator v;
  Opt key_id = c.p.Get("AccessKeyId");
  auto user = KeyUser(c, v, key_id);
  if (auto* e = std::get_if<Error>(&user)) return Fail(*e);
  Status st = c.store.DeleteAccessKey(std::get<std::string>(user), *key_id);
  return st.ok() ? Done() : Fail(st);
}

// ---- inline policies (users and roles alike) ---------------------------------------------

struct Kind {
  EntityKind kind;
  std::string_view param;  // UserName / RoleName
  std::string_view field;  // userName / roleName
  size_t max;              // existingUserNameType 128, roleNameType 64
};
constexpr Kind kUser{EntityKind::kUser, "UserName", "userName", 128};
constexpr Kind kRole{EntityKind::kRole, "RoleName", "roleName", 64};

Outcome PutInline(Ctx& c, const Kind& k) {
  Validator v;
  Opt entity = c.p.Get(k.param), name = c.p.Get("PolicyName"), doc = c.p.Get("PolicyDocument");
  Name(v, k.field, entity, k.max);
  Name(v, "policyName", name, 128);
  Document(v, "policyDocument", doc);
  if (auto e = v.Result()) return Fail(*e);
  Status st = c.store.PutInlinePolicy(k.kind, *entity, *name, *doc);
  return st.ok() ? Done() : Fail(st);
}

Outcome GetInline(Ctx& c, const Kind& k) {
  Validator v;
  Opt entity = c.p.Get(k.param), name = c.p.Get("PolicyName");
  Name(v, k.field, entity, k.max);
  Name(v, "policyName", name, 128);
  if (auto e = v.Result()) return Fail(*e);
  auto doc = c.store.GetInlinePolicy(k.kind, *entity, *name);
  if (!doc.ok()) return Fail(doc.status());
  XmlWriter w;
  w.Element(k.param, *entity);
  w.Element("PolicyName", *name);
  w.Element("PolicyDocument", Encoded(*doc));
  return Result(w.Take());
}

Outcome DeleteInline(Ctx& c, const Kind& k) {
  Validator v;
  Opt entity = c.p.Get(k.param), name = c.p.Get("PolicyName");
  Name(v, k.field, entity, k.max);
  Name(v, "policyName", name, 128);
  if (auto e = v.Result()) return Fail(*e);
  Status st = c.store.DeleteInlinePolicy(k.kind, *entity, *name);
  return st.ok() ? Done() : Fail(st);
}

Outcome ListInline(Ctx& c, const Kind& k) {
  Validator v;
  Opt entity = c.p.Get(k.param);
  Name(v, k.field, entity, k.max);
  Paging g = PagingOf(v, c.p);
  if (auto e = v.Result()) return Fail(*e);
  auto names = c.store.ListInlinePolicies(k.kind, *entity);
  if (!names.ok()) return Fail(names.status());
  return Result(Page(
      "PolicyNames", std::move(*names), [](const std::string& n) { return n; }, g,
      [](XmlWriter& w, const std::string& n) { w.Element("member", n); }));
}

// ---- attached policies ---------------------------------------------------------------------

Outcome Attach(Ctx& c, const Kind& k, bool attach) {
  Validator v;
  Opt entity = c.p.Get(k.param), arn = c.p.Get("PolicyArn");
  Name(v, k.field, entity, 64);
  Arn(v, arn);
  if (auto e = v.Result()) return Fail(*e);
  Status st = attach ? c.store.AttachPolicy(k.kind, *entity, *arn)
                     : c.store.DetachPolicy(k.kind, *entity, *arn);
  return st.ok() ? Done() : Fail(st);
}

Outcome ListAttached(Ctx& c, const Kind& k) {
  Validator v;
  Opt entity = c.p.Get(k.param), prefix = c.p.Get("PathPrefix");
  Name(v, k.field, entity, 64);
  PolicyPath(v, "pathPrefix", prefix);
  Paging g = PagingOf(v, c.p);
  if (auto e = v.Result()) return Fail(*e);
  auto list = c.store.ListAttachedPolicies(k.kind, *entity);
  if (!list.ok()) return Fail(list.status());
  std::vector<iam::AttachedPolicy> policies;
  for (auto& a : *list) {
    // arn:aws:iam::ACCOUNT:policy/PATH/NAME: the path is what follows "policy".
    size_t at = a.arn.find(":policy/");
    std::string path =
        at == std::string::npos ? "/" : a.arn.substr(at + 7, a.arn.size() - at - 7 - a.name.size());
    if (!prefix || path.starts_with(*prefix)) policies.push_back(std::move(a));
  }
  return Result(Page(
      "AttachedPolicies", std::move(policies), [](const iam::AttachedPolicy& a) { return a.arn; },
      g,
      [](XmlWriter& w, const iam::AttachedPolicy& a) {
        w.Open("member");
        w.Element("PolicyName", a.name);
        w.Element("PolicyArn", a.arn);
        w.Close();
      }));
}

// ---- managed policies -----------------------------------------------------------------------

Outcome CreatePolicy(Ctx& c) {
  Validator v;
  Opt name = c.p.Get("PolicyName"), path = c.p.Get("Path"), doc = c.p.Get("PolicyDocument"),
      description = c.p.Get("Description");
  Name(v, "policyName", name, 128);
  PolicyPath(v, "path", path);
  Document(v, "policyDocument", doc);
  v.Length("description", description, 0, 1000);
  auto tags = TagsOf(v, c.p);
  if (auto e = v.Result()) return Fail(*e);
  auto p = c.store.CreatePolicy(*name, path.value_or("/"), *doc, description.value_or(""),
                                std::move(*tags));
  if (!p.ok()) return Fail(p.status());
  XmlWriter w;
  WritePolicy(w, "Policy", *p, false);
  return Result(w.Take());
}

Outcome GetPolicy(Ctx& c) {
  Validator v;
  Opt arn = c.p.Get("PolicyArn");
  Arn(v, arn);
  if (auto e = v.Result()) return Fail(*e);
  auto p = c.store.GetPolicy(*arn);
  if (!p.ok()) return Fail(p.status());
  XmlWriter w;
  WritePolicy(w, "Policy", *p, true);
  return Result(w.Take());
}

Outcome GetPolicyVersion(Ctx& c) {
  Validator v;
  Opt arn = c.p.Get("PolicyArn"), version = c.p.Get("VersionId");
  Arn(v, arn);
  v.Required("versionId", version);
  if (version) {
    bool ok = version->size() >= 2 && (*version)[0] == 'v' && (*version)[1] >= '1' &&
              (*version)[1] <= '9';
    v.Pattern("versionId", version, ok, "v[1-9][0-9]*(\\.[A-Za-z0-9-]*)?");
  }
  if (auto e = v.Result()) return Fail(*e);
  auto p = c.store.GetPolicy(*arn);
  if (!p.ok()) return Fail(p.status());
  if (*version != "v1") {
    return Fail(
        Error{404, std::string(iam::kNoSuchEntity),
              "Policy " + *arn + " version " + *version + " does not exist or is not attachable."});
  }
  XmlWriter w;
  w.Open("PolicyVersion");
  w.Element("Document", Encoded(p->document));
  w.Element("VersionId", "v1");
  w.Element("IsDefaultVersion", "true");
  w.Element("CreateDate", query::FormatTime(p->create_ms));
  w.Close();
  return Result(w.Take());
}

Outcome ListPolicies(Ctx& c) {
  Validator v;
  Opt scope = c.p.Get("Scope"), only = c.p.Get("OnlyAttached"), prefix = c.p.Get("PathPrefix"),
      usage = c.p.Get("PolicyUsageFilter");
  v.Enum("scope", scope, {"All", "AWS", "Local"});
  v.Enum("onlyAttached", only, {"true", "false"});
  v.Enum("policyUsageFilter", usage, {"PermissionsPolicy", "PermissionsBoundary"});
  PolicyPath(v, "pathPrefix", prefix);
  Paging g = PagingOf(v, c.p);
  if (auto e = v.Result()) return Fail(*e);
  std::vector<iam::PolicyInfo> policies;
  // Only customer managed policies exist here (no AWS managed ones, no boundaries).
  if (scope.value_or("All") != "AWS" &&
      usage.value_or("PermissionsPolicy") != "PermissionsBoundary") {
    for (auto& p : c.store.ListPolicies()) {
      if (only == "true" && p.attachment_count == 0) continue;
      if (prefix && !p.path.starts_with(*prefix)) continue;
      policies.push_back(std::move(p));
    }
  }
  return Result(Page(
      "Policies", std::move(policies), [](const iam::PolicyInfo& p) { return LowerName(p.name); },
      g, [](XmlWriter& w, const iam::PolicyInfo& p) { WritePolicy(w, "member", p, false); }));
}

Outcome DeletePolicy(Ctx& c) {
  Validator v;
  Opt arn = c.p.Get("PolicyArn");
  Arn(v, arn);
  if (auto e = v.Result()) return Fail(*e);
  Status st = c.store.DeletePolicy(*arn);
  return st.ok() ? Done() : Fail(st);
}

// ---- roles ------------------------------------------------------------------------------------

Outcome CreateRole(Ctx& c) {
  Validator v;
  Opt name = c.p.Get("RoleName"), path = c.p.Get("Path"), doc = c.p.Get("AssumeRolePolicyDocument"),
      description = c.p.Get("Description");
  Name(v, "roleName", name, 64);
  Path(v, path);
  Document(v, "assumeRolePolicyDocument", doc);
  v.Length("description", description, 0, 1000);
  auto max = v.Int("maxSessionDuration", c.p.Get("MaxSessionDuration"), 3600, 43200);
  auto tags = TagsOf(v, c.p);
  if (auto e = v.Result()) return Fail(*e);
  auto r = c.store.CreateRole(*name, path.value_or("/"), *doc, description.value_or(""),
                              static_cast<int>(max.value_or(3600)), std::move(*tags));
  if (!r.ok()) return Fail(r.status());
  XmlWriter w;
  WriteRole(w, "Role", *r);
  return Result(w.Take());
}

Outcome GetRole(Ctx& c) {
  Validator v;
  Opt name = c.p.Get("RoleName");
  Name(v, "roleName", name, 64);
  if (auto e = v.Result()) return Fail(*e);
  auto r = c.store.GetRole(*name);
  if (!r.ok()) return Fail(r.status());
  XmlWriter w;
  WriteRole(w, "Role", *r);
  return Result(w.Take());
}

Outcome ListRoles(Ctx& c) {
  Validator v;
  Opt prefix = c.p.Get("PathPrefix");
  PathPrefix(v, prefix);
  Paging g = PagingOf(v, c.p);
  if (auto e = v.Result()) return Fail(*e);
  std::vector<iam::RoleInfo> roles;
  for (auto& r : c.store.ListRoles()) {
    if (!prefix || r.path.starts_with(*prefix)) roles.push_back(std::move(r));
  }
  return Result(Page(
      "Roles", std::move(roles), [](const iam::RoleInfo& r) { return LowerName(r.name); }, g,
      [](XmlWriter& w, const iam::RoleInfo& r) { WriteRole(w, "member", r); }));
}

Outcome DeleteRole(Ctx& c) {
  Validator v;
  Opt name = c.p.Get("RoleName");
  Name(v, "roleName", name, 64);
  if (auto e = v.Result()) return Fail(*e);
  Status st = c.store.DeleteRole(*name);
  return st.ok() ? Done() : Fail(st);
}

Outcome UpdateAssumeRolePolicy(Ctx& c) {
  Validator v;
  Opt name = c.p.Get("RoleName"), doc = c.p.Get("PolicyDocument");
  Name(v, "roleName", name, 64);
  Document(v, "policyDocument", doc);
  if (auto e = v.Result()) return Fail(*e);
  Status st = c.store.UpdateAssumeRolePolicy(*name, *doc);
  return st.ok() ? Done() : Fail(st);
}

// The operations served: the table is also the list in docs/security.md.
const std::vector<std::pair<std::string_view, std::function<Outcome(Ctx&)>>>& Operations() {
  static const std::vector<std::pair<std::string_view, std::function<Outcome(Ctx&)>>> ops = {
      {"CreateUser", CreateUser},
      {"GetUser", GetUser},
      {"ListUsers", ListUsers},
      {"DeleteUser", DeleteUser},
      {"CreateAccessKey", CreateAccessKey},
      {"ListAccessKeys", ListAccessKeys},
      {"UpdateAccessKey", UpdateAccessKey},
      {"DeleteAccessKey", DeleteAccessKey},
      {"PutUserPolicy", [](Ctx& c) { return PutInline(c, kUser); }},
      {"GetUserPolicy", [](Ctx& c) { return GetInline(c, kUser); }},
      {"DeleteUserPolicy", [](Ctx& c) { return DeleteInline(c, kUser); }},
      {"ListUserPolicies", [](Ctx& c) { return ListInline(c, kUser); }},
      {"AttachUserPolicy", [](Ctx& c) { return Attach(c, kUser, true); }},
      {"DetachUserPolicy", [](Ctx& c) { return Attach(c, kUser, false); }},
      {"ListAttachedUserPolicies", [](Ctx& c) { return ListAttached(c, kUser); }},
      {"CreatePolicy", CreatePolicy},
      {"GetPolicy", GetPolicy},
      {"GetPolicyVersion", GetPolicyVersion},
      {"ListPolicies", ListPolicies},
      {"DeletePolicy", DeletePolicy},
      {"CreateRole", CreateRole},
      {"GetRole", GetRole},
      {"ListRoles", ListRoles},
      {"DeleteRole", DeleteRole},
      {"UpdateAssumeRolePolicy", UpdateAssumeRolePolicy},
      {"PutRolePolicy", [](Ctx& c) { return PutInline(c, kRole); }},
      {"GetRolePolicy", [](Ctx& c) { return GetInline(c, kRole); }},
      {"DeleteRolePolicy", [](Ctx& c) { return DeleteInline(c, kRole); }},
      {"ListRolePolicies", [](Ctx& c) { return ListInline(c, kRole); }},
      {"AttachRolePolicy", [](Ctx& c) { return Attach(c, kRole, true); }},
      {"DetachRolePolicy", [](Ctx& c) { return Attach(c, kRole, false); }},
      {"ListAttachedRolePolicies", [](Ctx& c) { return ListAttached(c, kRole); }},
  };
  return ops;
}

}  // namespace

http::Response IamApi::Handle(const http::Request& req) const {
  const std::string request_id = NewUuid();
  Ctx c{req, Params(req), *store_};
  Opt action = c.p.Get("Action");
  if (!action) {
    return query::ErrorReply(query::kIamNamespace, {400, "MissingAction", "Missing Action", true},
                             request_id);
  }
  for (const auto& [name, op] : Operations()) {
    if (name != *action) continue;
    Outcome o = op(c);
    if (o.error) return query::ErrorReply(query::kIamNamespace, *o.error, request_id);
    return query::Reply(*action, query::kIamNamespace, o.result, request_id);
  }
  return query::ErrorReply(
      query::kIamNamespace,
      {400, "InvalidAction",
       "Could not find operation " + *action + " for version " + std::string(query::kIamVersion),
       true},
      request_id);
}

}  // namespace hydrant::server
