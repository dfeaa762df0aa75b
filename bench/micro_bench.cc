// Google Benchmark micro-benchmarks of hydrant's hot paths:
//   - PutRecordBatch body parsing: api::PutRecordsParser, which server/firehose_api.cc's
//     PutRecords calls (simdjson DOM, validation, base64 decoding into one arena);
//   - StreamLog::Append (page cache only) and Append + Sync (fdatasync);
//   - base64 decoding: modp alone and base64::DecodeToBuffer (AVX2 + modp);
//   - CRC32C (ISA-L);
//   - every codec of codecs/codec.h over JSON-like records;
//   - gzip engines side by side: zlib (levels 1 and 6), libdeflate (1 and 6),
//     ISA-L igzip (levels 1 and 3): all emit a standard gzip member.
// Throughput is reported as bytes/s of *uncompressed* (decoded) payload.

#include <benchmark/benchmark.h>
#include <isa-l/igzip_lib.h>
#include <libdeflate.h>
#include <modp_b64.h>
#include <zlib.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "api/put_records.h"
#include "buffer/encrypted_log.h"
#include "buffer/stream_log.h"
#include "codecs/codec.h"
#include "common/base64.h"
#include "common/crc32c.h"

namespace {

using namespace hydrant;

std::string JsonLines(size_t bytes, uint64_t seed = 7) {
  std::mt19937_64 rng(seed);
  std::string s;
  s.reserve(bytes + 200);
  static const char* kPaths[] = {"/api/v1/orders", "/static/app.js", "/checkout", "/login"};
  while (s.size() < bytes) {
    char buf[200];
    int n = std::snprintf(buf, sizeof buf,
                          "{\"ts\":%llu,\"host\":\"web-%02u\",\"path\":\"%s\",\"status\":%u,\"ms\":%u}\n",
                          static_cast<unsigned long long>(1700000000000ull + rng() % 100000000),
                          static_cast<unsigned>(rng() % 32), kPaths[rng() % 4],
                          rng() % 8 ? 200u : 404u, static_cast<unsigned>(rng() % 5000));
    s.append(buf, static_cast<size_t>(n));
  }
  s.resize(bytes);
  return s;
}

std::string BatchBody(size_t record_size, size_t n) {
  std::string payload = JsonLines(record_size * n);
  std::string body = "{\"DeliveryStreamName\":\"bench\",\"Records\":[";
  for (size_t i = 0; i < n; ++i) {
    if (i) body += ',';
    body += "{\"Data\":\"";
    base64::EncodeAppend(std::string_view(payload).substr(i * record_size, record_size), &body);
    body += "\"}";
  }
  body += "]}";
  return body;
}

// FirehoseApi::PutRecords up to the log append: api::PutRecordsParser, the function
// the server calls, on a body with the padding the server's reads leave after it.
void BM_ParsePutRecordBatch(benchmark::State& state) {
  const size_t record_size = static_cast<size_t>(state.range(0));
  const size_t n = std::min<size_t>(500, (4u << 20) / record_size);
  std::string body = BatchBody(record_size, n);
  body.reserve(body.size() + api::PutRecordsParser::kBodyPadding);
  api::PutRecordsParser parser;
  api::PutRecordsInput input;
  for (auto _ : state) {
    if (parser.Parse(true, body, &input) || input.records.size() != n) std::abort();
    benchmark::DoNotOptimize(input.records.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * n * record_size));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
}
BENCHMARK(BM_ParsePutRecordBatch)->Arg(100)->Arg(1024)->Arg(65536);

struct TempLog {
  std::string dir;
  std::shared_ptr<buffer::StreamLog> log;
  TempLog() {
    char tmpl[] = "/tmp/hydrant-bench-log-XXXXXX";
    dir = ::mkdtemp(tmpl);
    auto r = buffer::StreamLog::Open(dir, {}, nullptr);
    if (!r.ok()) std::abort();
    log = std::move(*r);
  }
  ~TempLog() {
    log.reset();
    std::filesystem::remove_all(dir);
  }
};

// Append of one request's records (500 x 100 B, 500 x 1 KiB, 64 x 64 KiB).
void BM_LogAppend(benchmark::State& state) {
  const size_t record_size = static_cast<size_t>(state.range(0));
  const bool sync = state.range(1) != 0;
  const size_t n = std::min<size_t>(500, (4u << 20) / record_size);
  std::string payload = JsonLines(record_size * n);
  std::vector<std::string_view> recs;
  for (size_t i = 0; i < n; ++i) recs.push_back(std::string_view(payload).substr(i * record_size, record_size));
  TempLog t;
  uint64_t appended = 0;
  for (auto _ : state) {
    auto r = t.log->Append(1700000000000, recs);
    if (!r.ok()) std::abort();
    if (sync && !t.log->Sync().ok()) std::abort();
    appended += n;
    if (appended > 200000 || (appended * record_size) > (512u << 20)) {
      // Keep the temp log small: drop what was written.
      state.PauseTiming();
      if (!t.log->MarkDelivered(t.log->next_seq()).ok()) std::abort();
      appended = 0;
      state.ResumeTiming();
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * n * record_size));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
}
BENCHMARK(BM_LogAppend)
    ->ArgsProduct({{100, 1024, 65536}, {0, 1}})
    ->ArgNames({"record", "sync"});

// A LogKeyService with one fixed data key (no KMS): the cost of encryption alone.
class FixedKeys : public buffer::LogKeyService {
 public:
  Result<std::string> ResolveKey(std::string_view) override { return std::string("arn:bench"); }
  Result<buffer::LogDataKey> NewDataKey(std::string_view arn, std::string_view) override {
    return buffer::LogDataKey{std::string(arn), std::string(32, 'k'), "blob"};
  }
  Result<std::string> Unwrap(std::string_view, std::string_view) override {
    return std::string(32, 'k');
  }
  Status CheckUsable(std::string_view) override { return Status::Ok(); }
};

// The same appends through an EncryptedLog with encryption on (encrypt=1) or off,
// and reading them back (read=1: Read of every record appended, decrypting).
void BM_EncryptedLog(benchmark::State& state) {
  const size_t record_size = static_cast<size_t>(state.range(0));
  const bool encrypt = state.range(1) != 0;
  const bool read = state.range(2) != 0;
  state.SetLabel(std::string(encrypt ? "encrypted" : "plain") + (read ? " read" : " append"));
  const size_t n = std::min<size_t>(500, (4u << 20) / record_size);
  std::string payload = JsonLines(record_size * n);
  std::vector<std::string_view> recs;
  for (size_t i = 0; i < n; ++i) recs.push_back(std::string_view(payload).substr(i * record_size, record_size));
  TempLog t;
  FixedKeys keys;
  auto log = buffer::EncryptedLog::Open(t.log, {t.dir, "bench", &keys});
  if (!log.ok()) std::abort();
  if (encrypt && !(*log)->Enable("").ok()) std::abort();
  uint64_t appended = 0;
  for (auto _ : state) {
    if (read) {
      state.PauseTiming();
    }
    auto r = (*log)->Append(1700000000000, recs);
    if (!r.ok()) std::abort();
    if (read) {
      state.ResumeTiming();
      uint64_t got = 0;
      if (!(*log)->Read(*r, UINT64_MAX, [&](const buffer::LogRecord& rec) {
                    got += rec.data.size();
                    return true;
                  }).ok() || got != n * record_size) {
        std::abort();
      }
    }
    appended += n;
    if (appended > 200000 || (appended * record_size) > (512u << 20)) {
      state.PauseTiming();
      if (!(*log)->MarkDelivered((*log)->next_seq()).ok()) std::abort();
      appended = 0;
      state.ResumeTiming();
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * n * record_size));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
}
BENCHMARK(BM_EncryptedLog)
    ->ArgsProduct({{100, 1024, 65536}, {0, 1}, {0, 1}})
    ->ArgNames({"record", "encrypt", "read"});

void BM_Crc32c(benchmark::State& state) {
  std::string data = JsonLines(static_cast<size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(crc32c::Value(data.data(), data.size()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * data.size()));
}
BENCHMARK(BM_Crc32c)->Arg(100)->Arg(1024)->Arg(65536)->Arg(4 << 20);

// Base64 decoding of one record's Data: modp alone (0) against base64::DecodeToBuffer
// (1: the AVX2 loop, then modp for the rest), in bytes/s of decoded data.
void BM_Base64Decode(benchmark::State& state) {
  const size_t size = static_cast<size_t>(state.range(0));
  const bool ours = state.range(1) != 0;
  state.SetLabel(ours ? "DecodeToBuffer" : "modp");
  const std::string enc = base64::Encode(JsonLines(size));
  std::string out(base64::DecodedSizeUpperBound(enc.size()), '\0');
  for (auto _ : state) {
    size_t n = ours ? *base64::DecodeToBuffer(enc, out.data())
                    : modp_b64_decode(out.data(), enc.data(), enc.size());
    benchmark::DoNotOptimize(n);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * size));
}
BENCHMARK(BM_Base64Decode)->ArgsProduct({{100, 1024, 65536}, {0, 1}})->ArgNames({"record", "avx2"});

// Each codec as the delivery path uses it: an Encoder fed 1 KiB records.
void BM_Codec(benchmark::State& state) {
  auto c = static_cast<codecs::Compression>(state.range(0));
  state.SetLabel(std::string(codecs::CompressionName(c)));
  const std::string data = JsonLines(8u << 20);
  std::string out;
  double ratio = 0;
  for (auto _ : state) {
    out.clear();
    StringSink sink(&out);
    auto enc = codecs::MakeEncoder(c, &sink);
    for (size_t off = 0; off < data.size(); off += 1024) {
      if (!enc->Append(std::string_view(data).substr(off, 1024)).ok()) std::abort();
    }
    if (!enc->Finish().ok()) std::abort();
    ratio = static_cast<double>(data.size()) / static_cast<double>(out.size());
  }
  state.counters["ratio"] = ratio;
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * data.size()));
}
BENCHMARK(BM_Codec)->DenseRange(0, 4)->Unit(benchmark::kMillisecond);

