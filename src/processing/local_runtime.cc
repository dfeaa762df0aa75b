#include "processing/local_runtime.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <mutex>
#include <random>

#include "common/clock.h"
#include "common/file_util.h"
#include "common/log_fields.h"
#include "logs/log_store.h"

extern char** environ;

namespace hydrant::processing {

namespace json = boost::json;
using SteadyClock = std::chrono::steady_clock;

namespace {

// Lambda's payload limits: 6 MB for a synchronous request, 6,291,556 bytes for a
// response.
constexpr size_t kMaxRequestBytes = 6 * 1024 * 1024;
constexpr size_t kMaxResponseBytes = 6291556;
constexpr size_t kMaxHeaderBytes = 16 * 1024 * 1024;  // error documents with huge traces
// Lambda gives a function's initialisation (imports, top-level code) 10 seconds.
constexpr std::chrono::seconds kInitTimeout{10};
constexpr int kMaxTimeoutSeconds = 300;
constexpr std::string_view kFunctionError = "Lambda.FunctionError";
constexpr std::string_view kFunctionErrorMessage =
    "The Lambda function was successfully invoked but it returned an error result.";

enum class Family { kPython, kNode };

// Variables Lambda sets itself; a function's configuration may not override them
// (Lambda refuses them as "reserved keys" as well).
constexpr std::string_view kReservedVariables[] = {
    "_HANDLER",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
};

std::string RandomHex(size_t bytes) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  while (out.size() < bytes * 2) {
    uint64_t v = rng();
    for (int i = 0; i < 16 && out.size() < bytes * 2; ++i, v >>= 4) out.push_back(kDigits[v & 15]);
  }
  return out;
}

// A version 4 UUID, as Lambda's request ids.
std::string NewRequestId() {
  std::string h = RandomHex(16);
  h[12] = '4';
  h[16] = "89ab"[h[16] % 4];
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20);
}

