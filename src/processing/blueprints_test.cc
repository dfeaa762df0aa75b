// Tests for the builtin blueprints. Expected outputs are written out by hand
// from the blueprints' documented behaviour (docs/blueprints.md, spec section 7);
// one test also cross-checks the syslog parsers against Python's own `re` and
// json.dumps (a small script of ours applying the blueprint's regex, not the
// blueprint's code) over thousands of generated lines.

#include "processing/blueprints.h"

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <boost/json.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "common/base64.h"

namespace hydrant::processing {
namespace {

namespace json = boost::json;
using Kind = InvokeResult::Kind;

constexpr char kStreamArn[] = "arn:aws:firehose:us-east-1:123456789012:deliverystream/my-stream";
constexpr char kKinesisArn[] = "arn:aws:kinesis:us-east-1:123456789012:stream/source-stream";

struct InRecord {
  std::string id;
  std::string data;  // raw bytes; base64-encoded into the event
};

struct OutRecord {
  std::string id;
  std::string result;
  bool has_data = false;
  std::string data_b64;
  std::string data;  // decoded
};

// A Firehose transformation event (spec section 5).
std::string Event(const std::vector<InRecord>& records, bool kinesis_source = false,
                  const std::string& stream_arn = kStreamArn) {
  json::object event;
  event["invocationId"] = "00540a87-5050-496a-84e4-e7d92bbaf5e2";
  event["deliveryStreamArn"] = stream_arn;
  if (kinesis_source) event["sourceKinesisStreamArn"] = kKinesisArn;
  event["region"] = "us-east-1";
  json::array recs;
  for (const InRecord& r : records) {
    json::object o;
    o["recordId"] = r.id;
    o["approximateArrivalTimestamp"] = 1495072949453;
    o["data"] = base64::Encode(r.data);
    if (kinesis_source) {
      o["kinesisRecordMetadata"] = {
          {"shardId", "shardId-000000000000"},
          {"partitionKey", "pk-" + r.id},
          {"approximateArrivalTimestamp", 1507217624302},
          {"sequenceNumber", "49546986683135544286507457936321625675700192471156785154"},
          {"subsequenceNumber", 0}};
    }
    recs.push_back(std::move(o));
  }
  event["records"] = std::move(recs);
  return json::serialize(event);
}

FunctionRef Fn(std::string_view name) {
  FunctionRef fn;
  fn.name = std::string(name);
  fn.arn = "arn:aws:lambda:us-east-1:000000000000:function:" + fn.name;
  fn.region = "us-east-1";
  fn.account = "000000000000";
  return fn;
}

InvokeResult Call(BuiltinInvoker& invoker, std::string_view name, const std::string& event) {
  return invoker.Invoke(Fn(name), event, std::chrono::seconds(60));
}

std::vector<OutRecord> Records(const InvokeResult& r) {
  std::vector<OutRecord> out;
  EXPECT_EQ(r.kind, Kind::kOk) << r.payload;
  if (r.kind != Kind::kOk) return out;
  const json::value response = json::parse(r.payload);
  for (const json::value& v : response.at("records").as_array()) {
    const json::object& o = v.as_object();
    OutRecord rec;
    rec.id = std::string(o.at("recordId").as_string());
    rec.result = std::string(o.at("result").as_string());
    if (const json::value* d = o.if_contains("data")) {
      rec.has_data = true;
      rec.data_b64 = std::string(d->as_string());
      // Left empty when not canonical base64 (a ProcessingFailed record echoes
      // its input as is); tests comparing data then fail on the mismatch.
      rec.data = base64::Decode(rec.data_b64).value_or("");
    }
    out.push_back(std::move(rec));
  }
  return out;
}

// The Python exception the invocation reported: {errorType, errorMessage}.
std::pair<std::string, std::string> Error(const InvokeResult& r) {
  EXPECT_EQ(r.kind, Kind::kFunctionError) << r.payload;
  EXPECT_EQ(r.error_code, "Lambda.FunctionError");
  if (r.kind != Kind::kFunctionError) return {};
  const json::object doc = json::parse(r.payload).as_object();
  return {std::string(doc.at("errorType").as_string()),
          std::string(doc.at("errorMessage").as_string())};
}

// Runs one line through a blueprint and returns its single output record.
OutRecord One(std::string_view name, const std::string& line) {
  BuiltinInvoker invoker;
  std::vector<OutRecord> out = Records(Call(invoker, name, Event({{"r1", line}})));
  EXPECT_EQ(out.size(), 1u);
  return out.empty() ? OutRecord{} : out[0];
}

std::string Gzip(std::string_view data) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&zs, data.size()) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

std::string Gunzip(std::string_view data) {
  z_stream zs{};
  EXPECT_EQ(inflateInit2(&zs, 31), Z_OK);
  std::string out;
  char buf[65536];
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof(buf);
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf, sizeof(buf) - zs.avail_out);
  }
  EXPECT_EQ(rc, Z_STREAM_END);
  EXPECT_EQ(zs.avail_in, 0u);
  inflateEnd(&zs);
  return out;
}

// A CloudWatch Logs subscription envelope (compact JSON, as CloudWatch sends it).
std::string Envelope(std::string_view type, const std::vector<std::string>& messages) {
  json::object env;
  env["messageType"] = type;
  env["owner"] = "123456789012";
  env["logGroup"] = "/aws/lambda/f";
  env["logStream"] = "2024/01/01/[$LATEST]abc";
  env["subscriptionFilters"] = json::array{"to-firehose"};
  json::array events;
  int64_t ts = 1700000000000;
  for (size_t i = 0; i < messages.size(); ++i) {
    events.push_back(
        {{"id", std::to_string(i + 1)}, {"timestamp", ts + int64_t(i)}, {"message", messages[i]}});
  }
  env["logEvents"] = std::move(events);
  return json::serialize(env);
}

