// What passes between hydrant and a worker process (see local_runtime_function.h):
// length-prefixed frames on the socket (fd 3 in the worker), and the worker's
// stdout/stderr, read line by line into its log stream.

#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>

#include "common/log_fields.h"
#include "logs/log_store.h"
#include "processing/local_runtime_function.h"

namespace hydrant::processing {

using Function = LocalHandlerInvoker::Function;

namespace {

// Lambda's payload limit for a response: 6,291,556 bytes.
constexpr size_t kMaxResponseBytes = 6291556;
constexpr size_t kMaxHeaderBytes = 16 * 1024 * 1024;  // error documents with huge traces

void PutBe32(std::string* out, uint32_t v) {
  out->push_back(static_cast<char>(v >> 24));
  out->push_back(static_cast<char>(v >> 16));
  out->push_back(static_cast<char>(v >> 8));
  out->push_back(static_cast<char>(v));
}

uint32_t GetBe32(const char* p) {
  auto b = reinterpret_cast<const unsigned char*>(p);
  return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | b[3];
}

}  // namespace

void Function::Log(Worker& w, std::vector<std::string> messages) {
  logs::LogStore* store = options->log_store;
  if (store == nullptr || messages.empty()) return;
  int64_t now = NowMs();
  std::vector<logs::InputEvent> events;
  events.reserve(messages.size());
  for (auto& m : messages) events.push_back({now, std::move(m)});
  Status st = store->Append(log_group, w.log_stream, events);
  if (!st.ok())
    spdlog::warn("lambda={} event=log_append_failed error={}", config.name,
                 LogQuote(st.ToString()));
}

void Function::Log(Worker& w, std::string message) {
  std::vector<std::string> v;
  v.push_back(std::move(message));
  Log(w, std::move(v));
}

bool Function::PumpOutput(Worker& w, bool flush_partial) {
  bool open = true;
  std::vector<std::string> lines;
  char buf[65536];
  while (w.log_fd >= 0) {
    ssize_t n = ::read(w.log_fd, buf, sizeof buf);
    if (n > 0) {
      w.partial.append(buf, static_cast<size_t>(n));
      size_t start = 0, nl;
      while ((nl = w.partial.find('\n', start)) != std::string::npos) {
        size_t end = nl;
        if (end > start && w.partial[end - 1] == '\r') --end;
        lines.emplace_back(w.partial, start, end - start);
        start = nl + 1;
      }
      w.partial.erase(0, start);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
      ::close(w.log_fd);
      w.log_fd = -1;
      open = false;
    }
    break;
  }
  if ((flush_partial || !open) && !w.partial.empty()) {
    lines.push_back(std::move(w.partial));
    w.partial.clear();
  }
  Log(w, std::move(lines));
  return open;
}

Function::ReadStatus Function::ReadMessage(Worker& w, SteadyClock::time_point deadline,
                                           std::string* header, std::string* body) {
  for (;;) {
    if (w.inbuf.size() >= 4) {
      uint32_t hl = GetBe32(w.inbuf.data());
      if (hl > kMaxHeaderBytes) return ReadStatus::kTooLarge;
      if (w.inbuf.size() >= size_t{8} + hl) {
        uint32_t bl = GetBe32(w.inbuf.data() + 4 + hl);
        if (bl > kMaxResponseBytes) return ReadStatus::kTooLarge;
        if (w.inbuf.size() >= size_t{8} + hl + bl) {
          header->assign(w.inbuf, 4, hl);
          body->assign(w.inbuf, 8 + hl, bl);
          w.inbuf.erase(0, size_t{8} + hl + bl);
          return ReadStatus::kOk;
        }
      }
    }
    auto now = SteadyClock::now();
    if (now >= deadline) return ReadStatus::kTimeout;
    auto wait = std::chrono::ceil<std::chrono::milliseconds>(deadline - now).count();
    pollfd fds[2] = {{w.sock, POLLIN, 0}, {w.log_fd, POLLIN, 0}};
    int rc = ::poll(fds, w.log_fd >= 0 ? 2 : 1, static_cast<int>(std::min<int64_t>(wait, INT_MAX)));
    if (rc < 0) {
      if (errno == EINTR) continue;
      return ReadStatus::kClosed;
    }
    if (w.log_fd >= 0 && fds[1].revents != 0) PumpOutput(w, false);
    if (fds[0].revents != 0) {
      char buf[65536];
      ssize_t n = ::recv(w.sock, buf, sizeof buf, MSG_DONTWAIT);
      if (n > 0) {
        w.inbuf.append(buf, static_cast<size_t>(n));
      } else if (n == 0 || (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)) {
        return ReadStatus::kClosed;
      }
    }
  }
}

Function::SendStatus Function::SendMessage(Worker& w, std::string_view header,
                                           std::string_view body,
                                           SteadyClock::time_point deadline) {
  std::string frame;
  frame.reserve(8 + header.size() + body.size());
  PutBe32(&frame, static_cast<uint32_t>(header.size()));
  frame += header;
  PutBe32(&frame, static_cast<uint32_t>(body.size()));
  frame += body;
  size_t off = 0;
  while (off < frame.size()) {
    ssize_t n = ::send(w.sock, frame.data() + off, frame.size() - off, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      off += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      auto now = SteadyClock::now();
      if (now >= deadline) return SendStatus::kTimeout;
      auto wait = std::chrono::ceil<std::chrono::milliseconds>(deadline - now).count();
      pollfd fds[2] = {{w.sock, POLLOUT, 0}, {w.log_fd, POLLIN, 0}};
      if (::poll(fds, w.log_fd >= 0 ? 2 : 1, static_cast<int>(std::min<int64_t>(wait, INT_MAX))) >
              0 &&
          w.log_fd >= 0 && fds[1].revents != 0)
        PumpOutput(w, false);
      continue;
    }
    return SendStatus::kClosed;
  }
  return SendStatus::kOk;
}

}  // namespace hydrant::processing