std::string IsoTime(int64_t ms) {
  time_t secs = static_cast<time_t>(ms / 1000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

std::string NewLogStreamName(int64_t now_ms) {
  time_t secs = static_cast<time_t>(now_ms / 1000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d/%02d/%02d/", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
  return std::string(buf) + "[$LATEST]" + RandomHex(16);
}

std::string Fixed2(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

double MillisSince(SteadyClock::time_point t) {
  return std::chrono::duration<double, std::milli>(SteadyClock::now() - t).count();
}

int64_t NowMs() { return SystemClock::Get().NowMillis(); }

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

bool IsRegularFile(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool IsDirectory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// What identifies a version of the handler file: its modification time and size (the
// size too, as the kernel's file times are only as fine as its clock tick).
struct CodeStamp {
  int64_t mtime_ns = 0;
  int64_t size = -1;
  bool operator==(const CodeStamp&) const = default;
};

CodeStamp StampOf(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return {};
  return {int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec, int64_t{st.st_size}};
}

std::string AbsolutePath(const std::string& path) {
  char buf[PATH_MAX];
  if (::realpath(path.c_str(), buf) != nullptr) return buf;
  return path;
}

// One worker process and hydrant's ends of its socket and output pipe.
struct Worker {
  pid_t pid = -1;
  int sock = -1;
  int log_fd = -1;
  std::string log_stream;
  std::string inbuf;    // bytes read from the socket, not yet a whole message
  std::string partial;  // output after the last newline
  CodeStamp code_stamp;
  bool first_invoke = true;
  double init_ms = 0;
  int64_t max_memory_mb = 0;

  bool alive() const { return pid > 0; }
};

}  // namespace

struct LocalHandlerInvoker::Function {
  LocalFunctionConfig config;
  Family family = Family::kPython;
  std::string task_root;
  std::string module_file;
  std::string module_name;
  std::string function_name;
  std::string handler_notation;
  std::string arn;
  std::string log_group;
  std::string worker_script;
  const LocalRuntimeOptions* options = nullptr;

  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::unique_ptr<Worker>> idle;  // guarded by mu
  int workers = 0;                            // idle + busy; guarded by mu
  std::string runtime_version;                // guarded by mu

  // --- log output -------------------------------------------------------------
  void Log(Worker& w, std::vector<std::string> messages) {
    logs::LogStore* store = options->log_store;
    if (store == nullptr || messages.empty()) return;
    int64_t now = NowMs();
    std::vector<logs::InputEvent> events;
    events.reserve(messages.size());
    for (auto& m : messages) events.push_back({now, std::move(m)});
    Status st = store->Append(log_group, w.log_stream, events);
    if (!st.ok())
      spdlog::warn("lambda={} event=log_append_failed error={}", config.name, LogQuote(st.ToString()));
  }
  void Log(Worker& w, std::string message) {
    std::vector<std::string> v;
    v.push_back(std::move(message));
    Log(w, std::move(v));
  }

  // Reads what the worker wrote to stdout/stderr, one event per line. Returns false
  // once the pipe is closed (every writer gone).
  bool PumpOutput(Worker& w, bool flush_partial) {
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

  // --- the protocol -------------------------------------------------------------
  enum class ReadStatus { kOk, kTimeout, kClosed, kTooLarge };

  ReadStatus ReadMessage(Worker& w, SteadyClock::time_point deadline, std::string* header,
                         std::string* body) {
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
      int rc =
          ::poll(fds, w.log_fd >= 0 ? 2 : 1, static_cast<int>(std::min<int64_t>(wait, INT_MAX)));
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

  enum class SendStatus { kOk, kTimeout, kClosed };

  SendStatus SendMessage(Worker& w, std::string_view header, std::string_view body,
                         SteadyClock::time_point deadline) {
    std::string frame;
    frame.reserve(8 + header.size() + body.size());
    PutBe32(&frame, static_cast<uint32_t>(header.size()));
    frame += header;
    PutBe32(&frame, static_cast<uint32_t>(body.size()));
    frame += body;
    size_t off = 0;
    while (off < frame.size()) {
      ssize_t n =
          ::send(w.sock, frame.data() + off, frame.size() - off, MSG_NOSIGNAL | MSG_DONTWAIT);
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

  // --- processes ------------------------------------------------------------------
  Status Spawn(Worker& w) {
    const LocalRuntimeOptions& o = *options;
    w.log_stream = NewLogStreamName(NowMs());
    w.code_stamp = StampOf(module_file);
    w.first_invoke = true;
    w.inbuf.clear();
    w.partial.clear();

    int sv[2], lp[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
      return Status::FromErrno("socketpair", errno);
    if (::pipe2(lp, O_CLOEXEC) != 0) {
      int err = errno;
      ::close(sv[0]);
      ::close(sv[1]);
      return Status::FromErrno("pipe", err);
    }
    int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    // The child's ends move to fds >= 10 so that no dup2 below has a source that is
    // also one of the targets 0-3.
    auto lift = [](int fd) {
      if (fd < 0) return fd;
      int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, 10);
      ::close(fd);
      return moved;
    };
    int child_sock = lift(sv[1]);
    int child_out = lift(lp[1]);
    int child_null = lift(devnull);

    std::map<std::string, std::string> env;
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
      std::string_view kv(*e);
      size_t eq = kv.find('=');
      if (eq != std::string_view::npos)
        env[std::string(kv.substr(0, eq))] = std::string(kv.substr(eq + 1));
    }
    bool python = family == Family::kPython;
    env["AWS_LAMBDA_FUNCTION_NAME"] = config.name;
    env["AWS_LAMBDA_FUNCTION_VERSION"] = "$LATEST";
    env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = std::to_string(config.memory_mb);
    env["AWS_LAMBDA_LOG_GROUP_NAME"] = log_group;
    env["AWS_LAMBDA_LOG_STREAM_NAME"] = w.log_stream;
    env["AWS_LAMBDA_INITIALIZATION_TYPE"] = "on-demand";
    env["AWS_REGION"] = o.region;
    env["AWS_DEFAULT_REGION"] = o.region;
    env["AWS_EXECUTION_ENV"] = python ? "AWS_Lambda_python3" : "AWS_Lambda_nodejs";
    env["LAMBDA_TASK_ROOT"] = task_root;
    env["LAMBDA_RUNTIME_DIR"] = o.worker_dir;
    env["_HANDLER"] = handler_notation;
    env["TZ"] = ":UTC";
    if (python && !env.count("PYTHONIOENCODING")) env["PYTHONIOENCODING"] = "utf-8";
    for (const auto& [k, v] : config.environment) env[k] = v;
    std::vector<std::string> env_strings;
    for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);

    std::vector<std::string> args = {python ? o.python : o.node,
                                     worker_script,
                                     task_root,
                                     module_file,
                                     module_name,
                                     function_name};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, child_null, 0);
    posix_spawn_file_actions_adddup2(&fa, child_out, 1);
    posix_spawn_file_actions_adddup2(&fa, child_out, 2);
    posix_spawn_file_actions_adddup2(&fa, child_sock, 3);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    // Whatever else hydrant has open (without O_CLOEXEC) stays out of the worker.
    posix_spawn_file_actions_addclosefrom_np(&fa, 4);
#endif
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    // Its own process group, so a timeout kills whatever the handler started too.
    posix_spawnattr_setpgroup(&attr, 0);
    sigset_t mask, defaults;
    sigemptyset(&mask);
    sigemptyset(&defaults);
    for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2, SIGALRM})
      sigaddset(&defaults, sig);
    posix_spawnattr_setsigmask(&attr, &mask);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setflags(
        &attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

    pid_t pid = -1;
    int rc = python ? ::posix_spawn(&pid, args[0].c_str(), &fa, &attr, argv.data(), envp.data())
                    : ::posix_spawnp(&pid, args[0].c_str(), &fa, &attr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    for (int fd : {child_sock, child_out, child_null})
      if (fd >= 0) ::close(fd);
    if (rc != 0) {
      ::close(sv[0]);
      ::close(lp[0]);
      return Status::FromErrno("cannot start " + args[0], rc);
    }
    w.pid = pid;
    w.sock = sv[0];
    w.log_fd = lp[0];
    ::fcntl(w.log_fd, F_SETFL, ::fcntl(w.log_fd, F_GETFL) | O_NONBLOCK);
    return Status::Ok();
  }

  void UpdateMemory(Worker& w) {
    if (!w.alive()) return;
    std::ifstream in("/proc/" + std::to_string(w.pid) + "/status");
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("VmHWM:", 0) == 0) {
        int64_t kb = std::atoll(line.c_str() + 6);
        w.max_memory_mb = std::max(w.max_memory_mb, (kb + 1023) / 1024);
        break;
      }
    }
  }

  void CloseFds(Worker& w) {
    if (w.sock >= 0) ::close(w.sock);
    if (w.log_fd >= 0) ::close(w.log_fd);
    w.sock = w.log_fd = -1;
    w.pid = -1;
  }

  // Kills the worker and its process group, keeping what it had already written.
  void Kill(Worker& w) {
    if (!w.alive()) return;
    ::kill(-w.pid, SIGKILL);
    ::kill(w.pid, SIGKILL);
    int status;
    while (::waitpid(w.pid, &status, 0) < 0 && errno == EINTR) {
    }
    PumpOutput(w, true);
    CloseFds(w);
  }

  // The worker closed its socket: waits (briefly) for it to exit and says how, as
  // Lambda does ("exit status 1", "signal: killed").
  std::string Reap(Worker& w) {
    std::string how = "exit status unknown";
    siginfo_t info{};
    auto give_up = SteadyClock::now() + std::chrono::seconds(2);
    bool exited = false;
    while (SteadyClock::now() < give_up) {
      info.si_pid = 0;
      if (::waitid(P_PID, static_cast<id_t>(w.pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
        if (errno == EINTR) continue;
        break;  // ECHILD: someone else reaps children
      }
      if (info.si_pid == w.pid) {
        exited = true;
        break;
      }
      ::usleep(2000);
    }
    if (exited) {
      if (info.si_code == CLD_EXITED) {
        how = "exit status " + std::to_string(info.si_status);
      } else {
        std::string name = ::strsignal(info.si_status);
        if (!name.empty()) name[0] = static_cast<char>(std::tolower(name[0]));
        how = "signal: " + name;
      }
    }
    Kill(w);  // reaps it, and ends whatever it left running in its group
    return how;
  }

  // --- the pool ---------------------------------------------------------------------
  std::unique_ptr<Worker> Acquire(SteadyClock::time_point deadline) {
    std::unique_lock lock(mu);
    while (idle.empty() && workers >= config.pool_size) {
      if (cv.wait_until(lock, deadline) == std::cv_status::timeout && idle.empty() &&
          workers >= config.pool_size)
        return nullptr;
    }
    if (!idle.empty()) {
      auto w = std::move(idle.back());  // the most recently used: its caches are warm
      idle.pop_back();
      return w;
    }
    ++workers;
    return std::make_unique<Worker>();
  }

  void Release(std::unique_ptr<Worker> w) {
    {
      std::lock_guard lock(mu);
      if (w->alive()) {
        idle.push_back(std::move(w));
      } else {
        --workers;
      }
    }
    cv.notify_one();
  }

  InvokeResult Invoke(const FunctionRef& fn, const std::string& event_json,
                      std::chrono::milliseconds timeout);
};

namespace {

InvokeResult FunctionErrorResult(std::string payload) {
  InvokeResult r;
  r.kind = InvokeResult::Kind::kFunctionError;
  r.payload = std::move(payload);
  r.error_code = std::string(kFunctionError);
  r.error_message = std::string(kFunctionErrorMessage);
  return r;
}

std::string ErrorDocument(std::string_view type, std::string_view message) {
  json::object o;
  o["errorType"] = type;
  o["errorMessage"] = message;
  return json::serialize(o);
}

InvokeResult TimeoutResult(std::string payload) {
  InvokeResult r;
  r.kind = InvokeResult::Kind::kRetryable;
  r.payload = std::move(payload);
  r.error_code = std::string(kTimeoutErrorCode);
  r.error_message = std::string(kTimeoutErrorMessage);
  return r;
}

}  // namespace

InvokeResult LocalHandlerInvoker::Function::Invoke(const FunctionRef& fn,
                                                   const std::string& event_json,
                                                   std::chrono::milliseconds timeout) {
  const auto call_start = SteadyClock::now();
  const auto call_deadline = call_start + timeout;
  const std::string request_id = NewRequestId();
  auto finish = [&](InvokeResult r) {
    r.duration_ms = static_cast<int64_t>(MillisSince(call_start) + 0.5);
    return r;
  };

  std::unique_ptr<Worker> w = Acquire(call_deadline);
  if (!w) {
    InvokeResult r;
    r.kind = InvokeResult::Kind::kRetryable;
    r.error_code = "Lambda.InvokeLimitExceeded";
    r.error_message = "Rate Exceeded.";
    r.payload = json::serialize(json::object{{"Type", "User"}, {"message", "Rate Exceeded."}});
    return finish(std::move(r));
  }
  // A process that died while idle, or runs code that has since been edited, is
  // replaced (Lambda starts new environments for new code too).
  if (w->alive()) {
    siginfo_t info{};
    bool exited =
        ::waitid(P_PID, static_cast<id_t>(w->pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
        info.si_pid == w->pid;
    if (exited || !(StampOf(module_file) == w->code_stamp)) Kill(*w);
  }

  std::string header, body;
  if (!w->alive()) {
    auto init_start = SteadyClock::now();
    Status st = Spawn(*w);
    if (!st.ok()) {
      spdlog::error("lambda={} errorCode=Runtime.InvalidEntrypoint event=worker_spawn_failed error={}",
                    config.name, LogQuote(st.ToString()));
      std::string doc = ErrorDocument("Runtime.InvalidEntrypoint",
                                      "RequestId: " + request_id + " Error: " + st.message());
      Release(std::move(w));
      return finish(FunctionErrorResult(std::move(doc)));
    }
    auto init_deadline = std::min(call_deadline, init_start + kInitTimeout);
    ReadStatus rs = ReadMessage(*w, init_deadline, &header, &body);
    w->init_ms = MillisSince(init_start);
    std::string init_report =
        "INIT_REPORT Init Duration: " + Fixed2(w->init_ms) + " ms\tPhase: init\t";
    json::error_code ec;
    json::value h = rs == ReadStatus::kOk ? json::parse(header, ec) : json::value();
    const json::object* ho = h.if_object();
    const json::value* type = ho ? ho->if_contains("type") : nullptr;
    if (rs == ReadStatus::kOk && type && type->is_string() && type->as_string() == "ready") {
      if (const json::value* v = ho->if_contains("runtime"); v && v->is_string()) {
        std::lock_guard lock(mu);
        runtime_version = std::string(v->as_string());
      }
    } else if (rs == ReadStatus::kOk && type && type->is_string() &&
               type->as_string() == "init_error") {
      const json::value* err = ho->if_contains("error");
      const json::value* log = ho->if_contains("log");
      std::string doc = err && err->is_object() ? json::serialize(*err)
                                                : ErrorDocument("Runtime.Unknown", "init failed");
      std::string etype = "Runtime.Unknown";
      if (err && err->is_object())
        if (auto* t = err->as_object().if_contains("errorType"); t && t->is_string())
          etype = std::string(t->as_string());
      Kill(*w);
      if (log && log->is_string()) Log(*w, std::string(log->as_string()));
      Log(*w, init_report + "Status: error\tError Type: " + etype);
      Release(std::move(w));
      return finish(FunctionErrorResult(std::move(doc)));
    } else if (rs == ReadStatus::kTimeout) {
      Kill(*w);
      Log(*w, init_report + "Status: timeout");
      Release(std::move(w));
      return finish(TimeoutResult(ErrorDocument(
          "Sandbox.Timedout", "RequestId: " + request_id + " Error: Task timed out after " +
                                  Fixed2(MillisSince(init_start) / 1000) + " seconds")));
    } else {
      std::string how = rs == ReadStatus::kClosed ? Reap(*w) : (Kill(*w), "bad init message");
      Log(*w, init_report + "Status: error\tError Type: Runtime.ExitError");
      Release(std::move(w));
      return finish(FunctionErrorResult(
          ErrorDocument("Runtime.ExitError",
                        "RequestId: " + request_id + " Error: Runtime exited with error: " + how)));
    }
  }

  // The invocation proper.
  const auto fn_timeout = std::chrono::seconds(config.timeout_seconds);
  const auto start = SteadyClock::now();
  const auto deadline = std::min(
      call_deadline, start + std::chrono::duration_cast<SteadyClock::duration>(fn_timeout));
  const int64_t deadline_epoch_ms =
      NowMs() + std::chrono::duration_cast<std::chrono::milliseconds>(deadline - start).count();
  std::string invoked_arn = fn.arn.rfind("arn:", 0) == 0
                                ? fn.arn
                                : arn + (fn.qualifier.empty() ? "" : ":" + fn.qualifier);
  Log(*w, "START RequestId: " + request_id + " Version: $LATEST");

  json::object req;
  req["requestId"] = request_id;
  req["invokedFunctionArn"] = invoked_arn;
  req["deadlineMs"] = deadline_epoch_ms;
  SendStatus ss = SendMessage(*w, json::serialize(req), event_json, deadline);
  ReadStatus rs = ReadStatus::kClosed;
  if (ss == SendStatus::kOk)
    rs = ReadMessage(*w, deadline, &header, &body);
  else if (ss == SendStatus::kTimeout)
    rs = ReadStatus::kTimeout;
  const double duration = MillisSince(start);
  UpdateMemory(*w);

  InvokeResult result;
  std::string status_suffix;
  if (rs == ReadStatus::kOk) {
    PumpOutput(*w, true);  // the worker flushed its output before answering
    json::error_code ec;
    json::value h = json::parse(header, ec);
    const json::object* ho = h.if_object();
    const json::value* type = ho ? ho->if_contains("type") : nullptr;
    if (type && type->is_string() && type->as_string() == "result") {
      result.kind = InvokeResult::Kind::kOk;
      result.payload = std::move(body);
    } else if (type && type->is_string() && type->as_string() == "error") {
      const json::value* err = ho->if_contains("error");
      const json::value* log = ho->if_contains("log");
      if (log && log->is_string()) Log(*w, std::string(log->as_string()));
      result = FunctionErrorResult(err && err->is_object() ? json::serialize(*err)
                                                           : ErrorDocument("Runtime.Unknown", ""));
      if (const json::value* fatal = ho->if_contains("fatal");
          fatal && fatal->is_bool() && fatal->as_bool())
        Reap(*w);  // it exits after an uncaught exception, as Lambda's runtime does
    } else {
      Kill(*w);
      result = FunctionErrorResult(
          ErrorDocument("Runtime.InvalidResponse", "bad message from the worker"));
    }
  } else if (rs == ReadStatus::kTimeout) {
    Kill(*w);
    double secs = std::chrono::duration<double>(deadline - start).count();
    Log(*w,
        IsoTime(NowMs()) + " " + request_id + " Task timed out after " + Fixed2(secs) + " seconds");
    result = TimeoutResult(ErrorDocument(
        "Sandbox.Timedout",
        "RequestId: " + request_id + " Error: Task timed out after " + Fixed2(secs) + " seconds"));
    status_suffix = "Status: timeout";
  } else if (rs == ReadStatus::kTooLarge) {
    Kill(*w);
    result = FunctionErrorResult(ErrorDocument(
        "Function.ResponseSizeTooLarge",
        "Response payload size exceeded maximum allowed payload size (6291556 bytes)."));
    status_suffix = "Status: error\tError Type: Function.ResponseSizeTooLarge";
  } else {
    std::string how = Reap(*w);
    std::string message = "RequestId: " + request_id + " Error: Runtime exited with error: " + how;
    Log(*w, message + "\nRuntime.ExitError");
    result = FunctionErrorResult(ErrorDocument("Runtime.ExitError", message));
    status_suffix = "Status: error\tError Type: Runtime.ExitError";
  }

  Log(*w, "END RequestId: " + request_id);
  std::string report =
      "REPORT RequestId: " + request_id + "\tDuration: " + Fixed2(duration) +
      " ms\tBilled Duration: " + std::to_string(static_cast<int64_t>(std::ceil(duration))) +
      " ms\tMemory Size: " + std::to_string(config.memory_mb) +
      " MB\tMax Memory Used: " + std::to_string(w->max_memory_mb) + " MB\t";
  if (w->first_invoke) report += "Init Duration: " + Fixed2(w->init_ms) + " ms\t";
  report += status_suffix;
  Log(*w, std::move(report));
  w->first_invoke = false;
  Release(std::move(w));
  return finish(std::move(result));
}

// --- LocalHandlerInvoker ------------------------------------------------------------

LocalHandlerInvoker::LocalHandlerInvoker(LocalRuntimeOptions options)
    : options_(std::move(options)) {}

LocalHandlerInvoker::~LocalHandlerInvoker() {
  for (auto& f : functions_) {
    std::lock_guard lock(f->mu);
    for (auto& w : f->idle) f->Kill(*w);
    f->idle.clear();
  }
}

namespace {

Status ResolveHandler(const LocalFunctionConfig& c, Family family,
                      LocalHandlerInvoker::Function* f);

}  // namespace

Result<std::unique_ptr<LocalHandlerInvoker>> LocalHandlerInvoker::Create(
    LocalRuntimeOptions options) {
  if (options.worker_dir.empty())
    return Status::InvalidArgument("local Lambda runtime: no worker directory");
  std::unique_ptr<LocalHandlerInvoker> inv(new LocalHandlerInvoker(std::move(options)));
  const LocalRuntimeOptions& o = inv->options_;
  for (const auto& c : o.functions) {
    std::string where = "function " + c.name + ": ";
    if (c.name.empty() || c.name.size() > 64 ||
        c.name.find_first_not_of(
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") !=
            std::string::npos)
      return Status::InvalidArgument("function name \"" + c.name +
                                     "\" must be 1 to 64 letters, digits, '-' or '_'");
    if (inv->Find(c.name) != nullptr) return Status::InvalidArgument(where + "defined twice");
    auto f = std::make_unique<Function>();
    f->config = c;
    f->options = &inv->options_;
    if (c.runtime.rfind("python3", 0) == 0) {
      f->family = Family::kPython;
    } else if (c.runtime.rfind("nodejs", 0) == 0) {
      f->family = Family::kNode;
    } else {
      return Status::InvalidArgument(where + "runtime \"" + c.runtime +
                                     "\" is not supported (python3 or nodejs)");
    }
    if (c.timeout_seconds < 1 || c.timeout_seconds > kMaxTimeoutSeconds)
      return Status::InvalidArgument(where + "timeout must be 1 to 300 seconds");
    if (c.memory_mb < 128 || c.memory_mb > 10240)
      return Status::InvalidArgument(where + "memory must be 128 to 10240 MB");
    if (c.pool_size < 1 || c.pool_size > 64)
      return Status::InvalidArgument(where + "pool size must be 1 to 64");
    for (const auto& [k, v] : c.environment) {
      if (k.empty() || k.find('=') != std::string::npos || k.find('\0') != std::string::npos ||
          v.find('\0') != std::string::npos)
        return Status::InvalidArgument(where + "bad environment variable \"" + k + "\"");
      for (auto reserved : kReservedVariables)
        if (k == reserved)
          return Status::InvalidArgument(where + "environment variable " + k +
                                         " is reserved (Lambda sets it)");
    }
    HYDRANT_RETURN_IF_ERROR(ResolveHandler(c, f->family, f.get()));
    f->arn = "arn:aws:lambda:" + o.region + ":" + o.account_id + ":function:" + c.name;
    f->log_group = "/aws/lambda/" + c.name;
    f->worker_script =
        o.worker_dir + "/" +
        std::string(f->family == Family::kPython ? kPythonWorkerFile : kNodeWorkerFile);
    inv->functions_.push_back(std::move(f));
  }
  // Written even without functions, so the directory always holds the current ones.
  HYDRANT_RETURN_IF_ERROR(fs::MakeDirs(o.worker_dir));
  for (auto [file, source] : {std::pair{kPythonWorkerFile, kPythonWorkerSource},
                              std::pair{kNodeWorkerFile, kNodeWorkerSource}}) {
    std::string path = o.worker_dir + "/" + std::string(file);
    auto existing = fs::ReadFile(path);
    if (existing.ok() && *existing == source) continue;
    HYDRANT_RETURN_IF_ERROR(fs::WriteFileAtomic(path, source));
  }
  return inv;
}

namespace {

// Finds the module file and function a configuration names (see LocalFunctionConfig).
Status ResolveHandler(const LocalFunctionConfig& c, Family family,
                      LocalHandlerInvoker::Function* f) {
  std::string where = "function " + c.name + ": ";
  std::string path = c.path;
  std::string handler = c.handler;
  if (handler.empty()) {
    size_t colon = path.rfind(':');
    size_t slash = path.rfind('/');
    if (colon != std::string::npos && (slash == std::string::npos || colon > slash) &&
        !IsRegularFile(path)) {
      handler = path.substr(colon + 1);
      path = path.substr(0, colon);
    }
  }
  if (path.empty()) return Status::InvalidArgument(where + "no handler path");
  std::string default_function = family == Family::kPython ? "lambda_handler" : "handler";
  std::vector<std::string> extensions = family == Family::kPython
                                            ? std::vector<std::string>{".py"}
                                            : std::vector<std::string>{".js", ".mjs", ".cjs"};
  if (IsDirectory(path)) {
    // Lambda's notation: "module.function", the module relative to the code directory.
    size_t dot = handler.rfind('.');
    if (dot == std::string::npos || dot == 0 || dot + 1 == handler.size())
      return Status::InvalidArgument(where +
                                     "with a code directory, handler must be \"module.function\"");
    std::string module = handler.substr(0, dot);
    f->function_name = handler.substr(dot + 1);
    f->task_root = AbsolutePath(path);
    for (const auto& ext : extensions) {
      std::string candidate = f->task_root + "/" + module + ext;
      if (IsRegularFile(candidate)) {
        f->module_file = candidate;
        break;
      }
    }
    if (f->module_file.empty())
      return Status::InvalidArgument(where + "no " + module + extensions[0] + " in " + path);
  } else {
    if (!IsRegularFile(path))
      return Status::InvalidArgument(where + "handler file " + path + " not found");
    f->module_file = AbsolutePath(path);
    size_t slash = f->module_file.rfind('/');
    f->task_root = f->module_file.substr(0, slash);
    size_t dot = handler.rfind('.');
    f->function_name = handler.empty()
                           ? default_function
                           : (dot == std::string::npos ? handler : handler.substr(dot + 1));
  }
  for (char ch : f->function_name) {
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '_' && ch != '$')
      return Status::InvalidArgument(where + "bad handler function name \"" + f->function_name +
                                     "\"");
  }
  if (f->function_name.empty())
    return Status::InvalidArgument(where + "empty handler function name");
  // The module name as Lambda shows it: the path under the code directory, no extension.
  std::string rel = f->module_file.substr(f->task_root.size() + 1);
  std::string stem = rel.substr(0, rel.rfind('.'));
  f->handler_notation = stem + "." + f->function_name;
  f->module_name = stem;
  if (family == Family::kPython)
    std::replace(f->module_name.begin(), f->module_name.end(), '/', '.');
  return Status::Ok();
}

}  // namespace

LocalHandlerInvoker::Function* LocalHandlerInvoker::Find(std::string_view name) const {
  for (const auto& f : functions_)
    if (f->config.name == name) return f.get();
  return nullptr;
}

bool LocalHandlerInvoker::HasFunction(std::string_view name) const { return Find(name) != nullptr; }

InvokeResult LocalHandlerInvoker::Invoke(const FunctionRef& fn, const std::string& event_json,
                                         std::chrono::milliseconds timeout) {
  Function* f = Find(fn.name);
  if (f == nullptr) {
    std::string arn = fn.arn.rfind("arn:", 0) == 0
                          ? fn.arn
                          : "arn:aws:lambda:" + options_.region + ":" + options_.account_id +
                                ":function:" + fn.name;
    InvokeResult r;
    r.kind = InvokeResult::Kind::kFatal;
    r.error_code = "Lambda.ResourceNotFound";
    r.error_message = "Function not found: " + arn;
    r.payload = json::serialize(json::object{{"Type", "User"}, {"message", r.error_message}});
    return r;
  }
  if (event_json.size() > kMaxRequestBytes) {
    InvokeResult r;
    r.kind = InvokeResult::Kind::kFatal;
    r.error_code = "Lambda.RequestTooLarge";
    r.error_message = "Request must be smaller than 6291456 bytes for the InvokeFunction operation";
    r.payload = json::serialize(json::object{{"Type", "User"}, {"message", r.error_message}});
    return r;
  }
  return f->Invoke(fn, event_json, timeout);
}

std::vector<FunctionInfo> LocalHandlerInvoker::ListFunctions() const {
  std::vector<FunctionInfo> out;
  for (const auto& f : functions_) {
    FunctionInfo info;
    info.name = f->config.name;
    info.arn = f->arn;
    info.runtime = f->config.runtime;
    {
      std::lock_guard lock(f->mu);
      info.runtime_version = f->runtime_version;
    }
    info.handler = f->handler_notation;
    info.code_path = f->module_file;
    info.timeout_seconds = f->config.timeout_seconds;
    info.memory_mb = f->config.memory_mb;
    out.push_back(std::move(info));
  }
  return out;
}

}  // namespace hydrant::processing