// --- Names -------------------------------------------------------------------

TEST(BlueprintNames, FiveNamesSelectBlueprints) {
  const std::vector<std::string> names = BuiltinInvoker::Names();
  EXPECT_EQ(names,
            (std::vector<std::string>{"hydrant-general-processing", "hydrant-syslog-to-json",
                                      "hydrant-syslog-to-csv", "hydrant-kinesis-streams-processing",
                                      "hydrant-cloudwatch-logs-processor"}));
  for (const std::string& n : names) EXPECT_TRUE(BuiltinInvoker::Has(n)) << n;
  EXPECT_FALSE(BuiltinInvoker::Has("syslog-to-json"));
  EXPECT_FALSE(BuiltinInvoker::Has("hydrant-syslog-to-json:1"));
  EXPECT_FALSE(BuiltinInvoker::Has(""));
}

TEST(BlueprintNames, UnknownFunctionIsNotFound) {
  BuiltinInvoker invoker;
  InvokeResult r = Call(invoker, "hydrant-nope", Event({{"a", "x"}}));
  EXPECT_EQ(r.kind, Kind::kFatal);
  EXPECT_EQ(r.error_code, "Lambda.ResourceNotFound");
  EXPECT_NE(r.error_message.find("hydrant-nope"), std::string::npos);
}

TEST(BlueprintNames, SelectedByTheFunctionNameOfAnArn) {
  FunctionRef fn;
  ASSERT_TRUE(ParseFunctionRef(
      "arn:aws:lambda:eu-west-1:000000000000:function:hydrant-syslog-to-csv:$LATEST", &fn));
  BuiltinInvoker invoker;
  std::vector<OutRecord> out =
      Records(invoker.Invoke(fn, Event({{"a", "Jan 1 00:00:00 h p: m"}}), std::chrono::seconds(1)));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].data, "Jan 1 00:00:00,h,p,null,m\n");
}

TEST(BlueprintNames, EventThatIsNotJsonIsRejectedLikeLambdaDoes) {
  BuiltinInvoker invoker;
  InvokeResult r = Call(invoker, BuiltinInvoker::kGeneralProcessing, "{not json");
  EXPECT_EQ(r.kind, Kind::kFatal);
}

// --- General processing / Kinesis streams -----------------------------------

TEST(BlueprintGeneral, ReturnsEveryRecordUnchangedAndOk) {
  std::string all_bytes;
  for (int i = 0; i < 256; ++i) all_bytes.push_back(static_cast<char>(i));
  BuiltinInvoker invoker;
  std::vector<OutRecord> out =
      Records(Call(invoker, BuiltinInvoker::kGeneralProcessing,
                   Event({{"id-1", "hello\n"}, {"id-2", all_bytes}, {"id-3", ""}})));
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].id, "id-1");
  EXPECT_EQ(out[0].result, "Ok");
  EXPECT_EQ(out[0].data, "hello\n");
  EXPECT_EQ(out[1].id, "id-2");
  EXPECT_EQ(out[1].data, all_bytes);  // binary-safe: no UTF-8 requirement
  EXPECT_EQ(out[2].id, "id-3");
  EXPECT_TRUE(out[2].has_data);
  EXPECT_EQ(out[2].data_b64, "");
}

TEST(BlueprintGeneral, LenientBase64LikePython) {
  // base64.b64decode skips characters outside the alphabet and stops after padding.
  BuiltinInvoker invoker;
  const std::string event =
      R"({"records":[{"recordId":"a","data":"aGVs\nbG8="},{"recordId":"b","data":"YQ==YWJj"}]})";
  std::vector<OutRecord> out = Records(Call(invoker, BuiltinInvoker::kGeneralProcessing, event));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].data, "hello");
  EXPECT_EQ(out[0].data_b64, "aGVsbG8=");
  EXPECT_EQ(out[1].data, "a");
}

TEST(BlueprintGeneral, MalformedRecordsRaiseLikePython) {
  BuiltinInvoker invoker;
  auto err = Error(Call(invoker, BuiltinInvoker::kGeneralProcessing,
                        R"({"records":[{"recordId":"a","data":"YQ"}]})"));
  EXPECT_EQ(err.first, "Error");
  EXPECT_EQ(err.second, "Incorrect padding");
  err =
      Error(Call(invoker, BuiltinInvoker::kGeneralProcessing, R"({"records":[{"data":"YQ=="}]})"));
  EXPECT_EQ(err.first, "KeyError");
  EXPECT_EQ(err.second, "'recordId'");
  err = Error(Call(invoker, BuiltinInvoker::kGeneralProcessing, R"({"invocationId":"x"})"));
  EXPECT_EQ(err.first, "KeyError");
  EXPECT_EQ(err.second, "'records'");
  err = Error(Call(invoker, BuiltinInvoker::kGeneralProcessing,
                   R"({"records":[{"recordId":"a","data":5}]})"));
  EXPECT_EQ(err.first, "TypeError");
  EXPECT_EQ(err.second, "argument should be a bytes-like object or ASCII string, not 'int'");
}

TEST(BlueprintKinesis, IdentityWithKinesisMetadata) {
  BuiltinInvoker invoker;
  std::vector<OutRecord> out =
      Records(Call(invoker, BuiltinInvoker::kKinesisStreamsProcessing,
                   Event({{"k1", "from kinesis"}, {"k2", "\x01\x02"}}, /*kinesis_source=*/true)));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].result, "Ok");
  EXPECT_EQ(out[0].data, "from kinesis");
  EXPECT_EQ(out[1].data, "\x01\x02");
}

