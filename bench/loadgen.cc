// hydrant_loadgen: a Firehose load generator. PutRecord / PutRecordBatch over
// keep-alive HTTP/1.1 on N connections, each request SigV4-signed as the SDKs
// sign them (aws/sigv4.h: Host, Content-Type, X-Amz-Date, X-Amz-Target signed,
// payload SHA-256). No interpreter in the hot loop: one thread per connection
// with a blocking socket, bodies built once up front.
//
// Closed loop (--rate 0): every connection sends its next request as soon as the
// previous answer is read; measures peak throughput.
// Open loop (--rate R requests/s): requests are scheduled at fixed intervals per
// connection and latency is measured from the *scheduled* time, so a stalled
// server is charged for the requests it delayed (no coordinated omission).
//
// --tls: HTTPS (OpenSSL, TLS 1.3 unless --tls12; the server certificate is
// not verified: this measures the server, not the PKI), one handshake per
// connection as an SDK's pool does; records go out through a 256 KiB buffer,
// one write() per ~15 of them.
//
// --server-pid P: also reports the CPU seconds process P (the server) and the
// load generator spent in the measured window (server_cpu_s, loadgen_cpu_s), so
// a cost per MiB can be compared where the two share the machine's cores.
//
// Prints one JSON object on stdout (see bench/README.md for the fields).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "aws/sigv4.h"
#include "common/base64.h"

namespace {

using Clock = std::chrono::steady_clock;

// Log-linear latency histogram (HdrHistogram-like): values in microseconds,
// 64 sub-buckets per power of two, so any reported quantile is within ~1.6%.
class Histogram {
 public:
  static constexpr int kSub = 64;
  Histogram() : counts_(64 * kSub, 0) {}
  void Record(uint64_t us) {
    counts_[Index(us)]++;
    n_++;
    max_ = std::max(max_, us);
  }
  void Merge(const Histogram& o) {
    for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += o.counts_[i];
    n_ += o.n_;
    max_ = std::max(max_, o.max_);
  }
  uint64_t count() const { return n_; }
  uint64_t max() const { return max_; }
  // Upper edge of the bucket holding quantile q.
  double Quantile(double q) const {
    if (n_ == 0) return 0;
    uint64_t want = static_cast<uint64_t>(std::ceil(q * static_cast<double>(n_)));
    if (want == 0) want = 1;
    uint64_t seen = 0;
    for (size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen >= want) return std::min<double>(static_cast<double>(UpperEdge(i)), max_);
    }
    return static_cast<double>(max_);
  }

 private:
  static size_t Index(uint64_t v) {
    if (v < kSub) return v;
    int msb = 63 - __builtin_clzll(v);  // >= 6
    int shift = msb - 5;                // keep 6 significant bits
    size_t idx = static_cast<size_t>(shift) * 32 + (v >> shift);
    return std::min(idx, static_cast<size_t>(64 * kSub - 1));
  }
  static uint64_t UpperEdge(size_t i) {
    if (i < kSub) return i;
    size_t shift = (i - 32) / 32;  // inverse of Index for i >= 64
    uint64_t mant = i - shift * 32;
    return ((mant + 1) << shift) - 1;
  }
  std::vector<uint64_t> counts_;
  uint64_t n_ = 0;
  uint64_t max_ = 0;
};

struct Options {
  std::string host = "127.0.0.1";
  int port = 4573;
  std::string stream = "bench";
  std::string op = "batch";  // batch | single | get (GET / on a trivial server)
  size_t record_size = 100;
  size_t batch_records = 500;
  size_t batch_bytes = 4u << 20;  // PutRecordBatch limit: 4 MiB of decoded Data
  int connections = 4;
  double duration_s = 5;
  double warmup_s = 1;
  double rate = 0;              // requests/s over all connections; 0 = closed loop
  uint64_t total_records = 0;   // stop after this many records (0 = by duration)
  int variants = 8;             // distinct bodies (different record contents)
  std::string region = "us-east-1";
  std::string access_key = "test";
  std::string secret_key = "test";
  bool random_payload = false;  // incompressible records (default: JSON-like lines)
  bool tls = false;             // HTTPS
  bool tls12 = false;           // ... at most TLS 1.2
  int server_pid = 0;           // report this process's CPU time in the window
};

