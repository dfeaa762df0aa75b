#include "aws/http_client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "testing/test_http_server.h"

namespace hydrant::aws {
namespace {

using hydrant::testing::TestHttpRequest;
using hydrant::testing::TestHttpResponse;
using hydrant::testing::TestHttpServer;
using std::chrono::milliseconds;

TEST(CurlHttpClient, GetReturnsStatusHeadersAndBody) {
  TestHttpServer srv([](const TestHttpRequest& r) {
    return TestHttpResponse{
        201, {{"X-Thing", "  value  "}, {"x-dup", "1"}, {"X-Dup", "2"}}, "hello " + r.target};
  });
  CurlHttpClient client;
  HttpRequest req;
  req.url = srv.url("/a/b%20c?x=1&y=%2F");
  req.headers = {{"X-Custom", "v"}, {"X-Empty", ""}};
  auto r = client.Send(req, milliseconds(5000));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 201);
  EXPECT_EQ(r->body, "hello /a/b%20c?x=1&y=%2F");
  ASSERT_NE(r->Header("x-thing"), nullptr);
  EXPECT_EQ(*r->Header("X-THING"), "value");
  EXPECT_EQ(*r->Header("x-dup"), "1");
  EXPECT_EQ(r->Header("absent"), nullptr);

  auto seen = srv.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].method, "GET");
  ASSERT_NE(seen[0].Header("x-custom"), nullptr);
  EXPECT_EQ(*seen[0].Header("x-custom"), "v");
  ASSERT_NE(seen[0].Header("x-empty"), nullptr);
  EXPECT_EQ(*seen[0].Header("x-empty"), "");
  EXPECT_EQ(seen[0].Header("content-type"), nullptr);
  ASSERT_NE(seen[0].Header("host"), nullptr);
  EXPECT_EQ(*seen[0].Header("host"), "127.0.0.1:" + std::to_string(srv.port()));
}

TEST(CurlHttpClient, LargePostWithoutExpectContinue) {
  TestHttpServer srv([](const TestHttpRequest& r) {
    return TestHttpResponse{200, {}, std::to_string(r.body.size())};
  });
  CurlHttpClient client;
  HttpRequest req;
  req.method = "POST";
  req.url = srv.url("/invoke");
  req.headers = {{"Content-Type", "application/json"}};
  req.body.assign(2 << 20, 'x');
  req.body[12345] = 'y';
  auto start = std::chrono::steady_clock::now();
  auto r = client.Send(req, milliseconds(10000));
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, std::to_string(2 << 20));
  auto seen = srv.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].method, "POST");
  EXPECT_EQ(seen[0].body, req.body);
  EXPECT_EQ(seen[0].Header("expect"), nullptr);
  EXPECT_EQ(*seen[0].Header("content-type"), "application/json");
  // Had curl waited for a 100-continue, this would take a second.
  EXPECT_LT(elapsed, milliseconds(900));
}

TEST(CurlHttpClient, OtherMethodsAndEmptyPost) {
  TestHttpServer srv([](const TestHttpRequest& r) {
    return TestHttpResponse{200, {}, r.method + ":" + r.body};
  });
  CurlHttpClient client;
  for (const char* m : {"PUT", "DELETE", "POST", "PATCH"}) {
    HttpRequest req;
    req.method = m;
    req.url = srv.url("/x");
    req.body = std::string(m) == "POST" ? "" : "data";
    auto r = client.Send(req, milliseconds(5000));
    ASSERT_TRUE(r.ok()) << m << " " << r.status().ToString();
    EXPECT_EQ(r->body, std::string(m) + ":" + req.body);
  }
  for (const auto& seen : srv.requests()) {
    // No invented form content type for bodies.
    EXPECT_EQ(seen.Header("content-type"), nullptr) << seen.method;
  }
  HttpRequest head;
  head.method = "HEAD";
  head.url = srv.url("/h");
  auto r = client.Send(head, milliseconds(5000));
  // The test server sends a body after HEAD anyway; curl must not read it as the body.
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "");
}

TEST(CurlHttpClient, ErrorStatusesAreResponses) {
  TestHttpServer srv([](const TestHttpRequest& r) {
    int status = std::stoi(r.target.substr(1));
    return TestHttpResponse{status, {{"x-amzn-ErrorType", "Boom"}}, "{\"message\":\"m\"}"};
  });
  CurlHttpClient client;
  for (int status : {400, 403, 404, 413, 429, 500, 503}) {
    HttpRequest req;
    req.url = srv.url("/" + std::to_string(status));
    auto r = client.Send(req, milliseconds(5000));
    ASSERT_TRUE(r.ok()) << status;
    EXPECT_EQ(r->status, status);
    EXPECT_EQ(r->body, "{\"message\":\"m\"}");
    EXPECT_EQ(*r->Header("x-amzn-errortype"), "Boom");
  }
}

TEST(CurlHttpClient, ReusesConnections) {
  TestHttpServer srv([](const TestHttpRequest&) { return TestHttpResponse{200, {}, "ok"}; });
  CurlHttpClient client;
  for (int i = 0; i < 5; ++i) {
    HttpRequest req;
    req.method = "POST";
    req.url = srv.url("/r");
    req.body = "n" + std::to_string(i);
    ASSERT_TRUE(client.Send(req, milliseconds(5000)).ok());
  }
  EXPECT_EQ(srv.requests().size(), 5u);
  EXPECT_EQ(srv.connections(), 1);
}

