#pragma once
// TEST ONLY (header-only, not part of any library): a tiny blocking HTTP/1.1 server on
// 127.0.0.1:<ephemeral port> for unit tests of HTTP clients. One thread accepts, one
// thread per connection serves keep-alive requests in order. Requests need a
// Content-Length body (or none); responses are whatever the handler returns.
//
// Usage:
//   TestHttpServer srv([](const TestHttpRequest& r) { return TestHttpResponse{200, {}, "ok"}; });
//   ... "http://127.0.0.1:" + std::to_string(srv.port()) + "/path" ...
// The destructor stops the server, waking handlers waiting in a delay.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace hydrant::testing {

struct TestHttpRequest {
  std::string method;
  std::string target;  // path?query as received
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  int connection_id = 0;  // which accepted connection carried it (1, 2, ...)

  const std::string* Header(std::string_view name) const {
    for (const auto& h : headers) {
      if (h.first.size() != name.size()) continue;
      bool eq = true;
      for (size_t i = 0; i < name.size() && eq; ++i) {
        eq = std::tolower(static_cast<unsigned char>(h.first[i])) ==
             std::tolower(static_cast<unsigned char>(name[i]));
      }
      if (eq) return &h.second;
    }
    return nullptr;
  }
};

struct TestHttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds delay{0};  // wait before answering (timeouts)
  bool close = false;                  // close the connection after answering
  bool drop = false;                   // close without answering at all
};

class TestHttpServer {
 public:
  using Handler = std::function<TestHttpResponse(const TestHttpRequest&)>;

  explicit TestHttpServer(Handler handler) : handler_(std::move(handler)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    ::listen(listen_fd_, 64);
    socklen_t len = sizeof(addr);
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { AcceptLoop(); });
  }

  ~TestHttpServer() { Stop(); }

  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopped_) return;
      stopped_ = true;
      for (int fd : conn_fds_) ::shutdown(fd, SHUT_RDWR);
    }
    cv_.notify_all();
    ::shutdown(listen_fd_, SHUT_RDWR);
    ::close(listen_fd_);
    if (acceptor_.joinable()) acceptor_.join();
    std::vector<std::thread> threads;
    {
      std::lock_guard<std::mutex> lock(mu_);
      threads.swap(workers_);
    }
    for (auto& t : threads) t.join();
  }

  int port() const { return port_; }
  std::string url(std::string_view path = "/") const {
    return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
  }
  int connections() const { return connections_.load(); }
  std::vector<TestHttpRequest> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  void AcceptLoop() {
    while (true) {
      int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) return;
      std::lock_guard<std::mutex> lock(mu_);
      if (stopped_) {
        ::close(fd);
        return;
      }
      int id = ++connections_;
      conn_fds_.push_back(fd);
      workers_.emplace_back([this, fd, id] { Serve(fd, id); });
    }
  }

  static bool SendAll(int fd, std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  void Serve(int fd, int id) {
    std::string buf;
    char chunk[65536];
    while (true) {
      // Read the head.
      size_t head_end;
      while ((head_end = buf.find("\r\n\r\n")) == std::string::npos) {
        ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
        if (n <= 0) return Close(fd);
        buf.append(chunk, static_cast<size_t>(n));
      }
      TestHttpRequest req;
      req.connection_id = id;
      std::string_view head(buf.data(), head_end);
      size_t line_end = head.find("\r\n");
      std::string_view request_line = head.substr(0, line_end);
      size_t sp1 = request_line.find(' ');
      size_t sp2 = request_line.rfind(' ');
      req.method = std::string(request_line.substr(0, sp1));
      req.target = std::string(request_line.substr(sp1 + 1, sp2 - sp1 - 1));
      size_t content_length = 0;
      size_t pos = line_end == std::string_view::npos ? head.size() : line_end + 2;
      while (pos < head.size()) {
        size_t e = head.find("\r\n", pos);
        if (e == std::string_view::npos) e = head.size();
        std::string_view line = head.substr(pos, e - pos);
        size_t colon = line.find(':');
        if (colon != std::string_view::npos) {
          std::string_view v = line.substr(colon + 1);
          while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
          req.headers.emplace_back(std::string(line.substr(0, colon)), std::string(v));
        }
        pos = e + 2;
      }
      if (const std::string* cl = req.Header("content-length")) content_length = std::stoul(*cl);
      buf.erase(0, head_end + 4);
      while (buf.size() < content_length) {
        ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
        if (n <= 0) return Close(fd);
        buf.append(chunk, static_cast<size_t>(n));
      }
      req.body = buf.substr(0, content_length);
      buf.erase(0, content_length);
      {
        std::lock_guard<std::mutex> lock(mu_);
        requests_.push_back(req);
      }
      TestHttpResponse resp = handler_(req);
      if (resp.delay.count() > 0) {
        bool stopping;
        {
          std::unique_lock<std::mutex> lock(mu_);
          stopping = cv_.wait_for(lock, resp.delay, [this] { return stopped_; });
        }
        if (stopping) return Close(fd);
      }
      if (resp.drop) return Close(fd);
      std::string out = "HTTP/1.1 " + std::to_string(resp.status) + " X\r\n";
      bool has_length = false;
      for (const auto& [k, v] : resp.headers) {
        out += k + ": " + v + "\r\n";
        if (k == "Content-Length") has_length = true;
      }
      if (!has_length) out += "Content-Length: " + std::to_string(resp.body.size()) + "\r\n";
      if (resp.close) out += "Connection: close\r\n";
      out += "\r\n";
      out += resp.body;
      if (!SendAll(fd, out) || resp.close) return Close(fd);
    }
  }

  void Close(int fd) {
    std::lock_guard<std::mutex> lock(mu_);
    ::close(fd);
    for (auto it = conn_fds_.begin(); it != conn_fds_.end(); ++it) {
      if (*it == fd) {
        conn_fds_.erase(it);
        break;
      }
    }
  }

  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::thread acceptor_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopped_ = false;
  std::vector<int> conn_fds_;
  std::vector<std::thread> workers_;
  std::vector<TestHttpRequest> requests_;
  std::atomic<int> connections_{0};
};

}  // namespace hydrant::testing