// User + system CPU seconds of process `pid` (all its threads), from
// /proc/PID/stat; -1 when it cannot be read.
double ProcessCpuSeconds(int pid) {
  const std::string path = pid ? "/proc/" + std::to_string(pid) + "/stat" : "/proc/self/stat";
  FILE* f = std::fopen(path.c_str(), "r");
  if (!f) return -1;
  char buf[1024];
  const size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = 0;
  // Fields after the command's closing parenthesis: state is field 3; utime and
  // stime are fields 14 and 15.
  const char* p = std::strrchr(buf, ')');
  if (!p) return -1;
  unsigned long long utime = 0, stime = 0;
  if (std::sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime,
                  &stime) != 2) {
    return -1;
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

[[noreturn]] void Die(const std::string& msg) {
  std::fprintf(stderr, "loadgen: %s\n", msg.c_str());
  std::exit(2);
}

// A record of exactly `size` bytes: a JSON-ish log line (compresses about as
// well as typical Firehose payloads, ~4-6x with gzip) or random bytes.
std::string MakeRecord(size_t size, std::mt19937_64& rng, bool random_payload) {
  std::string r;
  r.reserve(size);
  if (random_payload) {
    while (r.size() < size) {
      uint64_t v = rng();
      r.append(reinterpret_cast<const char*>(&v), std::min<size_t>(8, size - r.size()));
    }
    return r;
  }
  static const char* kWords[] = {"GET", "POST", "/api/v1/orders", "/static/app.js", "200", "404",
                                 "mozilla", "curl", "eu-west-1", "checkout", "user", "latency_ms",
                                 "ok", "session", "cart", "item"};
  while (r.size() < size) {
    char buf[160];
    int n = std::snprintf(buf, sizeof buf,
                          "{\"ts\":%llu,\"host\":\"web-%02u\",\"path\":\"%s\",\"status\":%s,"
                          "\"agent\":\"%s\",\"ms\":%u,\"k\":\"%s\"}\n",
                          static_cast<unsigned long long>(1700000000000ull + rng() % 100000000),
                          static_cast<unsigned>(rng() % 32), kWords[2 + rng() % 2],
                          kWords[4 + rng() % 2], kWords[6 + rng() % 2],
                          static_cast<unsigned>(rng() % 5000), kWords[8 + rng() % 8]);
    r.append(buf, std::min<size_t>(static_cast<size_t>(n), size - r.size()));
  }
  if (!r.empty()) r.back() = '\n';
  return r;
}

struct Body {
  std::string json;
  std::string payload_hash;  // SHA-256 hex, as the SDK computes for each request
  size_t records = 0;
  size_t payload_bytes = 0;
};

std::vector<Body> MakeBodies(const Options& o, size_t per_request) {
  std::vector<Body> bodies;
  std::mt19937_64 rng(42);
  for (int v = 0; v < o.variants; ++v) {
    Body b;
    if (o.op == "get") {
      bodies.push_back(std::move(b));
      continue;
    }
    b.json = "{\"DeliveryStreamName\":\"" + o.stream + "\",";
    b.json += o.op == "batch" ? "\"Records\":[" : "\"Record\":";
    for (size_t i = 0; i < per_request; ++i) {
      if (i) b.json += ',';
      b.json += "{\"Data\":\"";
      std::string rec = MakeRecord(o.record_size, rng, o.random_payload);
      hydrant::base64::EncodeAppend(rec, &b.json);
      b.json += "\"}";
      b.payload_bytes += rec.size();
    }
    b.json += o.op == "batch" ? "]}" : "}";
    b.records = per_request;
    b.payload_hash = hydrant::aws::Sha256Hex(b.json);
    bodies.push_back(std::move(b));
  }
  return bodies;
}

int64_t NowUnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Request head (everything before the body), signed at `now_ms`.
std::string BuildHead(const Options& o, const Body& b, const std::string& host_header,
                      int64_t now_ms) {
  if (o.op == "get") {
    return "GET / HTTP/1.1\r\nHost: " + host_header + "\r\n\r\n";
  }
  hydrant::aws::SignableRequest req;
  req.method = "POST";
  req.path = "/";
  req.headers = {{"Host", host_header},
                 {"Content-Type", "application/x-amz-json-1.1"},
                 {"X-Amz-Target", o.op == "batch" ? "Firehose_20150804.PutRecordBatch"
                                                  : "Firehose_20150804.PutRecord"}};
  // The SDK hashes the body of every request; bodies repeat here, so the hash
  // is computed once per body (the signature itself is computed per request).
  req.payload_hash = b.payload_hash;
  hydrant::aws::SigningOptions so{o.region, "firehose"};
  auto r = hydrant::aws::Sign(&req, {o.access_key, o.secret_key, ""}, so, now_ms);
  if (!r.ok()) Die("sign: " + r.status().ToString());
  std::string head = "POST / HTTP/1.1\r\n";
  for (auto& [k, v] : req.headers) head += k + ": " + v + "\r\n";
  head += "User-Agent: hydrant-loadgen/1.0\r\nContent-Length: " + std::to_string(b.json.size()) +
          "\r\n\r\n";
  return head;
}

// One client TLS context for every connection (thread-safe once set up).
SSL_CTX* ClientTlsContext(const Options& o) {
  static SSL_CTX* ctx = [&] {
    SSL_CTX* c = SSL_CTX_new(TLS_client_method());
    if (!c) Die("SSL_CTX_new");
    SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
    if (o.tls12) SSL_CTX_set_max_proto_version(c, TLS1_2_VERSION);
    SSL_CTX_set_verify(c, SSL_VERIFY_NONE, nullptr);
    static const unsigned char kAlpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
    SSL_CTX_set_alpn_protos(c, kAlpn, sizeof kAlpn);
    return c;
  }();
  return ctx;
}

class Connection {
 public:
  explicit Connection(const Options& o) : o_(o) { Connect(); }
  ~Connection() {
    if (ssl_) SSL_free(ssl_);
    ::close(fd_);
  }

  // Connections the server closed (Connection: close) are reopened before the
  // next request, as an SDK's pool does; moto's server closes after every answer.
  uint64_t reconnects() const { return reconnects_; }

 private:
  void Connect() {
    const Options& o = o_;
    buf_.clear();
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) Die("socket");
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(o.port));
    if (::inet_pton(AF_INET, o.host.c_str(), &a.sin_addr) != 1) Die("bad host " + o.host);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      Die("connect " + o.host + ":" + std::to_string(o.port) + ": " + std::strerror(errno));
    }
    if (o.tls) {
      if (ssl_) SSL_free(ssl_);
      ssl_ = SSL_new(ClientTlsContext(o));
      // Records are written through a 256 KiB buffer (flushed after each
      // request): one write() per ~15 records rather than one per record, so
      // the client, which shares the server's CPUs, costs less.
      BIO* out = BIO_new(BIO_f_buffer());
      BIO_set_write_buffer_size(out, 256 * 1024);
      BIO_push(out, BIO_new_socket(fd_, BIO_NOCLOSE));
      SSL_set_bio(ssl_, BIO_new_socket(fd_, BIO_NOCLOSE), out);
      SSL_set_tlsext_host_name(ssl_, "localhost");
      if (SSL_connect(ssl_) != 1) {
        char err[256];
        ERR_error_string_n(ERR_get_error(), err, sizeof err);
        Die(std::string("TLS handshake: ") + err);
      }
    }
  }

  // Sends everything (TLS: the head, then the body, as http.client and the SDKs
  // send them: no copy of the body).
  bool SendAll(const std::string& head, const std::string& body) {
    if (ssl_) {
      for (const std::string* part : {&head, &body}) {
        size_t done = 0;
        while (done < part->size()) {
          size_t n = 0;
          if (SSL_write_ex(ssl_, part->data() + done, part->size() - done, &n) != 1) return false;
          done += n;
        }
      }
      return BIO_flush(SSL_get_wbio(ssl_)) == 1;
    }
    iovec iov[2] = {{const_cast<char*>(head.data()), head.size()},
                    {const_cast<char*>(body.data()), body.size()}};
    int cnt = 2;
    iovec* p = iov;
    while (cnt > 0) {
      ssize_t w = ::writev(fd_, p, cnt);
      if (w < 0) {
        if (errno == EINTR) continue;
        return false;
      }
      size_t left = static_cast<size_t>(w);
      while (cnt > 0 && left >= p->iov_len) {
        left -= p->iov_len;
        ++p;
        --cnt;
      }
      if (cnt > 0) {
        p->iov_base = static_cast<char*>(p->iov_base) + left;
        p->iov_len -= left;
      }
    }
    return true;
  }

 public:
  // Sends head+body, reads one response. Returns the HTTP status, 0 on I/O error.
  // *failed_put_count gets FailedPutCount when the answer carries one.
  int RoundTrip(const std::string& head, const std::string& body, int* failed_put_count) {
    if (closed_) {
      ::close(fd_);
      Connect();
      closed_ = false;
      ++reconnects_;
    }
    if (!SendAll(head, body)) return 0;
    // Read until the header end, then Content-Length bytes of body.
    size_t hdr_end;
    for (;;) {
      hdr_end = buf_.find("\r\n\r\n");
      if (hdr_end != std::string::npos) break;
      if (!Fill()) return 0;
    }
    int status = std::atoi(buf_.c_str() + 9);
    size_t clen = 0;
    {
      std::string_view h(buf_.data(), hdr_end);
      for (size_t pos = 0; pos < h.size();) {
        size_t eol = h.find("\r\n", pos);
        if (eol == std::string_view::npos) eol = h.size();
        std::string_view line = h.substr(pos, eol - pos);
        if (line.size() > 15 && strncasecmp(line.data(), "content-length:", 15) == 0) {
          clen = std::strtoull(std::string(line.substr(15)).c_str(), nullptr, 10);
        }
        if (line.size() >= 17 && strncasecmp(line.data(), "connection: close", 17) == 0) {
          closed_ = true;
        }
        pos = eol + 2;
      }
    }
    size_t need = hdr_end + 4 + clen;
    while (buf_.size() < need) {
      if (!Fill()) return 0;
    }
    *failed_put_count = 0;
    std::string_view bodyv(buf_.data() + hdr_end + 4, clen);
    auto fp = bodyv.find("\"FailedPutCount\":");
    if (fp != std::string_view::npos) *failed_put_count = std::atoi(bodyv.data() + fp + 17);
    buf_.erase(0, need);
    return status;
  }

 private:
  bool Fill() {
    char tmp[65536];
    if (ssl_) {
      size_t n = 0;
      if (SSL_read_ex(ssl_, tmp, sizeof tmp, &n) != 1) return false;
      buf_.append(tmp, n);
      return true;
    }
    for (;;) {
      ssize_t r = ::read(fd_, tmp, sizeof tmp);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return false;
      buf_.append(tmp, static_cast<size_t>(r));
      return true;
    }
  }
  const Options& o_;
  int fd_ = -1;
  SSL* ssl_ = nullptr;
  std::string buf_;
  bool closed_ = false;
  uint64_t reconnects_ = 0;
};