TEST(CurlHttpClient, ReconnectsAfterServerCloses) {
  TestHttpServer srv([](const TestHttpRequest&) {
    TestHttpResponse r{200, {}, "bye"};
    r.close = true;
    return r;
  });
  CurlHttpClient client;
  for (int i = 0; i < 3; ++i) {
    HttpRequest req;
    req.url = srv.url("/c");
    auto r = client.Send(req, milliseconds(5000));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->body, "bye");
  }
  EXPECT_EQ(srv.connections(), 3);
}

TEST(CurlHttpClient, TimeoutIsReportedAsTimeout) {
  TestHttpServer srv([](const TestHttpRequest&) {
    TestHttpResponse r{200, {}, "late"};
    r.delay = milliseconds(3000);
    return r;
  });
  CurlHttpClient client;
  HttpRequest req;
  req.url = srv.url("/slow");
  auto start = std::chrono::steady_clock::now();
  auto r = client.Send(req, milliseconds(200));
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(IsTimeout(r.status())) << r.status().ToString();
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_GE(elapsed, milliseconds(180));
  EXPECT_LT(elapsed, milliseconds(2000));
}

TEST(CurlHttpClient, ConnectionRefusedAndDroppedConnection) {
  int dead_port;
  {
    TestHttpServer srv([](const TestHttpRequest&) { return TestHttpResponse{}; });
    dead_port = srv.port();
  }
  CurlHttpClient client;
  HttpRequest req;
  req.url = "http://127.0.0.1:" + std::to_string(dead_port) + "/";
  auto r = client.Send(req, milliseconds(2000));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_FALSE(IsTimeout(r.status()));

  TestHttpServer dropper([](const TestHttpRequest&) {
    TestHttpResponse resp;
    resp.drop = true;
    return resp;
  });
  req.url = dropper.url("/");
  r = client.Send(req, milliseconds(2000));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_FALSE(IsTimeout(r.status()));
}

TEST(CurlHttpClient, ResponseSizeCap) {
  TestHttpServer srv([](const TestHttpRequest& r) {
    return TestHttpResponse{200, {}, std::string(std::stoul(r.target.substr(1)), 'z')};
  });
  CurlHttpClientOptions opts;
  opts.max_response_bytes = 100000;
  CurlHttpClient client(opts);
  HttpRequest req;
  req.url = srv.url("/100000");
  auto r = client.Send(req, milliseconds(5000));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->body.size(), 100000u);
  req.url = srv.url("/100001");
  r = client.Send(req, milliseconds(5000));
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted) << r.status().ToString();
  // A per-request cap overrides the client's.
  req.url = srv.url("/5000");
  req.max_response_bytes = 4999;
  r = client.Send(req, milliseconds(5000));
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
  req.max_response_bytes = 5000;
  r = client.Send(req, milliseconds(5000));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->body.size(), 5000u);
}

TEST(CurlHttpClient, ConcurrentCallsDoNotMixUp) {
  TestHttpServer srv([](const TestHttpRequest& r) {
    return TestHttpResponse{200, {}, "echo:" + r.body};
  });
  CurlHttpClient client;
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        HttpRequest req;
        req.method = "POST";
        req.url = srv.url("/e");
        req.body = std::to_string(t) + "-" + std::to_string(i);
        auto r = client.Send(req, milliseconds(5000));
        if (r.ok() && r->body == "echo:" + req.body) ++good;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(good.load(), 120);
  // Handles are pooled: far fewer connections than requests.
  EXPECT_LE(srv.connections(), 6 + 2);
}

TEST(CurlHttpClient, BadUrls) {
  CurlHttpClient client;
  HttpRequest req;
  req.url = "ftp://example.com/";
  EXPECT_EQ(client.Send(req, milliseconds(100)).status().code(), StatusCode::kInvalidArgument);
  req.url = "not a url";
  EXPECT_EQ(client.Send(req, milliseconds(100)).status().code(), StatusCode::kInvalidArgument);
}

TEST(ParseUrl, Parts) {
  UrlParts p;
  ASSERT_TRUE(
      ParseUrl("http://127.0.0.1:3002/2015-03-31/functions/f/invocations?Qualifier=%24LATEST", &p));
  EXPECT_EQ(p.scheme, "http");
  EXPECT_EQ(p.host, "127.0.0.1");
  EXPECT_EQ(p.port, 3002);
  EXPECT_EQ(p.path, "/2015-03-31/functions/f/invocations");
  EXPECT_EQ(p.query, "Qualifier=%24LATEST");
  EXPECT_EQ(p.HostHeader(), "127.0.0.1:3002");
  ASSERT_TRUE(ParseUrl("HTTPS://lambda.us-east-1.amazonaws.com", &p));
  EXPECT_EQ(p.scheme, "https");
  EXPECT_EQ(p.port, 0);
  EXPECT_EQ(p.path, "/");
  EXPECT_EQ(p.HostHeader(), "lambda.us-east-1.amazonaws.com");
  ASSERT_TRUE(ParseUrl("http://[::1]:8080/x#frag", &p));
  EXPECT_EQ(p.host, "::1");
  EXPECT_EQ(p.path, "/x");
  EXPECT_EQ(p.HostHeader(), "[::1]:8080");
  EXPECT_FALSE(ParseUrl("http://:80/", &p));
  EXPECT_FALSE(ParseUrl("http://h:99999/", &p));
  EXPECT_FALSE(ParseUrl("http://user@h/", &p));
  EXPECT_FALSE(ParseUrl("file:///etc/passwd", &p));
}

}  // namespace
}  // namespace hydrant::aws
