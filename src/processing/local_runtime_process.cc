// A worker process of the local Lambda runtime (see local_runtime_function.h):
// started with posix_spawn in its own process group, with Lambda's environment
// variables, its socket on fd 3 and its output on a pipe; killed with its group,
// reaped, and its peak memory read from /proc.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <random>

#include "common/clock.h"
#include "processing/local_runtime_function.h"

extern char** environ;

namespace hydrant::processing {

using Function = LocalHandlerInvoker::Function;

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

int64_t NowMs() { return SystemClock::Get().NowMillis(); }

CodeStamp StampOf(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return {};
  return {int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec, int64_t{st.st_size}};
}

namespace {

std::string NewLogStreamName(int64_t now_ms) {
  time_t secs = static_cast<time_t>(now_ms / 1000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d/%02d/%02d/", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
  return std::string(buf) + "[$LATEST]" + RandomHex(16);
}

}  // namespace

Status Function::Spawn(Worker& w) {
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
  env["AWS_REGION"] = o.account.region;
  env["AWS_DEFAULT_REGION"] = o.account.region;
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
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

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

void Function::UpdateMemory(Worker& w) {
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

void Function::CloseFds(Worker& w) {
  if (w.sock >= 0) ::close(w.sock);
  if (w.log_fd >= 0) ::close(w.log_fd);
  w.sock = w.log_fd = -1;
  w.pid = -1;
}

void Function::Kill(Worker& w) {
  if (!w.alive()) return;
  ::kill(-w.pid, SIGKILL);
  ::kill(w.pid, SIGKILL);
  int status;
  while (::waitpid(w.pid, &status, 0) < 0 && errno == EINTR) {
  }
  PumpOutput(w, true);
  CloseFds(w);
}

std::string Function::Reap(Worker& w) {
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

}  // namespace hydrant::processing