TEST(BlueprintKinesis, DirectPutEventRaisesKeyErrorLikeTheBlueprint) {
  BuiltinInvoker invoker;
  auto err = Error(Call(invoker, BuiltinInvoker::kKinesisStreamsProcessing, Event({{"k1", "x"}})));
  EXPECT_EQ(err.first, "KeyError");
  EXPECT_EQ(err.second, "'kinesisRecordMetadata'");
}

// --- Syslog to JSON ------------------------------------------------------------

constexpr std::string_view kJson = BuiltinInvoker::kSyslogToJson;
constexpr std::string_view kCsv = BuiltinInvoker::kSyslogToCsv;

TEST(BlueprintSyslogJson, LineWithPid) {
  OutRecord r = One(kJson, "Mar  7 09:15:01 web-01 sshd[4242]: Accepted publickey for alice");
  EXPECT_EQ(r.result, "Ok");
  EXPECT_EQ(r.data, R"({"timestamp": "Mar  7 09:15:01", "hostname": "web-01", "program": "sshd", )"
                    R"("processid": "4242", "message": "Accepted publickey for alice"})");
}

TEST(BlueprintSyslogJson, LineWithoutPidHasNullProcessId) {
  OutRecord r = One(kJson, "Jan 15 23:59:59 host1 kernel: Out of memory: Killed process 1");
  EXPECT_EQ(r.result, "Ok");
  EXPECT_EQ(r.data, R"({"timestamp": "Jan 15 23:59:59", "hostname": "host1", "program": "kernel", )"
                    R"("processid": null, "message": "Out of memory: Killed process 1"})");
}

TEST(BlueprintSyslogJson, PriorityTagsOfTheFormDigitsAnyDigits) {
  // <13.6> fits <[0-9]+.[0-9]+>; so does <134> (1, '3', 4) by backtracking.
  OutRecord r = One(kJson, "Sep 30 12:00:00 <13.6> gw.example.com CRON[77]: job done");
  EXPECT_EQ(r.data,
            R"({"timestamp": "Sep 30 12:00:00", "hostname": "gw.example.com", "program": "CRON", )"
            R"("processid": "77", "message": "job done"})");
  r = One(kJson, "Oct 1 00:00:00 <134> host app: x");
  EXPECT_EQ(r.data, R"({"timestamp": "Oct 1 00:00:00", "hostname": "host", "program": "app", )"
                    R"("processid": null, "message": "x"})");
  // Two digits cannot be split into digits, one character, digits.
  r = One(kJson, "Oct 1 00:00:00 <13> host app: x");
  EXPECT_EQ(r.result, "ProcessingFailed");
}

TEST(BlueprintSyslogJson, MonthVariants) {
  const std::pair<std::string, bool> cases[] = {
      {"Jan", true},  {"January", true}, {"Sep", true},   {"September", true},
      {"May", true},  {"June", true},    {"Sept", false}, {"Janu", false},
      {"jan", false}, {"Mayday", false}, {"Dec", true},   {"Decem", false},
  };
  for (const auto& [month, matches] : cases) {
    const std::string line = month + " 5 01:02:03 h p: m";
    OutRecord r = One(kJson, line);
    if (matches) {
      EXPECT_EQ(r.data, R"({"timestamp": ")" + month +
                            R"( 5 01:02:03", "hostname": "h", "program": "p", "processid": null, )"
                            R"("message": "m"})")
          << line;
    } else {
      EXPECT_EQ(r.result, "ProcessingFailed") << line;
    }
  }
}

TEST(BlueprintSyslogJson, DaysAndTimes) {
  const std::pair<std::string, std::string> matching[] = {
      {"Feb  5 10:11:12", "Feb  5 10:11:12"},  // day " 5" (two spaces)
      {"Feb 05 10:11:12", "Feb 05 10:11:12"},
      {"Feb 31 10:11:12", "Feb 31 10:11:12"},  // the pattern does not know calendars
      {"Feb 5\t7:05:09", "Feb 5\\t7:05:09"},   // tab, one-digit hour
      {"Feb 5 23:59:60", "Feb 5 23:59:60"},    // leap second
      {"Feb 5 23:59:7", "Feb 5 23:59:7"},      // one-digit second
      {"Feb 5 00:00:00.123456", "Feb 5 00:00:00.123456"},
      {"Feb 5 00:00:00,5", "Feb 5 00:00:00,5"},
      {"Feb 5 00:00:00:77", "Feb 5 00:00:00:77"},
  };
  for (const auto& [ts, json_ts] : matching) {
    OutRecord r = One(kJson, ts + " h p: m");
    EXPECT_EQ(r.data,
              R"({"timestamp": ")" + json_ts +
                  R"(", "hostname": "h", "program": "p", "processid": null, "message": "m"})")
        << ts;
  }
  for (const std::string ts :
       {"Feb 32 10:11:12", "Feb 0 10:11:12", "Feb 00 10:11:12", "Feb 5 24:00:00", "Feb 5 10:60:00",
        "Feb 5 10:11:61", "Feb 5 123:00:00", "Feb 5 10:11", "Feb5 10:11:12", " Feb 5 10:11:12"}) {
    EXPECT_EQ(One(kJson, ts + " h p: m").result, "ProcessingFailed") << ts;
  }
}

TEST(BlueprintSyslogJson, StructureAfterTheTimestamp) {
  // The program may hold / % . - _; the message stops at the first newline.
  OutRecord r = One(kJson, "Apr 1 01:02:03 h postfix/smtpd%1.x-y_z[12]: a\nb");
  EXPECT_EQ(
      r.data,
      R"({"timestamp": "Apr 1 01:02:03", "hostname": "h", "program": "postfix/smtpd%1.x-y_z", )"
      R"("processid": "12", "message": "a"})");
  // Empty message.
  r = One(kJson, "Apr 1 01:02:03 h p: ");
  EXPECT_EQ(r.data, R"({"timestamp": "Apr 1 01:02:03", "hostname": "h", "program": "p", )"
                    R"("processid": null, "message": ""})");
  for (const std::string bad :
       {"Apr 1 01:02:03 h p:m", "Apr 1 01:02:03 h p[0]: m", "Apr 1 01:02:03 h p[]: m",
        "Apr 1 01:02:03 h p[1a]: m", "Apr 1 01:02:03 h  p: m", "Apr 1 01:02:03  h p: m",
        "Apr 1 01:02:03 h:p: m", "Apr 1 01:02:03 h p", "", "not syslog at all"}) {
    EXPECT_EQ(One(kJson, bad).result, "ProcessingFailed") << bad;
  }
}

