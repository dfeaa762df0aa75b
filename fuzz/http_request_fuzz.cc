// Fuzz target: the HTTP request path of the real listener (server/http_server.h):
// one HttpServer runs in-process on a loopback port with a handler that reads
// the parsed request the way the APIs do (path, query, headers, percent
// decoding); each input is written raw to a new connection, the write side is
// shut, and the answer is read until the server closes.
// Checks: no crash or sanitizer report in the server threads; the server closes
// every connection after its client's EOF (a hang is reported after 20 s, with
// the kernel's view of the connection and whether a fresh connection is still
// answered); any answer starts with a status line.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "fuzz/fuzz_util.h"
#include "server/http_server.h"
#include "server/http_types.h"

namespace server = hydrant::server;
namespace http = hydrant::http;

namespace {

constexpr int kAnswerTimeoutMs = 20'000;

void Handle(http::Request&& req, http::Respond respond) {
  size_t n = req.body.size();
  for (const auto& [k, v] : http::ParseQuery(req.Query())) n += k.size() + v.size();
  if (auto p = http::PercentDecode(req.Path())) n += p->size();
  n += req.Header("Content-Type").size() + req.Header("X-Amz-Target").size();
  http::Response r = http::JsonReply(200, "{\"n\":" + std::to_string(n) + "}");
  respond(std::move(r));
}

// Waits up to kAnswerTimeoutMs for `fd` to be readable. libFuzzer's timeout
// alarm (SIGALRM, every second) interrupts poll: EINTR is not an answer.
bool WaitReadable(int fd) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kAnswerTimeoutMs);
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    int ready = ::poll(&p, 1, static_cast<int>(left.count()));
    if (ready > 0) return true;
    if (ready < 0 && errno != EINTR) return false;
  }
}

int Connect(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  FUZZ_CHECK(fd >= 0, "socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  FUZZ_CHECK(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0, "connect");
  return fd;
}

// Sends `bytes`, shuts the write side and reads until the server closes. False
// when the server keeps the connection open for kAnswerTimeoutMs.
bool Exchange(int fd, std::string_view bytes, std::string* answer) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server may close early (a bad request): fine
    sent += static_cast<size_t>(n);
  }
  ::shutdown(fd, SHUT_WR);
  char buf[16384];
  while (true) {
    if (!WaitReadable(fd)) return false;
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) return true;  // EOF or reset
    if (answer->size() < 64) answer->append(buf, static_cast<size_t>(n));
  }
}

// Prints what the kernel knows of the stuck connection and whether the server
// still answers a new one, to tell a stuck session from a stalled server.
void DescribeHang(int fd, uint16_t port) {
  sockaddr_in local{};
  socklen_t len = sizeof(local);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len);
  std::string cmd = "ss -tanoi '( sport = :" + std::to_string(ntohs(local.sin_port)) +
                    " or dport = :" + std::to_string(ntohs(local.sin_port)) + " )' >&2";
  std::fprintf(stderr, "stuck connection, client port %d:\n", ntohs(local.sin_port));
  (void)std::system(cmd.c_str());
  int probe = Connect(port);
  std::string answer;
  bool ok = Exchange(probe, "GET / HTTP/1.1\r\nHost: h\r\n\r\n", &answer);
  std::fprintf(stderr, "a fresh connection %s\n",
               ok && !answer.empty() ? "is answered" : "is not answered either");
  ::close(probe);
  // Slow (the server catches up) or stuck (the session never closes)?
  bool closed_later = WaitReadable(fd);
  std::fprintf(stderr, "the stuck connection %s\n",
               closed_later ? "was served or closed later: the server was slow"
                            : "is still open 20 s later: the session is stuck");
}

uint16_t Port() {
  static std::unique_ptr<server::HttpServer> srv = [] {
    server::HttpServerOptions opts;
    opts.host = "127.0.0.1";
    opts.port = 0;
    opts.threads = 1;
    auto s = server::HttpServer::Start(opts, Handle);
    FUZZ_CHECK(s.ok(), "cannot start the server: " + s.status().ToString());
    return std::move(s).value();
  }();
  return srv->port();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const uint16_t port = Port();
  int fd = Connect(port);
  std::string answer;
  if (!Exchange(fd, hydrant::fuzz::AsView(data, size), &answer)) {
    DescribeHang(fd, port);
    FUZZ_CHECK(false, "the server kept the connection open after the client's EOF");
  }
  ::close(fd);
  if (!answer.empty()) {
    FUZZ_CHECK(answer.rfind("HTTP/1.", 0) == 0, "an answer without a status line: " + answer);
  }
  return 0;
}
