#pragma once
// IamApi: the IAM Query API (Version 2010-05-08) over the identity store — users,
// access keys, inline and managed policies, roles — answering in the shapes of
// botocore's iam service model, so the AWS CLI and SDKs parse them. The
// operation table in iam_api.cc lists what is served; docs/security.md ("IAM and
// STS") says what is not.
//
// Handle is synchronous and writes the store's files: run it off the I/O
// threads. Thread-safe (the store is). Authorization of the caller happens before
// (the router); Handle reads Request::principal only for calls about "the
// caller" (GetUser, CreateAccessKey, ... without UserName).

#include "iam/identity_store.h"
#include "server/http_types.h"

namespace hydrant::server {

class IamApi {
 public:
  explicit IamApi(iam::IdentityStore* store) : store_(store) {}
  http::Response Handle(const http::Request& req) const;

 private:
  iam::IdentityStore* store_;  // not owned
};

}  // namespace hydrant::server