TEST(BlueprintSyslogJson, NonMatchingRecordKeepsItsOriginalData) {
  BuiltinInvoker invoker;
  // Not canonical base64 (a newline inside): the original text comes back as is.
  const std::string event = R"({"records":[{"recordId":"x","data":"bm90IHN5c2xv\nZw=="}]})";
  std::vector<OutRecord> out = Records(Call(invoker, kJson, event));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].result, "ProcessingFailed");
  EXPECT_EQ(out[0].data_b64, "bm90IHN5c2xv\nZw==");
}

TEST(BlueprintSyslogJson, UnicodeIsEscapedAsciiLikeJsonDumps) {
  // ensure_ascii: \uXXXX in lower-case hex, astral characters as surrogate
  // pairs, DEL and control characters escaped, '/' left alone.
  OutRecord r = One(kJson,
                    "May 2 03:04:05 h p: h\xC3\xA9llo \xE2\x80\x93 \xF0\x9F\x98\x80 \"q\" \\ / "
                    "\t\x01\x7f\r\b\f");
  EXPECT_EQ(
      r.data,
      R"({"timestamp": "May 2 03:04:05", "hostname": "h", "program": "p", "processid": null, )"
      R"("message": "h\u00e9llo \u2013 \ud83d\ude00 \"q\" \\ / \t\u0001\u007f\r\b\f"})");
}

TEST(BlueprintSyslogJson, UnicodeClassesFollowPython3) {
  // \w is Unicode: letters of any script (and numerals like Arabic-Indic digits)
  // belong in the program name.
  OutRecord r = One(kJson, "Jun 3 10:00:00 host pr\xC3\xB6gram[1]: x");
  EXPECT_EQ(r.data,
            R"({"timestamp": "Jun 3 10:00:00", "hostname": "host", "program": "pr\u00f6gram", )"
            R"("processid": "1", "message": "x"})");
  r = One(kJson, "Jun 3 10:00:00 host \xE5\x90\x8D\xD9\xA3: x");
  EXPECT_EQ(r.data,
            R"({"timestamp": "Jun 3 10:00:00", "hostname": "host", "program": "\u540d\u0663", )"
            R"("processid": null, "message": "x"})");
  // \s is Unicode too: a no-break space or an ideographic space separates.
  r = One(kJson,
          "Jul\xC2\xA0"
          "3\xE3\x80\x80"
          "10:00:00 host p: x");
  EXPECT_EQ(r.data,
            R"({"timestamp": "Jul\u00a03\u300010:00:00", "hostname": "host", "program": "p", )"
            R"("processid": null, "message": "x"})");
  // But the hostname class is ASCII, and a word character glued to the month
  // breaks the \b after it.
  EXPECT_EQ(One(kJson, "Jun 3 10:00:00 h\xC3\xB6st p: x").result, "ProcessingFailed");
  EXPECT_EQ(One(kJson, "Jun\xC3\xA9 3 10:00:00 h p: x").result, "ProcessingFailed");
}

TEST(BlueprintSyslogJson, NonUtf8RecordFailsTheWholeInvocation) {
  // payload.decode('utf-8') raises, so no record of the batch is answered.
  BuiltinInvoker invoker;
  InvokeResult r =
      Call(invoker, kJson,
           Event({{"good", "Jan 1 00:00:00 h p: fine"}, {"bad", "Jan 1 00:00:00 h p: caf\xE9!"}}));
  auto err = Error(r);
  EXPECT_EQ(err.first, "UnicodeDecodeError");
  EXPECT_EQ(err.second,
            "'utf-8' codec can't decode byte 0xe9 in position 23: invalid continuation byte");
  err = Error(Call(invoker, kJson, Event({{"bad", "ab\xFF"}})));
  EXPECT_EQ(err.second, "'utf-8' codec can't decode byte 0xff in position 2: invalid start byte");
  err = Error(Call(invoker, kJson, Event({{"bad", "ab\xE2\x82"}})));
  EXPECT_EQ(err.second, "'utf-8' codec can't decode bytes in position 2-3: unexpected end of data");
  // Encoded surrogates are not UTF-8 either.
  err = Error(Call(invoker, kJson, Event({{"bad", "\xED\xA0\x80"}})));
  EXPECT_EQ(err.second,
            "'utf-8' codec can't decode byte 0xed in position 0: invalid continuation byte");
}

TEST(BlueprintSyslogJson, MixedBatchKeepsOrderAndResults) {
  BuiltinInvoker invoker;
  std::vector<OutRecord> out = Records(Call(invoker, kJson,
                                            Event({{"1", "Jan 1 00:00:00 h a: one"},
                                                   {"2", "garbage"},
                                                   {"3", "Dec 31 23:59:59 h b[9]: three"}})));
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].id, "1");
  EXPECT_EQ(out[0].result, "Ok");
  EXPECT_EQ(out[1].id, "2");
  EXPECT_EQ(out[1].result, "ProcessingFailed");
  EXPECT_EQ(out[1].data, "garbage");
  EXPECT_EQ(out[2].id, "3");
  EXPECT_EQ(out[2].data, R"({"timestamp": "Dec 31 23:59:59", "hostname": "h", "program": "b", )"
                         R"("processid": "9", "message": "three"})");
}