// Gzip engines, one-shot over 8 MiB, all producing a standard gzip member.
enum GzipEngine { kZlib, kLibdeflate, kIgzip };

size_t GzipOnce(GzipEngine e, int level, const std::string& in, std::string* out) {
  out->resize(in.size() + in.size() / 8 + 1024);
  if (e == kZlib) {
    z_stream zs{};
    deflateInit2(&zs, level, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY);
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    zs.avail_in = static_cast<uInt>(in.size());
    zs.next_out = reinterpret_cast<Bytef*>(out->data());
    zs.avail_out = static_cast<uInt>(out->size());
    if (deflate(&zs, Z_FINISH) != Z_STREAM_END) std::abort();
    size_t n = zs.total_out;
    deflateEnd(&zs);
    return n;
  }
  if (e == kLibdeflate) {
    thread_local libdeflate_compressor* c[13] = {};
    if (!c[level]) c[level] = libdeflate_alloc_compressor(level);
    size_t n = libdeflate_gzip_compress(c[level], in.data(), in.size(), out->data(), out->size());
    if (!n) std::abort();
    return n;
  }
  isal_zstream zs;
  isal_deflate_init(&zs);
  thread_local std::vector<uint8_t> level_buf(ISAL_DEF_LVL3_DEFAULT);
  zs.level = static_cast<uint32_t>(level);
  zs.level_buf = level ? level_buf.data() : nullptr;
  zs.level_buf_size = level ? static_cast<uint32_t>(level_buf.size()) : 0;
  zs.gzip_flag = IGZIP_GZIP;
  zs.end_of_stream = 1;
  zs.flush = NO_FLUSH;
  zs.next_in = reinterpret_cast<uint8_t*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uint32_t>(in.size());
  zs.next_out = reinterpret_cast<uint8_t*>(out->data());
  zs.avail_out = static_cast<uint32_t>(out->size());
  if (isal_deflate(&zs) != COMP_OK || zs.internal_state.state != ZSTATE_END) std::abort();
  return zs.total_out;
}

void BM_Gzip(benchmark::State& state) {
  auto e = static_cast<GzipEngine>(state.range(0));
  int level = static_cast<int>(state.range(1));
  static const char* kNames[] = {"zlib", "libdeflate", "isal-igzip"};
  state.SetLabel(std::string(kNames[e]) + " level " + std::to_string(level));
  const std::string data = JsonLines(8u << 20);
  std::string out;
  size_t n = 0;
  for (auto _ : state) n = GzipOnce(e, level, data, &out);
  // The output must be standard gzip: zlib's own decoder reads it back.
  out.resize(n);
  auto back = codecs::Decompress(codecs::Compression::kGzip, out);
  if (!back.ok() || *back != data) state.SkipWithError("output is not standard gzip");
  state.counters["ratio"] = static_cast<double>(data.size()) / static_cast<double>(n);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * data.size()));
}
BENCHMARK(BM_Gzip)
    ->Args({kZlib, 1})->Args({kZlib, 6})
    ->Args({kLibdeflate, 1})->Args({kLibdeflate, 6})
    ->Args({kIgzip, 1})->Args({kIgzip, 3})
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
