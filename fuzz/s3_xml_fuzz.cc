// Fuzz target: the S3 request bodies hydrant reads as XML (server/xml_reader.h
// and the operations that use it), through S3Api::Handle over an ObjectStore in
// a scratch folder, as the listener calls it.
// Input parts (fuzz_util.h SplitParts): a DeleteObjects body (POST /bkt?delete),
// a CompleteMultipartUpload body (POST /bkt/mp?uploadId=ID, for an upload whose
// part 1 is "part-one", ETag "dede9db222ee612853f44e6e6b1ca792"), a CreateBucket
// body (PUT /new-bucket).
// Checks: every answer is 2xx or an S3 error document (4xx with <Code>), never 5xx.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "destinations/object_store.h"
#include "fuzz/fuzz_util.h"
#include "server/http_types.h"
#include "server/s3_api.h"
#include "server/xml_reader.h"

namespace server = hydrant::server;
namespace http = hydrant::http;

namespace {

struct Fixture {
  hydrant::fuzz::ScratchDir dir;
  std::unique_ptr<hydrant::store::ObjectStore> store;
  std::unique_ptr<server::S3Api> api;
  std::string upload_id;

  http::Response Call(std::string method, std::string target, std::string body = "") {
    http::Request req;
    req.method = std::move(method);
    req.target = std::move(target);
    req.headers = {{"Host", "127.0.0.1:4573"}};
    req.body = std::move(body);
    http::Response resp;
    api->Handle(req, &resp);
    return resp;
  }

  // A fresh upload of "mp" with one part.
  void StartUpload() {
    http::Response r = Call("POST", "/bkt/mp?uploads");
    FUZZ_CHECK(r.status == 200, "cannot start an upload: " + r.body);
    auto ids = server::XmlElements(r.body, "UploadId");
    FUZZ_CHECK(ids.size() == 1, "no UploadId: " + r.body);
    upload_id = std::string(ids[0]);
    r = Call("PUT", "/bkt/mp?partNumber=1&uploadId=" + upload_id, "part-one");
    FUZZ_CHECK(r.status == 200, "cannot upload a part: " + r.body);
  }

  void PutObjects() {
    for (const char* k : {"/bkt/k1", "/bkt/k2", "/bkt/dir/a%20b"}) {
      FUZZ_CHECK(Call("PUT", k, "data").status == 200, "cannot put an object");
    }
  }
};

void CheckAnswer(const http::Response& r, const char* what) {
  FUZZ_CHECK(r.status < 500, std::string(what) + " answered " + std::to_string(r.status) + ": " +
                                 r.body);
  if (r.status >= 400) {
    FUZZ_CHECK(server::XmlElements(r.body, "Code").size() == 1,
               std::string(what) + " error without a Code: " + r.body);
  }
}

Fixture& Get() {
  static Fixture* f = [] {
    auto* fx = new Fixture;
    auto s = hydrant::store::ObjectStore::Open(fx->dir.Sub("s3"));
    FUZZ_CHECK(s.ok(), "cannot open the store: " + s.status().ToString());
    fx->store = std::move(s).value();
    fx->api = std::make_unique<server::S3Api>(fx->store.get(), "us-east-1");
    FUZZ_CHECK(fx->Call("PUT", "/bkt").status == 200, "cannot create the bucket");
    fx->PutObjects();
    fx->StartUpload();
    return fx;
  }();
  return *f;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Fixture& f = Get();
  auto parts = hydrant::fuzz::SplitParts(hydrant::fuzz::AsView(data, size), 3);

  (void)server::XmlUnescape(parts[0]);
  (void)server::XmlElements(parts[0], "Key");

  http::Response del = f.Call("POST", "/bkt?delete", std::string(parts[0]));
  CheckAnswer(del, "DeleteObjects");
  if (del.status == 200 && del.body.find("<Deleted>") != std::string::npos) f.PutObjects();

  http::Response done = f.Call("POST", "/bkt/mp?uploadId=" + f.upload_id, std::string(parts[1]));
  CheckAnswer(done, "CompleteMultipartUpload");
  if (done.status == 200) f.StartUpload();

  http::Response made = f.Call("PUT", "/new-bucket", std::string(parts[2]));
  CheckAnswer(made, "CreateBucket");
  if (made.status == 200) CheckAnswer(f.Call("DELETE", "/new-bucket"), "DeleteBucket");
  return 0;
}