TEST(BlueprintSyslogJson, LongRunsDoNotBacktrackForever) {
  // Python's engine needs quadratic time on these; the answers are known.
  const std::string digits(300000, '7');
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(One(kJson, "Jan 1 00:00:00 <" + digits + " h p: m").result, "ProcessingFailed");
  EXPECT_EQ(One(kJson, "Jan 1 00:00:00 <" + digits + "> h p: m").data,
            R"({"timestamp": "Jan 1 00:00:00", "hostname": "h", "program": "p", )"
            R"("processid": null, "message": "m"})");
  EXPECT_EQ(One(kJson, "Jan 1 00:00:00 " + std::string(300000, 'h') + "!").result,
            "ProcessingFailed");
  EXPECT_EQ(One(kJson, "Jan 1 00:00:00 h " + std::string(300000, 'p') + "[" + digits).result,
            "ProcessingFailed");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

// --- Syslog to CSV -------------------------------------------------------------

TEST(BlueprintSyslogCsv, FieldsJoinedByCommasWithNullForMissingPid) {
  EXPECT_EQ(One(kCsv, "Mar  7 09:15:01 web-01 sshd[4242]: Accepted publickey for alice").data,
            "Mar  7 09:15:01,web-01,sshd,4242,Accepted publickey for alice\n");
  EXPECT_EQ(One(kCsv, "January 15 23:59:59 <1.2> host1 kernel: Out of memory").data,
            "January 15 23:59:59,host1,kernel,null,Out of memory\n");
}

TEST(BlueprintSyslogCsv, NoQuotingAndRawUtf8) {
  // The blueprint concatenates: commas and quotes in the message are not escaped.
  OutRecord r = One(kCsv, "Aug 9 08:07:06 h p[5]: a,b,\"c\" caf\xC3\xA9 \xF0\x9F\x98\x80\r\nrest");
  EXPECT_EQ(r.result, "Ok");
  EXPECT_EQ(r.data, "Aug 9 08:07:06,h,p,5,a,b,\"c\" caf\xC3\xA9 \xF0\x9F\x98\x80\r\n");
  EXPECT_EQ(One(kCsv, "Aug 9 08:07:06 h p 5: m").result, "ProcessingFailed");
}

// --- Cross-check against Python's re and json.dumps ----------------------------

constexpr const char* kPython = "/usr/bin/python3";

// Generated syslog-like lines, from parts that fit the pattern (listed first
// in each set, picked eleven times in twelve) and near-misses and Unicode edge
// cases (picked otherwise).
std::vector<std::string> GeneratedLines(size_t n) {
  struct Parts {
    std::vector<std::string> good, odd;
  };
  const Parts months = {{"Jan", "January", "Sep", "September", "May", "Dec", "Nov", "June"},
                        {"Sept", "Mayo", "jan", "Decem", "Janu"}};
  const Parts spaces = {{" ", "  ", "\t", "\xC2\xA0", "\xE3\x80\x80", "\xE2\x80\xA8"},
                        {"", " \n ", "\xE2\x80\x8B"}};
  const Parts days = {{"1", "01", "5", "09", "10", "29", "30", "31"}, {"32", "0", "00", "3 1"}};
  const Parts hours = {{"0", "7", "09", "19", "20", "23", "2"}, {"24", "123", ""}};
  const Parts minutes = {{"00", "59", "05"}, {"60", "5", "\xD9\xA3\xD9\xA3"}};
  const Parts seconds = {{"00", "59", "60", "7", "5.5", "05,123", "07:88"},
                         {"61", "60.", "6x", ".5"}};
  const Parts gaps = {{" "}, {"  ", "", "\t"}};
  const Parts priorities = {{"", "<13.6> ", "<134> ", "<1>2> ", "<1x2> ",
                             "<1\xC3\xA9"
                             "2> "},
                            {"<13> ", "<> ", "<1.> ", "<a.1> "}};
  const Parts hosts = {{"web-01", "gw.example.com", "h_1", "x", "10.0.0.1"},
                       {"h\xC3\xA9", "", "a b", "h:"}};
  const Parts programs = {{"sshd", "CRON", "pr\xC3\xB6gram", "\xE5\x90\x8D\xE5\x89\x8D",
                           "a/b%c-d.e_f", "\xD9\xA3", "\xE2\x85\xAB", "\xC2\xBD"},
                          {"x:y", "", "p\xCC\x81", "t\xE2\x80\xBFt", "a b", "\xE2\x80\x94"}};
  const Parts pids = {{"", "[1]", "[4242]", "[90]"}, {"[0]", "[01]", "[]", "[12a]", "[1"}};
  const Parts colons = {{": "}, {":", " : ", ":\t"}};
  const Parts messages = {
      {"hello", "", "a,b,\"c\"", "h\xC3\xA9llo \xE2\x80\x93 \xF0\x9F\x98\x80", "line1\nline2",
       "\x01\x7f\t", "\\/", "x\r\n", "key=\"v\" \xE2\x80\xA8 z"},
      {"\n"}};
  std::mt19937_64 rng(20240611);
  auto pick = [&](const Parts& p) {
    const std::vector<std::string>& from = rng() % 12 != 0 ? p.good : p.odd;
    return from[rng() % from.size()];
  };
  std::vector<std::string> lines;
  for (size_t i = 0; i < n; ++i) {
    lines.push_back(pick(months) + pick(spaces) + pick(days) + pick(spaces) + pick(hours) + ":" +
                    pick(minutes) + ":" + pick(seconds) + pick(gaps) + pick(priorities) +
                    pick(hosts) + " " + pick(programs) + pick(pids) + pick(colons) +
                    pick(messages));
  }
  return lines;
}

TEST(BlueprintSyslogCrossCheck, SameAsPythonReAndJsonDumps) {
  if (!std::filesystem::exists(kPython)) GTEST_SKIP() << kPython << " not installed";
  const std::vector<std::string> lines = GeneratedLines(4000);
  const auto dir =
      std::filesystem::temp_directory_path() / ("hydrant-blueprints-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  json::array encoded;
  for (const std::string& l : lines) encoded.push_back(json::string(base64::Encode(l)));
  std::ofstream(dir / "lines.json") << json::serialize(encoded);
  // Our own script: the blueprint's regex (spec section 7) and the output rules.
  std::ofstream(dir / "check.py") << R"PY(
import base64, json, re, sys
p = re.compile(r"^((?:\b(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|Jun(?:e)?|Jul(?:y)?|Aug(?:ust)?|Sep(?:tember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\b\s+(?:(?:0[1-9])|(?:[12][0-9])|(?:3[01])|[1-9])\s+(?:(?:2[0123]|[01]?[0-9]):(?:[0-5][0-9]):(?:(?:[0-5]?[0-9]|60)(?:[:\.,][0-9]+)?)))) (?:<(?:[0-9]+).(?:[0-9]+)> )?((?:[a-zA-Z0-9._-]+)) ([\w\._/%-]+)(?:\[((?:[1-9][0-9]*))\])?: (.*)")
out = []
for b in json.load(open(sys.argv[1])):
    m = p.match(base64.b64decode(b).decode('utf-8'))
    if m is None:
        out.append(None)
        continue
    j = json.dumps({'timestamp': m.group(1), 'hostname': m.group(2), 'program': m.group(3),
                    'processid': m.group(4), 'message': m.group(5)})
    c = m.group(1) + ',' + m.group(2) + ',' + m.group(3) + ',' + (m.group(4) or 'null') + ',' + m.group(5) + '\n'
    out.append([base64.b64encode(j.encode('utf-8')).decode(), base64.b64encode(c.encode('utf-8')).decode()])
json.dump(out, sys.stdout)
)PY";
  const std::string cmd = std::string(kPython) + " " + (dir / "check.py").string() + " " +
                          (dir / "lines.json").string();
  FILE* pipe = ::popen(cmd.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string py_out;
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) py_out.append(buf, n);
  ASSERT_EQ(::pclose(pipe), 0) << py_out;
  std::filesystem::remove_all(dir);
  const json::array expected = json::parse(py_out).as_array();
  ASSERT_EQ(expected.size(), lines.size());

  std::vector<InRecord> records;
  for (size_t i = 0; i < lines.size(); ++i) records.push_back({std::to_string(i), lines[i]});
  BuiltinInvoker invoker;
  const std::string event = Event(records);
  const std::vector<OutRecord> as_json = Records(Call(invoker, kJson, event));
  const std::vector<OutRecord> as_csv = Records(Call(invoker, kCsv, event));
  ASSERT_EQ(as_json.size(), lines.size());
  ASSERT_EQ(as_csv.size(), lines.size());
  size_t matched = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (expected[i].is_null()) {
      EXPECT_EQ(as_json[i].result, "ProcessingFailed") << lines[i];
      EXPECT_EQ(as_csv[i].result, "ProcessingFailed") << lines[i];
      continue;
    }
    ++matched;
    EXPECT_EQ(as_json[i].result, "Ok") << lines[i];
    EXPECT_EQ(as_json[i].data_b64, expected[i].as_array()[0].as_string()) << lines[i];
    EXPECT_EQ(as_csv[i].data_b64, expected[i].as_array()[1].as_string()) << lines[i];
  }
  std::printf("cross-check: %zu of %zu lines matched\n", matched, lines.size());
  // The generator must exercise both outcomes substantially.
  EXPECT_GT(matched, lines.size() / 20);
  EXPECT_LT(matched, lines.size() * 3 / 4);
}

