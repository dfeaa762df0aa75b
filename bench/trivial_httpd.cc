// hydrant_trivial_httpd: the machine's loopback HTTP ceiling. Answers every
// request (any method, body read and discarded) with "200 OK" and a 2-byte body,
// keep-alive, one thread per connection, no parsing beyond Content-Length.
// hydrant_loadgen against it gives the request rate and body bandwidth a real
// server could reach at best on this machine, with the same client.
//
// Usage: hydrant_trivial_httpd [PORT]   (0 or absent = any free port; prints "port N")

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>

namespace {

void Serve(int fd) {
  static const char kAnswer[] =
      "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: 2\r\n\r\n{}";
  std::string buf;
  char tmp[1 << 16];
  for (;;) {
    size_t hdr_end;
    while ((hdr_end = buf.find("\r\n\r\n")) == std::string::npos) {
      ssize_t r = ::read(fd, tmp, sizeof tmp);
      if (r <= 0) return (void)::close(fd);
      buf.append(tmp, static_cast<size_t>(r));
    }
    size_t clen = 0;
    std::string_view h(buf.data(), hdr_end);
    for (size_t pos = 0; pos < h.size();) {
      size_t eol = h.find("\r\n", pos);
      if (eol == std::string_view::npos) eol = h.size();
      std::string_view line = h.substr(pos, eol - pos);
      if (line.size() > 15 && strncasecmp(line.data(), "content-length:", 15) == 0) {
        clen = std::strtoull(std::string(line.substr(15)).c_str(), nullptr, 10);
      }
      pos = eol + 2;
    }
    size_t need = hdr_end + 4 + clen;
    // Discard the body without keeping it all (it may be megabytes).
    size_t have = buf.size();
    while (have < need) {
      ssize_t r = ::read(fd, tmp, std::min(sizeof tmp, need - have));
      if (r <= 0) return (void)::close(fd);
      have += static_cast<size_t>(r);
    }
    buf.erase(0, std::min(need, buf.size()));
    if (::write(fd, kAnswer, sizeof kAnswer - 1) != static_cast<ssize_t>(sizeof kAnswer - 1)) {
      return (void)::close(fd);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  int port = argc > 1 ? std::atoi(argv[1]) : 0;
  int ls = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(ls, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(ls, 128) != 0) {
    std::perror("bind/listen");
    return 1;
  }
  socklen_t len = sizeof a;
  ::getsockname(ls, reinterpret_cast<sockaddr*>(&a), &len);
  std::printf("port %d\n", ntohs(a.sin_port));
  std::fflush(stdout);
  for (;;) {
    int fd = ::accept(ls, nullptr, nullptr);
    if (fd < 0) continue;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::thread(Serve, fd).detach();
  }
}