struct WorkerResult {
  Histogram hist;
  uint64_t requests = 0, records = 0, payload = 0, errors = 0, failed_records = 0, reconnects = 0;
  std::string first_error;
};

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) Die("missing value for " + a);
      return argv[++i];
    };
    if (a == "--host") o.host = val();
    else if (a == "--port") o.port = std::stoi(val());
    else if (a == "--stream") o.stream = val();
    else if (a == "--op") o.op = val();
    else if (a == "--record-size") o.record_size = std::stoull(val());
    else if (a == "--batch") o.batch_records = std::stoull(val());
    else if (a == "--batch-bytes") o.batch_bytes = std::stoull(val());
    else if (a == "--connections") o.connections = std::stoi(val());
    else if (a == "--duration") o.duration_s = std::stod(val());
    else if (a == "--warmup") o.warmup_s = std::stod(val());
    else if (a == "--rate") o.rate = std::stod(val());
    else if (a == "--total-records") o.total_records = std::stoull(val());
    else if (a == "--variants") o.variants = std::stoi(val());
    else if (a == "--region") o.region = val();
    else if (a == "--random") o.random_payload = true;
    else if (a == "--tls") o.tls = true;
    else if (a == "--tls12") o.tls = o.tls12 = true;
    else if (a == "--access-key") o.access_key = val();
    else if (a == "--secret-key") o.secret_key = val();
    else if (a == "--server-pid") o.server_pid = std::stoi(val());
    else if (a == "--help" || a == "-h") {
      std::printf(
          "hydrant_loadgen --port P [--host H] [--stream S] [--op batch|single|get]\n"
          "  [--record-size B] [--batch N] [--batch-bytes B] [--connections N]\n"
          "  [--duration S] [--warmup S] [--rate REQ_PER_S] [--total-records N] [--random]\n"
          "  [--tls | --tls12] [--access-key K --secret-key S] [--server-pid P]\n");
      return 0;
    } else {
      Die("unknown option " + a);
    }
  }
  if (o.op != "batch" && o.op != "single" && o.op != "get") Die("--op must be batch, single or get");
  size_t per_request = 1;
  if (o.op == "batch") {
    per_request = std::min(o.batch_records, std::max<size_t>(1, o.batch_bytes / o.record_size));
  }
  auto bodies = MakeBodies(o, per_request);
  const std::string host_header = o.host + ":" + std::to_string(o.port);

  std::atomic<bool> stop{false};
  std::atomic<bool> measuring{o.warmup_s <= 0 || o.total_records > 0};
  std::atomic<uint64_t> records_left{o.total_records ? o.total_records : UINT64_MAX};
  std::vector<WorkerResult> results(static_cast<size_t>(o.connections));
  const double per_conn_interval_s = o.rate > 0 ? o.connections / o.rate : 0;
  const auto t0 = Clock::now();
  Clock::time_point measure_start = t0;
  double server_cpu0 = -1, own_cpu0 = -1, server_cpu = -1, own_cpu = -1;  // seconds

  std::vector<std::thread> threads;
  for (int c = 0; c < o.connections; ++c) {
    threads.emplace_back([&, c] {
      Connection conn(o);
      WorkerResult& res = results[static_cast<size_t>(c)];
      // Stagger open-loop schedules so connections do not fire together.
      auto next = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(per_conn_interval_s * c /
                                                                   std::max(1, o.connections)));
      int64_t head_sec = -1;
      std::vector<std::string> heads(bodies.size());
      size_t v = static_cast<size_t>(c) % bodies.size();
      while (!stop.load(std::memory_order_relaxed)) {
        const Body& b = bodies[v];
        if (o.total_records) {
          uint64_t left = records_left.load();
          do {
            if (left < b.records) break;
          } while (!records_left.compare_exchange_weak(left, left - b.records));
          if (left < b.records) break;
        }
        Clock::time_point intended;
        if (per_conn_interval_s > 0) {
          intended = next;
          next += std::chrono::duration_cast<Clock::duration>(
              std::chrono::duration<double>(per_conn_interval_s));
          std::this_thread::sleep_until(intended);
        } else {
          intended = Clock::now();
        }
        // Re-sign when the second changes (X-Amz-Date has one-second resolution:
        // an SDK's signature for the same body within a second is identical).
        int64_t now_ms = NowUnixMs();
        if (now_ms / 1000 != head_sec) {
          head_sec = now_ms / 1000;
          for (auto& h : heads) h.clear();
        }
        if (heads[v].empty()) heads[v] = BuildHead(o, b, host_header, now_ms);
        int failed = 0;
        int status = conn.RoundTrip(heads[v], b.json, &failed);
        auto done = Clock::now();
        if (status == 0) {
          res.errors++;
          if (res.first_error.empty()) res.first_error = "connection closed";
          break;
        }
        if (measuring.load(std::memory_order_relaxed)) {
          res.hist.Record(static_cast<uint64_t>(
              std::chrono::duration_cast<std::chrono::microseconds>(done - intended).count()));
          res.requests++;
          if (status != 200) {
            res.errors++;
            if (res.first_error.empty()) res.first_error = "HTTP " + std::to_string(status);
          } else {
            res.records += b.records - static_cast<size_t>(failed);
            res.failed_records += static_cast<size_t>(failed);
            if (b.records) {
              res.payload += b.payload_bytes * (b.records - static_cast<size_t>(failed)) / b.records;
            }
          }
        }
        v = (v + 1) % bodies.size();
      }
      res.reconnects = conn.reconnects();
    });
  }
  if (o.total_records == 0) {
    std::this_thread::sleep_for(std::chrono::duration<double>(o.warmup_s));
    measure_start = Clock::now();
    server_cpu0 = o.server_pid ? ProcessCpuSeconds(o.server_pid) : -1;
    own_cpu0 = ProcessCpuSeconds(0);
    measuring = true;
    std::this_thread::sleep_for(std::chrono::duration<double>(o.duration_s));
    stop = true;
    if (server_cpu0 >= 0) server_cpu = ProcessCpuSeconds(o.server_pid) - server_cpu0;
    own_cpu = ProcessCpuSeconds(0) - own_cpu0;
  }
  for (auto& t : threads) t.join();
  const double elapsed =
      std::chrono::duration<double>(Clock::now() - measure_start).count();
  WorkerResult all;
  for (auto& r : results) {
    all.hist.Merge(r.hist);
    all.requests += r.requests;
    all.records += r.records;
    all.payload += r.payload;
    all.errors += r.errors;
    all.failed_records += r.failed_records;
    all.reconnects += r.reconnects;
    if (all.first_error.empty()) all.first_error = r.first_error;
  }
  std::printf(
      "{\"op\":\"%s\",\"record_size\":%zu,\"records_per_request\":%zu,\"connections\":%d,"
      "\"rate\":%.1f,\"elapsed_s\":%.3f,\"requests\":%llu,\"records\":%llu,\"payload_bytes\":%llu,"
      "\"errors\":%llu,\"failed_records\":%llu,\"req_per_s\":%.1f,\"records_per_s\":%.1f,"
      "\"mib_per_s\":%.2f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"p999_ms\":%.3f,\"max_ms\":%.3f,"
      "\"reconnects\":%llu,\"server_cpu_s\":%.3f,\"loadgen_cpu_s\":%.3f,\"first_error\":\"%s\"}\n",
      o.op.c_str(), o.record_size, per_request, o.connections, o.rate, elapsed,
      static_cast<unsigned long long>(all.requests), static_cast<unsigned long long>(all.records),
      static_cast<unsigned long long>(all.payload), static_cast<unsigned long long>(all.errors),
      static_cast<unsigned long long>(all.failed_records), all.requests / elapsed,
      all.records / elapsed, all.payload / elapsed / (1 << 20), all.hist.Quantile(0.5) / 1000,
      all.hist.Quantile(0.99) / 1000, all.hist.Quantile(0.999) / 1000, all.hist.max() / 1000.0,
      static_cast<unsigned long long>(all.reconnects), server_cpu, own_cpu, all.first_error.c_str());
  return all.errors && all.requests == 0 ? 1 : 0;
}
