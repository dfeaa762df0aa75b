#pragma once
// The inside of LocalHandlerInvoker (local_runtime.h): one configured function
// with its pool of worker processes. The work is spread over
//   local_runtime.cc           configuration: Create() checks it and resolves handlers
//   local_runtime_invoke.cc    one invocation: the pool, starting a worker, START /
//                              END / REPORT, and the InvokeResult
//   local_runtime_process.cc   a worker process: spawn, kill, reap, memory use
//   local_runtime_protocol.cc  what passes between hydrant and a worker: frames on
//                              the socket, lines on the output pipe
//
// Thread-safety: a Worker belongs to one thread at a time (Acquire hands it out,
// Release takes it back); `idle`, `workers` and `runtime_version` are guarded by `mu`.
//
// Internal to the local runtime (src/processing/local_runtime*.cc).

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "processing/local_runtime.h"

namespace hydrant::processing {

using SteadyClock = std::chrono::steady_clock;

enum class Family { kPython, kNode };

// What identifies a version of the handler file: its modification time and size (the
// size too, as the kernel's file times are only as fine as its clock tick).
struct CodeStamp {
  int64_t mtime_ns = 0;
  int64_t size = -1;
  bool operator==(const CodeStamp&) const = default;
};
CodeStamp StampOf(const std::string& path);

// `bytes` random bytes as lowercase hex.
std::string RandomHex(size_t bytes);
int64_t NowMs();

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

// One configured function: its resolved handler, its log group and its workers.
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

  // --- log output (local_runtime_protocol.cc) -------------------------------------
  // Appends to the worker's log stream, all with the current time.
  void Log(Worker& w, std::vector<std::string> messages);
  void Log(Worker& w, std::string message);
  // Reads what the worker wrote to stdout/stderr, one event per line. Returns false
  // once the pipe is closed (every writer gone).
  bool PumpOutput(Worker& w, bool flush_partial);

  // --- the protocol (local_runtime_protocol.cc) -------------------------------------
  // One message is two frames (header, body), each a 4-byte big-endian length and
  // its bytes. Both pump the worker's output while they wait.
  enum class ReadStatus { kOk, kTimeout, kClosed, kTooLarge };
  ReadStatus ReadMessage(Worker& w, SteadyClock::time_point deadline, std::string* header,
                         std::string* body);
  enum class SendStatus { kOk, kTimeout, kClosed };
  SendStatus SendMessage(Worker& w, std::string_view header, std::string_view body,
                         SteadyClock::time_point deadline);

  // --- processes (local_runtime_process.cc) ---------------------------------------
  // Starts a new process for `w` (which has none) with a new log stream.
  Status Spawn(Worker& w);
  // Reads the process's peak memory (VmHWM) into w.max_memory_mb.
  void UpdateMemory(Worker& w);
  void CloseFds(Worker& w);
  // Kills the worker and its process group, keeping what it had already written.
  void Kill(Worker& w);
  // The worker closed its socket: waits (briefly) for it to exit and says how, as
  // Lambda does ("exit status 1", "signal: killed").
  std::string Reap(Worker& w);

  // --- the pool and an invocation (local_runtime_invoke.cc) -------------------------
  // nullptr when no worker is free by `deadline`.
  std::unique_ptr<Worker> Acquire(SteadyClock::time_point deadline);
  void Release(std::unique_ptr<Worker> w);

  InvokeResult Invoke(const FunctionRef& fn, const std::string& event_json,
                      std::chrono::milliseconds timeout);
};

}  // namespace hydrant::processing
