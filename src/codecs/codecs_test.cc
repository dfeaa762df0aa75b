// Tests for the object codecs. Every encoder's output is decoded twice: by our
// Decompress and by an independent tool (gzip, unzip, python3-snappy), and the
// decoders are fed streams those tools produced. Tools come from
// scripts/install-deps.sh --test; a missing tool fails the test loudly.

#include <gtest/gtest.h>
#include <snappy.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "codecs/codec.h"
#include "testing/temp_dir.h"

namespace hydrant::codecs {
namespace {

constexpr const char* kPython = "/usr/bin/python3";

// --- Test data ---------------------------------------------------------------

// Alternates JSON-ish lines, random bytes and long runs, so every codec meets
// both compressible and incompressible stretches.
std::string MixedData(size_t size, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string out;
  out.reserve(size);
  while (out.size() < size) {
    const size_t segment = std::min<size_t>(size - out.size(), 1 + rng() % (300 * 1024));
    const size_t end = out.size() + segment;
    switch (rng() % 3) {
      case 0:
        while (out.size() < end) {
          out += "{\"ticker\":\"T" + std::to_string(rng() % 50) +
                 "\",\"price\":" + std::to_string(rng() % 100000) + ",\"sector\":\"TECHNOLOGY\"}\n";
        }
        out.resize(end);
        break;
      case 1:
        while (out.size() < end) out.push_back(static_cast<char>(rng() & 0xff));
        break;
      default:
        out.append(segment, static_cast<char>('a' + rng() % 26));
    }
  }
  return out;
}

std::string RandomBytes(size_t size, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string out(size, '\0');
  for (char& c : out) c = static_cast<char>(rng() & 0xff);
  return out;
}

// --- Sinks -------------------------------------------------------------------

class RecordingSink final : public ByteSink {
 public:
  Status Write(std::string_view bytes) override {
    data.append(bytes);
    writes.push_back(bytes.size());
    return Status::Ok();
  }
  std::string data;
  std::vector<size_t> writes;
};

class FailingSink final : public ByteSink {
 public:
  Status Write(std::string_view) override { return Status::IoError("disk full"); }
};

// --- Tools -------------------------------------------------------------------

struct ToolRun {
  int exit_code = -1;
  std::string out;
};

ToolRun RunTool(const std::string& command) {
  ToolRun run;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return run;
  char buf[1 << 16];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) run.out.append(buf, n);
  int status = pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

// Fails the calling test with install instructions when a tool is missing.
::testing::AssertionResult HaveTool(Compression c) {
  std::string probe;
  switch (c) {
    case Compression::kGzip:
      probe = "command -v gzip";
      break;
    case Compression::kZip:
      probe = "command -v unzip";
      break;
    case Compression::kSnappy:
    case Compression::kHadoopSnappy:
      probe = std::string(kPython) + " -c 'import snappy, snappy.hadoop_snappy'";
      break;
    case Compression::kUncompressed:
      return ::testing::AssertionSuccess();
  }
  if (RunTool(probe + " >/dev/null 2>&1").exit_code == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "independent decoder for " << CompressionName(c) << " missing (`" << probe
         << "` failed); install it with scripts/install-deps.sh --test "
         << "(packages gzip, unzip, python3-snappy)";
}

using ::hydrant::testing::TempDir;

// python3-snappy 0.5.3 as packaged for Python 3.11 cannot compute CRC-32C (its
// C helper raises "PY_SSIZE_T_CLEAN macro must be defined"), which breaks its
// framing-format reader and writer. This preamble swaps in python3-crc32c when
// present, else a plain table-driven CRC-32C, and leaves the framing code of
// python-snappy to do the actual parsing.
constexpr const char* kPythonSnappyPreamble =
    "import sys, snappy, snappy.snappy as _s\n"
    "try:\n"
    "    _s._crc32c(b'a')\n"
    "except SystemError:\n"
    "    try:\n"
    "        import crc32c\n"
    "        _s._crc32c = crc32c.crc32c\n"
    "    except ImportError:\n"
    "        _T = []\n"
    "        for i in range(256):\n"
    "            c = i\n"
    "            for _ in range(8):\n"
    "                c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1\n"
    "            _T.append(c)\n"
    "        def _crc(data):\n"
    "            c = 0xFFFFFFFF\n"
    "            for b in data:\n"
    "                c = _T[(c ^ b) & 0xFF] ^ (c >> 8)\n"
    "            return c ^ 0xFFFFFFFF\n"
    "        _s._crc32c = _crc\n";

// Runs `body` (after the preamble) as a python3 script with arguments.
ToolRun RunPythonSnappy(const TempDir& dir, const std::string& body, const std::string& args) {
  const std::string script = dir.Write("snappy_tool.py", std::string(kPythonSnappyPreamble) + body);
  return RunTool(std::string(kPython) + " '" + script + "' " + args);
}

// Decodes `compressed` with a tool that shares no code with ours.
ToolRun DecodeWithTool(Compression c, std::string_view compressed) {
  TempDir dir;
  const std::string file = dir.Write("object", compressed);
  switch (c) {
    case Compression::kGzip:
      return RunTool("gzip -dc '" + file + "'");
    case Compression::kZip:
      return RunTool("unzip -p '" + file + "'");
    case Compression::kSnappy:
      return RunPythonSnappy(
          dir, "snappy.stream_decompress(open(sys.argv[1], 'rb'), sys.stdout.buffer)\n",
          "'" + file + "'");
    case Compression::kHadoopSnappy:
      return RunTool(
          std::string(kPython) +
          " -c 'import snappy.hadoop_snappy as h, sys; h.stream_decompress(open(sys.argv[1], "
          "\"rb\"), sys.stdout.buffer)' '" +
          file + "'");
    case Compression::kUncompressed:
      return ToolRun{0, std::string(compressed)};
  }
  return {};
}

// Encodes `data` through the streaming API in the given piece sizes (cycled).
std::string EncodePieces(Compression c, std::string_view data, const std::vector<size_t>& pieces,
                         RecordingSink* sink, std::string_view entry_name = "data") {
  std::unique_ptr<Encoder> encoder = MakeEncoder(c, sink, entry_name);
  size_t i = 0;
  while (!data.empty()) {
    size_t n = std::min(data.size(), pieces[i++ % pieces.size()]);
    EXPECT_TRUE(encoder->Append(data.substr(0, n)).ok());
    data.remove_prefix(n);
  }
  EXPECT_TRUE(encoder->Finish().ok());
  return sink->data;
}

// Checks that both our decoder and the independent tool give back `original`.
void ExpectDecodes(Compression c, const std::string& compressed, const std::string& original) {
  Result<std::string> ours = Decompress(c, compressed);
  ASSERT_TRUE(ours.ok()) << ours.status().ToString();
  EXPECT_TRUE(*ours == original) << "our decoder: " << ours->size() << " bytes, want "
                                 << original.size();
  ASSERT_TRUE(HaveTool(c));
  ToolRun tool = DecodeWithTool(c, compressed);
  EXPECT_EQ(tool.exit_code, 0) << "independent decoder failed for " << CompressionName(c);
  EXPECT_TRUE(tool.out == original)
      << "independent decoder: " << tool.out.size() << " bytes, want " << original.size();
}

// --- Names -------------------------------------------------------------------

TEST(CompressionNames, ParseIsExactAndCaseSensitive) {
  EXPECT_EQ(ParseCompression("UNCOMPRESSED"), Compression::kUncompressed);
  EXPECT_EQ(ParseCompression("GZIP"), Compression::kGzip);
  EXPECT_EQ(ParseCompression("ZIP"), Compression::kZip);
  EXPECT_EQ(ParseCompression("Snappy"), Compression::kSnappy);
  EXPECT_EQ(ParseCompression("HADOOP_SNAPPY"), Compression::kHadoopSnappy);
  for (const char* bad : {"", "gzip", "Gzip", "SNAPPY", "snappy", "zip", "hadoop_snappy", "GZIP ",
                          "NONE", "Hadoop_Snappy"}) {
    EXPECT_FALSE(ParseCompression(bad).has_value()) << bad;
  }
}

TEST(CompressionNames, NameRoundTripsThroughParse) {
  for (Compression c : {Compression::kUncompressed, Compression::kGzip, Compression::kZip,
                        Compression::kSnappy, Compression::kHadoopSnappy}) {
    EXPECT_EQ(ParseCompression(CompressionName(c)), c);
  }
}

TEST(CompressionNames, ExtensionsAndContentEncodings) {
  EXPECT_EQ(DefaultExtension(Compression::kUncompressed), "");
  EXPECT_EQ(DefaultExtension(Compression::kGzip), ".gz");
  EXPECT_EQ(DefaultExtension(Compression::kZip), ".zip");
  EXPECT_EQ(DefaultExtension(Compression::kSnappy), ".snappy");
  EXPECT_EQ(DefaultExtension(Compression::kHadoopSnappy), ".snappy");
  EXPECT_EQ(ContentEncoding(Compression::kUncompressed), "");
  EXPECT_EQ(ContentEncoding(Compression::kGzip), "gzip");
  EXPECT_EQ(ContentEncoding(Compression::kZip), "zip");
  EXPECT_EQ(ContentEncoding(Compression::kSnappy), "snappy");
  EXPECT_EQ(ContentEncoding(Compression::kHadoopSnappy), "hadoop-snappy");
}

// --- Round trips, every format -----------------------------------------------

class CodecTest : public ::testing::TestWithParam<Compression> {};

TEST_P(CodecTest, EmptyInput) {
  std::string compressed;
  ASSERT_TRUE(Compress(GetParam(), "", &compressed).ok());
  ExpectDecodes(GetParam(), compressed, "");
}

TEST_P(CodecTest, SmallInput) {
  const std::string data =
      "{\"ticker_symbol\":\"QXZ\",\"sector\":\"HEALTHCARE\",\"price\":84.51}\n";
  std::string compressed;
  ASSERT_TRUE(Compress(GetParam(), data, &compressed).ok());
  ExpectDecodes(GetParam(), compressed, data);
}

TEST_P(CodecTest, ManySmallAppendsAreCoalescedIntoLargeWrites) {
  // 60k records of 0..199 bytes, like a batch of small PutRecord payloads.
  std::mt19937_64 rng(7);
  std::string data;
  std::vector<size_t> pieces;
  const std::string source = MixedData(8 << 20, 8);
  size_t offset = 0;
  for (int i = 0; i < 60000; ++i) {
    size_t n = rng() % 200;
    pieces.push_back(n == 0 ? 1 : n);
    offset += pieces.back();
  }
  data = source.substr(0, offset);
  RecordingSink sink;
  std::string compressed = EncodePieces(GetParam(), data, pieces, &sink);
  ExpectDecodes(GetParam(), compressed, data);
  // Every write but the last is large: the sink is not hit once per record.
  ASSERT_FALSE(sink.writes.empty());
  for (size_t i = 0; i + 1 < sink.writes.size(); ++i) {
    EXPECT_GE(sink.writes[i], 64u * 1024) << "write " << i << " of " << sink.writes.size();
  }
}

TEST_P(CodecTest, LargeMixedInputStreamsWithBoundedBuffering) {
  const std::string data = MixedData(20 << 20, 42);
  // Record-sized appends interleaved with a few multi-MiB ones.
  const std::vector<size_t> pieces = {1, 100, 4000, 3 << 20, 65536, 65537, 218422, 999, 1 << 20};
  RecordingSink sink;
  std::unique_ptr<Encoder> encoder = MakeEncoder(GetParam(), &sink);
  std::string_view rest = data;
  size_t i = 0;
  while (!rest.empty()) {
    size_t n = std::min(rest.size(), pieces[i++ % pieces.size()]);
    ASSERT_TRUE(encoder->Append(rest.substr(0, n)).ok());
    rest.remove_prefix(n);
  }
  const size_t before_finish = sink.data.size();
  ASSERT_TRUE(encoder->Finish().ok());
  // The encoder holds back at most a couple of MiB, not the whole object.
  EXPECT_LE(sink.data.size() - before_finish, size_t{2} << 20);
  if (GetParam() != Compression::kUncompressed) {
    EXPECT_LE(*std::max_element(sink.writes.begin(), sink.writes.end()), size_t{1} << 20);
    EXPECT_LT(sink.data.size(), data.size()) << "mixed data should shrink";
  }
  ExpectDecodes(GetParam(), sink.data, data);
}

// Chunk boundaries depend only on the bytes, not on how they were appended, so
// a retried delivery of the same batch produces the same object. (zlib makes no
// such promise for GZIP/ZIP, so those only have to decode.)
TEST_P(CodecTest, OutputDoesNotDependOnAppendSizes) {
  const std::string data = MixedData(3 << 20, 3);
  std::string one_shot;
  ASSERT_TRUE(Compress(GetParam(), data, &one_shot).ok());
  RecordingSink sink;
  std::string streamed = EncodePieces(GetParam(), data, {777, 70000, 1}, &sink);
  if (GetParam() == Compression::kGzip || GetParam() == Compression::kZip) {
    ExpectDecodes(GetParam(), streamed, data);
  } else {
    EXPECT_TRUE(streamed == one_shot);
  }
}

TEST_P(CodecTest, SinkErrorIsReportedAndSticky) {
  FailingSink sink;
  std::unique_ptr<Encoder> encoder = MakeEncoder(GetParam(), &sink);
  const std::string data = RandomBytes(3 << 20, 5);  // more than one output buffer
  Status append = encoder->Append(data);
  Status finish = append.ok() ? encoder->Finish() : append;
  EXPECT_EQ(finish.code(), StatusCode::kIoError) << finish.ToString();
  EXPECT_EQ(encoder->Append("more").code(), StatusCode::kIoError);
}

TEST_P(CodecTest, AppendAfterFinishAndSecondFinishFail) {
  RecordingSink sink;
  std::unique_ptr<Encoder> encoder = MakeEncoder(GetParam(), &sink);
  ASSERT_TRUE(encoder->Append("abc").ok());
  ASSERT_TRUE(encoder->Finish().ok());
  const std::string output = sink.data;
  EXPECT_FALSE(encoder->Append("def").ok());
  EXPECT_FALSE(encoder->Finish().ok());
  EXPECT_EQ(sink.data, output);
  ExpectDecodes(GetParam(), output, "abc");
}

INSTANTIATE_TEST_SUITE_P(AllFormats, CodecTest,
                         ::testing::Values(Compression::kUncompressed, Compression::kGzip,
                                           Compression::kZip, Compression::kSnappy,
                                           Compression::kHadoopSnappy),
                         [](const ::testing::TestParamInfo<Compression>& info) {
                           return std::string(CompressionName(info.param));
                         });

// --- Format details ----------------------------------------------------------

TEST(Zip, EntryNameIsWhatToolsList) {
  ASSERT_TRUE(HaveTool(Compression::kZip));
  std::string compressed;
  ASSERT_TRUE(
      Compress(Compression::kZip, "payload", &compressed, "stream-1-2024-01-02-03-04-05-uuid")
          .ok());
  TempDir dir;
  const std::string file = dir.Write("a.zip", compressed);
  ToolRun list = RunTool("unzip -Z1 '" + file + "'");
  EXPECT_EQ(list.exit_code, 0);
  EXPECT_EQ(list.out, "stream-1-2024-01-02-03-04-05-uuid\n");
  ToolRun test = RunTool("unzip -tq '" + file + "'");
  EXPECT_EQ(test.exit_code, 0) << test.out;
}

TEST(Zip, NonAsciiEntryNameIsMarkedUtf8) {
  std::string compressed;
  ASSERT_TRUE(Compress(Compression::kZip, "x", &compressed,
                       "donn\xc3\xa9"
                       "es.json")
                  .ok());
  TempDir dir;
  const std::string file = dir.Write("a.zip", compressed);
  // Python decodes names as UTF-8 only when general-purpose bit 11 is set.
  ToolRun names =
      RunTool("PYTHONIOENCODING=utf-8 " + std::string(kPython) +
              " -c 'import zipfile, sys; print(zipfile.ZipFile(sys.argv[1]).namelist()[0])' '" +
              file + "'");
  EXPECT_EQ(names.exit_code, 0);
  EXPECT_EQ(names.out,
            "donn\xc3\xa9"
            "es.json\n");
}

TEST(Zip, EmptyEntryNameIsRejected) {
  RecordingSink sink;
  std::unique_ptr<Encoder> encoder = MakeEncoder(Compression::kZip, &sink, "");
  EXPECT_EQ(encoder->Append("data").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(encoder->Finish().code(), StatusCode::kInvalidArgument);
}

TEST(Zip, EntriesOf4GiBAreRefusedUpFront) {
  // 4 GiB of address space that is never touched: the cap is checked first.
  const size_t size = (size_t{4} << 30) + 1;
  void* p = mmap(nullptr, size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  ASSERT_NE(p, MAP_FAILED) << "mmap of 4 GiB address space failed";
  RecordingSink sink;
  std::unique_ptr<Encoder> encoder = MakeEncoder(Compression::kZip, &sink, "big");
  EXPECT_EQ(encoder->Append(std::string_view(static_cast<const char*>(p), size)).code(),
            StatusCode::kResourceExhausted);
  munmap(p, size);
}

// Hadoop's SnappyDecompressor holds one compressed and one uncompressed block
// in 256 KiB buffers, so blocks must stay within BlockCompressorStream's
// limits even for incompressible input.
TEST(HadoopSnappy, BlocksFitHadoopBuffers) {
  const std::string data = RandomBytes(3 << 20, 11);
  std::string compressed;
  ASSERT_TRUE(Compress(Compression::kHadoopSnappy, data, &compressed).ok());
  auto be32 = [&](size_t at) {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(compressed[at + i]);
    return v;
  };
  size_t at = 0, total = 0, blocks = 0;
  while (at < compressed.size()) {
    ASSERT_LE(at + 8, compressed.size());
    const uint32_t raw = be32(at), packed = be32(at + 4);
    EXPECT_LE(raw, 262144u - (262144u / 6 + 32));
    EXPECT_LE(packed, 262144u);
    size_t n = 0;
    ASSERT_TRUE(snappy::GetUncompressedLength(compressed.data() + at + 8, packed, &n));
    EXPECT_EQ(n, raw);
    total += raw;
    at += 8 + packed;
    ++blocks;
  }
  EXPECT_EQ(at, compressed.size());
  EXPECT_EQ(total, data.size());
  EXPECT_GE(blocks, data.size() / 218422);
}

TEST(Snappy, ChunksRespectFramingLimits) {
  const std::string data = MixedData(2 << 20, 12);
  std::string compressed;
  ASSERT_TRUE(Compress(Compression::kSnappy, data, &compressed).ok());
  ASSERT_EQ(compressed.substr(0, 10), std::string("\xff\x06\x00\x00sNaPpY", 10));
  size_t at = 10, total = 0;
  while (at < compressed.size()) {
    ASSERT_LE(at + 8, compressed.size());
    const uint8_t type = static_cast<uint8_t>(compressed[at]);
    const size_t len = static_cast<uint8_t>(compressed[at + 1]) |
                       static_cast<uint8_t>(compressed[at + 2]) << 8 |
                       static_cast<uint8_t>(compressed[at + 3]) << 16;
    ASSERT_TRUE(type == 0x00 || type == 0x01) << int{type};
    size_t n = len - 4;
    if (type == 0x00) {
      ASSERT_TRUE(snappy::GetUncompressedLength(compressed.data() + at + 8, len - 4, &n));
    }
    EXPECT_LE(n, 65536u);
    total += n;
    at += 4 + len;
  }
  EXPECT_EQ(at, compressed.size());
  EXPECT_EQ(total, data.size());
}

// --- Decoders on streams made by other tools ---------------------------------

TEST(Decoders, MultiMemberGzipFromGzipTool) {
  ASSERT_TRUE(HaveTool(Compression::kGzip));
  TempDir dir;
  const std::string a = MixedData(1 << 20, 21), b = "second member\n";
  dir.Write("a", a);
  dir.Write("b", b);
  ASSERT_EQ(RunTool("cd '" + dir.path() + "' && gzip -c a > ab.gz && gzip -c b >> ab.gz").exit_code,
            0);
  Result<std::string> out = Decompress(Compression::kGzip, dir.Read("ab.gz"));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(*out == a + b);
}

TEST(Decoders, ZipFromPythonZipfile) {
  TempDir dir;
  const std::string data = MixedData(1 << 20, 22);
  dir.Write("in", data);
  for (const char* method : {"ZIP_DEFLATED", "ZIP_STORED"}) {
    ToolRun made =
        RunTool(std::string(kPython) +
                " -c 'import zipfile, sys; z = zipfile.ZipFile(sys.argv[1], \"w\", zipfile." +
                method + "); z.write(sys.argv[2], \"x.json\"); z.close()' '" + dir.path() +
                "/out.zip' '" + dir.path() + "/in'");
    ASSERT_EQ(made.exit_code, 0);
    Result<std::string> out = Decompress(Compression::kZip, dir.Read("out.zip"));
    ASSERT_TRUE(out.ok()) << method << ": " << out.status().ToString();
    EXPECT_TRUE(*out == data) << method;
  }
}

TEST(Decoders, SnappyFramingFromPythonSnappy) {
  ASSERT_TRUE(HaveTool(Compression::kSnappy));
  TempDir dir;
  const std::string data = MixedData(1 << 20, 23);
  dir.Write("in", data);
  ASSERT_EQ(RunPythonSnappy(
                dir, "snappy.stream_compress(open(sys.argv[1], 'rb'), open(sys.argv[2], 'wb'))\n",
                "'" + dir.path() + "/in' '" + dir.path() + "/out'")
                .exit_code,
            0);
  Result<std::string> out = Decompress(Compression::kSnappy, dir.Read("out"));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(*out == data);
}

TEST(Decoders, HadoopSnappyFromPythonSnappy) {
  ASSERT_TRUE(HaveTool(Compression::kHadoopSnappy));
  TempDir dir;
  const std::string data = MixedData(1 << 20, 24);
  dir.Write("in", data);
  ASSERT_EQ(RunTool(std::string(kPython) +
                    " -c 'import snappy.hadoop_snappy as h, sys; "
                    "h.stream_compress(open(sys.argv[1], \"rb\"), open(sys.argv[2], \"wb\"))' '" +
                    dir.path() + "/in' '" + dir.path() + "/out'")
                .exit_code,
            0);
  Result<std::string> out = Decompress(Compression::kHadoopSnappy, dir.Read("out"));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(*out == data);
}

// snappy-java's stream format (reportedly what AWS writes for "Snappy"),
// assembled with python-snappy's raw block compressor.
TEST(Decoders, SnappyJavaStreamIsAccepted) {
  ASSERT_TRUE(HaveTool(Compression::kSnappy));
  TempDir dir;
  const std::string data = MixedData(300 * 1024, 25);
  dir.Write("in", data);
  const char* script =
      "import snappy, struct, sys\n"
      "d = open(sys.argv[1], \"rb\").read()\n"
      "o = open(sys.argv[2], \"wb\")\n"
      "o.write(b\"\\x82SNAPPY\\x00\" + struct.pack(\">ii\", 1, 1))\n"
      "for i in range(0, len(d), 32768):\n"
      "    c = snappy.compress(d[i:i + 32768])\n"
      "    o.write(struct.pack(\">i\", len(c)) + c)\n"
      "o.close()\n";
  dir.Write("make.py", script);
  ASSERT_EQ(RunTool(std::string(kPython) + " '" + dir.path() + "/make.py' '" + dir.path() +
                    "/in' '" + dir.path() + "/out'")
                .exit_code,
            0);
  Result<std::string> out = Decompress(Compression::kSnappy, dir.Read("out"));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(*out == data);
}

// --- Damaged input -----------------------------------------------------------

void ExpectCorruption(Compression c, const std::string& damaged, const char* what) {
  Result<std::string> out = Decompress(c, damaged);
  EXPECT_FALSE(out.ok()) << CompressionName(c) << " " << what << " decoded anyway";
  EXPECT_EQ(out.status().code(), StatusCode::kCorruption)
      << what << ": " << out.status().ToString();
}

TEST(Corruption, Snappy) {
  const std::string data = MixedData(200 * 1024, 31);
  std::string good;
  ASSERT_TRUE(Compress(Compression::kSnappy, data, &good).ok());
  std::string flipped = good;
  flipped[10 + 8 + 100] ^= 0x20;  // inside the first chunk's payload
  ExpectCorruption(Compression::kSnappy, flipped, "flipped payload byte");
  std::string bad_crc = good;
  bad_crc[10 + 4] ^= 0x01;  // the first chunk's CRC
  ExpectCorruption(Compression::kSnappy, bad_crc, "flipped CRC byte");
  ExpectCorruption(Compression::kSnappy, good.substr(0, good.size() - 1), "truncated");
  ExpectCorruption(Compression::kSnappy, good.substr(10), "missing stream identifier");
  ExpectCorruption(Compression::kSnappy, "", "empty");
  std::string unskippable = good;
  unskippable[10] = 0x02;
  ExpectCorruption(Compression::kSnappy, unskippable, "reserved unskippable chunk");
}

TEST(Corruption, Gzip) {
  const std::string data = MixedData(200 * 1024, 32);
  std::string good;
  ASSERT_TRUE(Compress(Compression::kGzip, data, &good).ok());
  ExpectCorruption(Compression::kGzip, good.substr(0, good.size() - 1), "missing last byte");
  ExpectCorruption(Compression::kGzip, good.substr(0, good.size() / 2), "cut in half");
  ExpectCorruption(Compression::kGzip, good.substr(0, 10), "header only");
  std::string bad_crc = good;
  bad_crc[good.size() - 8] ^= 0x01;  // trailer CRC-32
  ExpectCorruption(Compression::kGzip, bad_crc, "flipped CRC byte");
  ExpectCorruption(Compression::kGzip, good + "junk", "trailing garbage");
  ExpectCorruption(Compression::kGzip, "", "empty");
}

TEST(Corruption, Zip) {
  const std::string data = MixedData(200 * 1024, 33);
  std::string good;
  ASSERT_TRUE(Compress(Compression::kZip, data, &good, "e").ok());
  std::string flipped = good;
  flipped[30 + 1 + 1000] ^= 0x10;  // inside the deflate data
  ExpectCorruption(Compression::kZip, flipped, "flipped data byte");
  ExpectCorruption(Compression::kZip, good.substr(0, good.size() - 1), "truncated end record");
  ExpectCorruption(Compression::kZip, good.substr(0, good.size() / 2), "cut in half");
  std::string bad_crc = good;
  const size_t central = good.size() - 22 - (46 + 1);
  bad_crc[central + 16] ^= 0x01;  // CRC-32 in the central directory
  ExpectCorruption(Compression::kZip, bad_crc, "wrong CRC");
}

TEST(Corruption, HadoopSnappy) {
  const std::string data = MixedData(600 * 1024, 34);
  std::string good;
  ASSERT_TRUE(Compress(Compression::kHadoopSnappy, data, &good).ok());
  ExpectCorruption(Compression::kHadoopSnappy, good.substr(0, good.size() - 1), "truncated");
  ExpectCorruption(Compression::kHadoopSnappy, good.substr(0, 6), "truncated length word");
  std::string longer = good;
  longer[1] = static_cast<char>(longer[1] + 1);  // block claims 64 KiB more than it holds
  ExpectCorruption(Compression::kHadoopSnappy, longer, "block longer than its subblocks");
  std::string shorter = good;
  shorter[3] = static_cast<char>(shorter[3] - 1);  // subblock decodes past the block
  ExpectCorruption(Compression::kHadoopSnappy, shorter, "subblock larger than its block");
}

}  // namespace
}  // namespace hydrant::codecs
