// Tests for the syslog blueprints. Expected outputs are written out by hand from
// the blueprints' documented behaviour (docs/blueprints.md, spec section 7); one
// test also cross-checks the syslog parsers against Python's own `re` and
// json.dumps (a small script of ours applying the blueprint's regex, not the
// blueprint's code) over thousands of generated lines.

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "processing/blueprints.h"
#include "processing/blueprints_test_util.h"
#include "testing/temp_dir.h"

namespace hydrant::processing::blueprint_test {
namespace {

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
  const ::hydrant::testing::TempDir dir;
  json::array encoded;
  for (const std::string& l : lines) encoded.push_back(json::string(base64::Encode(l)));
  const std::string lines_json = dir.Write("lines.json", json::serialize(encoded));
  // Our own script: the blueprint's regex (spec section 7) and the output rules.
  const std::string check_py = dir.Write("check.py", R"PY(
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
)PY");
  const std::string cmd = std::string(kPython) + " " + check_py + " " + lines_json;
  FILE* pipe = ::popen(cmd.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string py_out;
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) py_out.append(buf, n);
  ASSERT_EQ(::pclose(pipe), 0) << py_out;
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

}  // namespace
}  // namespace hydrant::processing::blueprint_test