// --- CloudWatch Logs processor -------------------------------------------------

constexpr std::string_view kCwl = BuiltinInvoker::kCloudWatchLogsProcessor;

TEST(BlueprintCloudWatchLogs, ControlDataAndOtherMessages) {
  BuiltinInvoker invoker;
  std::vector<OutRecord> out = Records(Call(
      invoker, kCwl,
      Event(
          {{"control", Gzip(Envelope("CONTROL_MESSAGE", {"CWL CONTROL MESSAGE: Checking health"}))},
           {"data", Gzip(Envelope("DATA_MESSAGE", {"first", "second {\"k\": 1}", "caf\xC3\xA9"}))},
           {"other", Gzip(Envelope("SOMETHING_ELSE", {"x"}))},
           {"empty", Gzip(Envelope("DATA_MESSAGE", {}))}})));
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0].id, "control");
  EXPECT_EQ(out[0].result, "Dropped");
  EXPECT_FALSE(out[0].has_data);
  EXPECT_EQ(out[1].id, "data");
  EXPECT_EQ(out[1].result, "Ok");
  EXPECT_EQ(out[1].data, "first\nsecond {\"k\": 1}\ncaf\xC3\xA9\n");
  EXPECT_EQ(out[2].id, "other");
  EXPECT_EQ(out[2].result, "ProcessingFailed");
  EXPECT_FALSE(out[2].has_data);
  EXPECT_EQ(out[3].result, "Ok");
  EXPECT_TRUE(out[3].has_data);
  EXPECT_EQ(out[3].data, "");
}

TEST(BlueprintCloudWatchLogs, MultiMemberGzipWithZeroPaddingLikeGzipDecompress) {
  const std::string env = Envelope("DATA_MESSAGE", {"a", "b"});
  const std::string data = Gzip(env.substr(0, 10)) + Gzip(env.substr(10)) + std::string(7, '\0');
  EXPECT_EQ(One(kCwl, data).data, "a\nb\n");
}

