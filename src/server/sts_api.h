#pragma once
// StsApi: the STS Query API (Version 2011-06-15) over the identity store:
// GetCallerIdentity, AssumeRole and GetSessionToken, answering in the shapes of
// botocore's sts service model.
//
// The caller is Request::principal (set by authentication); without one, or
// with the anonymous principal of open mode, the caller is the account's root.
// Whether a caller may assume a role is `may_assume`'s decision (the role's trust
// policy and the caller's policies, evaluated by iam/policy.h with the request's
// condition keys; main.cc wires it).
//
// Handle is synchronous and may write the store's files: run it off the I/O
// threads. Thread-safe.

#include <functional>
#include <string>

#include "iam/identity_store.h"
#include "server/http_types.h"

namespace hydrant::server {

// sts:AssumeRole's decision for `caller` on the role, given its trust policy and
// the request (aws:SourceIp, aws:SecureTransport).
using AssumeDecider = std::function<bool(const iam::Principal& caller, const std::string& role_arn,
                                         const std::string& trust_policy_json,
                                         const http::Request& req)>;

class StsApi {
 public:
  StsApi(iam::IdentityStore* store, AssumeDecider may_assume)
      : store_(store), may_assume_(std::move(may_assume)) {}
  http::Response Handle(const http::Request& req) const;

 private:
  iam::IdentityStore* store_;  // not owned
  AssumeDecider may_assume_;
};

}  // namespace hydrant::server