TEST(BlueprintCloudWatchLogs, BadGzipFailsTheInvocation) {
  BuiltinInvoker invoker;
  const std::string env = Envelope("DATA_MESSAGE", {"a"});
  auto err = Error(Call(invoker, kCwl, Event({{"plain", env}})));
  EXPECT_EQ(err.first, "BadGzipFile");
  EXPECT_EQ(err.second, "Not a gzipped file (b'{\"')");

  const std::string gz = Gzip(env);
  err = Error(Call(invoker, kCwl, Event({{"cut", gz.substr(0, gz.size() - 12)}})));
  EXPECT_EQ(err.first, "EOFError");
  EXPECT_EQ(err.second, "Compressed file ended before the end-of-stream marker was reached");

  std::string bad_crc = gz;
  bad_crc[bad_crc.size() - 8] ^= 0x55;
  err = Error(Call(invoker, kCwl, Event({{"crc", bad_crc}})));
  EXPECT_EQ(err.first, "BadGzipFile");
  EXPECT_EQ(err.second, "CRC check failed");

  err = Error(Call(invoker, kCwl, Event({{"junk", gz + "xy"}})));
  EXPECT_EQ(err.second, "Not a gzipped file (b'xy')");

  err = Error(Call(invoker, kCwl, Event({{"json", Gzip("{\"messageType\": ")}})));
  EXPECT_EQ(err.first, "JSONDecodeError");

  err = Error(Call(invoker, kCwl, Event({{"nokey", Gzip("{\"owner\": \"1\"}")}})));
  EXPECT_EQ(err.first, "KeyError");
  EXPECT_EQ(err.second, "'messageType'");

  err = Error(Call(
      invoker, kCwl,
      Event({{"num", Gzip(R"({"messageType":"DATA_MESSAGE","logEvents":[{"message":5}]})")}})));
  EXPECT_EQ(err.first, "TypeError");
  EXPECT_EQ(err.second, "unsupported operand type(s) for +: 'int' and 'str'");
}

TEST(BlueprintCloudWatchLogs, StreamArnIsRequiredEvenWithoutReingestion) {
  BuiltinInvoker invoker;
  auto err =
      Error(Call(invoker, kCwl,
                 R"({"records":[{"recordId":"a","data":"H4sIAAAAAAAAA6uuBQBDv6ajAgAAAA=="}]})"));
  EXPECT_EQ(err.first, "KeyError");
  EXPECT_EQ(err.second, "'deliveryStreamArn'");
  err = Error(Call(invoker, kCwl, Event({}, false, "not-an-arn")));
  EXPECT_EQ(err.first, "IndexError");
}

// A re-ingestion callback that records what it was given.
struct FakeReingest {
  std::vector<std::string> streams;
  std::vector<std::vector<std::string>> batches;
  int fail_first = 0;  // number of calls that fail before the first success
  int calls = 0;
  ReingestFn fn() {
    return [this](std::string_view stream, std::vector<std::string> records) -> Status {
      ++calls;
      if (calls <= fail_first) return Status::Unavailable("ServiceUnavailableException: slow down");
      streams.emplace_back(stream);
      batches.push_back(std::move(records));
      return Status::Ok();
    };
  }
};

TEST(BlueprintCloudWatchLogs, OversizedRecordIsSplitInHalvesAndReingested) {
  // Two 2,500,000-character events: the output (5,000,002 bytes) is 6,666,672
  // base64 characters, above 6,000,000.
  const std::string big(2500000, 'a');
  json::object env =
      json::parse(Envelope("DATA_MESSAGE", {big, std::string(2500000, 'b')})).as_object();
  env["extra"] = json::parse(R"([0.5, 1e16, 1e-05, 100.0, 123456789.125, true, null, "\u00e9/"])");
  const std::string original = Gzip(json::serialize(env));
  FakeReingest fake;
  BuiltinInvoker invoker(fake.fn());
  std::vector<OutRecord> out = Records(Call(
      invoker, kCwl, Event({{"big", original}, {"small", Gzip(Envelope("DATA_MESSAGE", {"s"}))}})));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].result, "Dropped");
  EXPECT_FALSE(out[0].has_data);
  EXPECT_EQ(out[1].result, "Ok");
  EXPECT_EQ(out[1].data, "s\n");
  ASSERT_EQ(fake.batches.size(), 1u);
  EXPECT_EQ(fake.streams[0], "my-stream");
  ASSERT_EQ(fake.batches[0].size(), 2u);
  // Each half is gzip of json.dumps(envelope with half the events), so it comes
  // back through the processor like a CloudWatch record.
  auto expected = [&](std::string_view id, int64_t ts, const std::string& message) {
    return R"({"messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": "/aws/lambda/f", )"
           R"("logStream": "2024/01/01/[$LATEST]abc", "subscriptionFilters": ["to-firehose"], )"
           R"("logEvents": [{"id": ")" +
           std::string(id) + R"(", "timestamp": )" + std::to_string(ts) + R"(, "message": ")" +
           message +
           R"("}], )"
           R"("extra": [0.5, 1e+16, 1e-05, 100.0, 123456789.125, true, null, "\u00e9/"]})";
  };
  EXPECT_EQ(Gunzip(fake.batches[0][0]), expected("1", 1700000000000, big));
  EXPECT_EQ(Gunzip(fake.batches[0][1]), expected("2", 1700000000001, std::string(2500000, 'b')));
}

TEST(BlueprintCloudWatchLogs, OversizedSingleEventFails) {
  FakeReingest fake;
  BuiltinInvoker invoker(fake.fn());
  std::vector<OutRecord> out =
      Records(Call(invoker, kCwl,
                   Event({{"one", Gzip(Envelope("DATA_MESSAGE", {std::string(4500000, 'x')}))}})));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].result, "ProcessingFailed");
  EXPECT_FALSE(out[0].has_data);
  EXPECT_EQ(fake.calls, 0);
}

// Records whose base64 output is 2,000,004 characters: the third pushes the
// projected size (data + recordId lengths) over 6,000,000.
std::vector<InRecord> FourLargeRecords() {
  std::vector<InRecord> records;
  for (int i = 1; i <= 4; ++i) {
    records.push_back({"rec-" + std::to_string(i),
                       Gzip(Envelope("DATA_MESSAGE", {std::string(1500000, char('a' + i))}))});
  }
  return records;
}

TEST(BlueprintCloudWatchLogs, RecordsPastTheResponseBudgetAreReingestedAsIs) {
  const std::vector<InRecord> records = FourLargeRecords();
  FakeReingest fake;
  BuiltinInvoker invoker(fake.fn());
  std::vector<OutRecord> out = Records(Call(invoker, kCwl, Event(records)));
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0].result, "Ok");
  EXPECT_EQ(out[0].data_b64.size(), 2000004u);
  EXPECT_EQ(out[1].result, "Ok");
  EXPECT_EQ(out[2].result, "Dropped");
  EXPECT_FALSE(out[2].has_data);
  EXPECT_EQ(out[3].result, "Dropped");  // the projected size only grows
  ASSERT_EQ(fake.batches.size(), 1u);
  EXPECT_EQ(fake.batches[0], (std::vector<std::string>{records[2].data, records[3].data}));
}

TEST(BlueprintCloudWatchLogs, WithoutCallbackWouldBeReingestedRecordsFail) {
  BuiltinInvoker invoker;
  std::vector<OutRecord> out = Records(Call(invoker, kCwl, Event(FourLargeRecords())));
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[1].result, "Ok");
  EXPECT_EQ(out[2].result, "ProcessingFailed");
  EXPECT_FALSE(out[2].has_data);
  EXPECT_EQ(out[3].result, "ProcessingFailed");
}

TEST(BlueprintCloudWatchLogs, KinesisSourceCannotBeReingested) {
  FakeReingest fake;
  BuiltinInvoker invoker(fake.fn());
  std::vector<OutRecord> out =
      Records(Call(invoker, kCwl, Event(FourLargeRecords(), /*kinesis_source=*/true)));
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[2].result, "ProcessingFailed");
  EXPECT_EQ(fake.calls, 0);
}

TEST(BlueprintCloudWatchLogs, ReingestionRetriesThenRaisesRuntimeError) {
  FakeReingest flaky;
  flaky.fail_first = 19;  // the 20th attempt succeeds
  BuiltinInvoker ok_invoker(flaky.fn());
  std::vector<OutRecord> out = Records(Call(ok_invoker, kCwl, Event(FourLargeRecords())));
  EXPECT_EQ(flaky.calls, 20);
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[2].result, "Dropped");

  FakeReingest broken;
  broken.fail_first = 1000;
  BuiltinInvoker failing(broken.fn());
  auto err = Error(Call(failing, kCwl, Event(FourLargeRecords())));
  EXPECT_EQ(broken.calls, 20);
  EXPECT_EQ(err.first, "RuntimeError");
  EXPECT_EQ(err.second,
            "Could not put records after 20 attempts. ServiceUnavailableException: slow down");
}

TEST(BlueprintCloudWatchLogs, ReingestionInBatchesOf500) {
  // One record takes the whole budget: 4,499,997 bytes are 5,999,996 base64
  // characters, plus 4 for "head" makes exactly 6,000,000 (not above it). The
  // 600 small ones after it are re-ingested as is, 500 then 100.
  std::vector<InRecord> records;
  records.push_back({"head", Gzip(Envelope("DATA_MESSAGE", {std::string(4499996, 'h')}))});
  const std::string small = Gzip(Envelope("DATA_MESSAGE", {"tiny"}));
  for (int i = 0; i < 600; ++i) records.push_back({"r" + std::to_string(i), small});
  FakeReingest fake;
  BuiltinInvoker invoker(fake.fn());
  std::vector<OutRecord> out = Records(Call(invoker, kCwl, Event(records)));
  ASSERT_EQ(out.size(), 601u);
  EXPECT_EQ(out[0].result, "Ok");
  for (size_t i = 1; i < out.size(); ++i) EXPECT_EQ(out[i].result, "Dropped") << i;
  ASSERT_EQ(fake.batches.size(), 2u);
  EXPECT_EQ(fake.batches[0].size(), 500u);
  EXPECT_EQ(fake.batches[1].size(), 100u);
  EXPECT_EQ(fake.batches[1][99], small);
}

// --- Lambda limits -------------------------------------------------------------

TEST(BlueprintLimits, ResponseAboveLambdasLimitIsAFunctionError) {
  BuiltinInvoker invoker;
  // 4,800,000 bytes -> 6,400,000 base64 characters, over 6,291,556 bytes.
  auto err = Error(Call(invoker, BuiltinInvoker::kGeneralProcessing,
                        Event({{"big", std::string(4800000, 'z')}})));
  EXPECT_EQ(err.first, "Function.ResponseSizeTooLarge");
  // Just under the limit passes.
  std::vector<OutRecord> out = Records(Call(invoker, BuiltinInvoker::kGeneralProcessing,
                                            Event({{"big", std::string(4700000, 'z')}})));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].data.size(), 4700000u);
}

TEST(BlueprintHelpers, PythonJsonString) {
  EXPECT_EQ(blueprints::PythonJsonString(""), "\"\"");
  EXPECT_EQ(blueprints::PythonJsonString("a/b\"c\\"), R"("a/b\"c\\")");
  EXPECT_EQ(blueprints::PythonJsonString("\x1f\xC2\x80\xEF\xBF\xBF\xF4\x8F\xBF\xBF"),
            R"("\u001f\u0080\uffff\udbff\udfff")");
}

}  // namespace
}  // namespace hydrant::processing
