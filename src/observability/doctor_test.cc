#include "observability/doctor.h"

#include <map>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "destinations/object_store.h"
#include "destinations/sink_errors.h"
#include "logs/delivery_errors.h"
#include "logs/log_store.h"
#include "observability/series.h"
#include "processing/invoker.h"
#include "stream/probe.h"
#include "testing/temp_dir.h"

namespace hydrant::observability {
namespace {

namespace json = boost::json;

constexpr int64_t kPeriod = 10'000;
constexpr int64_t kT0 = 1'700'000'000'000;
constexpr char kArn[] = "arn:aws:lambda:us-east-1:000000000000:function:fn";

// ObjectSink whose CheckAccess answers what the test sets, per bucket.
class FakeSink final : public store::ObjectSink {
 public:
  Result<std::unique_ptr<store::ObjectWriter>> BeginPut(std::string_view, std::string_view,
                                                        const store::ObjectMeta&) override {
    return Status::Internal("not used");
  }
  Status CheckAccess(std::string_view bucket, const store::ObjectMeta& meta) override {
    checked.push_back(std::string(bucket));
    last_meta = meta;
    auto it = answers.find(std::string(bucket));
    return it == answers.end() ? Status::Ok() : it->second;
  }
  std::map<std::string, Status> answers;
  std::vector<std::string> checked;
  store::ObjectMeta last_meta;
};

processing::InvokeResult Res(processing::InvokeResult::Kind kind, std::string payload,
                             std::string code = "", std::string message = "") {
  processing::InvokeResult r;
  r.kind = kind;
  r.payload = std::move(payload);
  r.error_code = std::move(code);
  r.error_message = std::move(message);
  return r;
}

class FakeInvoker final : public processing::FunctionInvoker {
 public:
  processing::InvokeResult Invoke(const processing::FunctionRef& fn, const std::string& event,
                                  std::chrono::milliseconds) override {
    invoked = fn.name;
    last_event = event;
    return result;
  }
  processing::InvokeResult result = Res(processing::InvokeResult::Kind::kOk, "{\"records\":[]}");
  std::string invoked, last_event;
};

json::object Destination(std::string bucket = "b") {
  return json::object{
      {"BucketARN", "arn:aws:s3:::" + bucket},
      {"RoleARN", "arn:aws:iam::000000000000:role/firehose"},
      {"BufferingHints", json::object{{"SizeInMBs", 1}, {"IntervalInSeconds", 60}}},
      {"CloudWatchLoggingOptions", json::object{{"Enabled", true}}},
      {"S3BackupMode", "Disabled"}};
}

json::object LambdaProcessing(int enabled = true) {
  return json::object{
      {"Enabled", enabled != 0},
      {"Processors", json::array{json::object{
                         {"Type", "Lambda"},
                         {"Parameters", json::array{json::object{{"ParameterName", "LambdaArn"},
                                                                 {"ParameterValue", kArn}}}}}}}};
}

class DoctorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = logs::LogStore::Open(dir_.Sub("logs"), &clock_);
    ASSERT_TRUE(opened.ok());
    logs_ = std::move(*opened);
    target_.meta.name = "s";
    target_.meta.arn = "arn:aws:firehose:us-east-1:000000000000:deliverystream/s";
    target_.meta.SetDestination(Destination());
    target_.meta.incarnation = "inc";
    target_.probe = &probe_;
  }
  // Changes one member of the stream's stored destination description.
  void SetDestinationMember(std::string_view key, json::value v) {
    json::object d = target_.meta.destination();
    d[key] = std::move(v);
    target_.meta.SetDestination(std::move(d));
  }

  DoctorReport Run(std::optional<int> fn_timeout = 30) {
    DoctorDeps d;
    d.sink = &sink_;
    d.invoker = &invoker_;
    d.series = &series_;
    d.logs = logs_.get();
    d.clock = &clock_;
    d.retention_ms = 3600'000;
    d.function_timeout_seconds = [fn_timeout](std::string_view name) -> std::optional<int> {
      return name == "fn" ? fn_timeout : std::nullopt;
    };
    d.bucket_is_remote = [this](std::string_view) { return remote_; };
    return Doctor(std::move(d)).Run(target_);
  }
  // One sampling period of traffic: `records` in, `puts` object puts of which `ok` succeeded.
  void Tick(uint64_t records, uint64_t puts = 0, uint64_t ok = 0) {
    probe_.incoming_records += records;
    probe_.incoming_bytes += records * 10;
    probe_.s3_put_attempts += puts;
    probe_.s3_put_successes += ok;
    clock_.Advance(kPeriod);
    series_.Observe("s", "inc", probe_);
  }
  static const CheckResult& Get(const DoctorReport& r, std::string_view id) {
    static const CheckResult none;
    const CheckResult* c = r.Find(id);
    if (c == nullptr) ADD_FAILURE() << "no check " << id;
    return c != nullptr ? *c : none;
  }
  void LogError(std::string code, std::string message, int n = 1) {
    logs::DeliveryErrorEvent ev;
    ev.delivery_stream_arn = target_.meta.arn;
    ev.destination = "arn:aws:s3:::b";
    ev.error_code = std::move(code);
    ev.message = std::move(message);
    std::vector<logs::InputEvent> events;
    for (int i = 0; i < n; ++i) events.push_back({clock_.NowMillis(), logs::FormatDeliveryErrorEvent(ev)});
    ASSERT_TRUE(logs_->Append("/aws/kinesisfirehose/s", "DestinationDelivery", events).ok());
  }

  FakeClock clock_{kT0};
  MetricsSeries series_{{.period_ms = kPeriod, .retention_ms = 3600'000}, &clock_};
  stream::StreamProbe probe_;
  FakeSink sink_;
  FakeInvoker invoker_;
  ::hydrant::testing::TempDir dir_;  // outlives logs_, which writes inside it
  std::unique_ptr<logs::LogStore> logs_;
  DoctorTarget target_;
  bool remote_ = true;
};

TEST_F(DoctorTest, PutsNotYetSampledCountAsRecentIncomingData) {
  // Puts accepted since the last sample: the series has nothing yet, the live
  // counters and the latest put's time say data is arriving.
  probe_.incoming_records = 3;
  probe_.last_put_ms = clock_.NowMillis() - 2'000;
  DoctorReport r = Run();
  EXPECT_EQ(Get(r, "incoming-data").status, CheckStatus::kPassed) << r.ToText();
  EXPECT_NE(Get(r, "incoming-data").evidence.find("the latest put was"), std::string::npos);
  // An hour later, with nothing since: a warning, not a pass.
  clock_.Advance(3600'000);
  r = Run();
  EXPECT_EQ(Get(r, "incoming-data").status, CheckStatus::kWarning) << r.ToText();
}

TEST_F(DoctorTest, DamageFoundAtStartIsAWarningWithItsCounts) {
  Tick(100, 2, 2);
  EXPECT_EQ(Get(Run(), "disk-damage").status, CheckStatus::kPassed);
  probe_.lost_records = 150;
  target_.damage = {"seqs 150..299 (150 undelivered records) are lost: no segment holds them"};
  DoctorReport r = Run();
  const CheckResult& c = Get(r, "disk-damage");
  EXPECT_EQ(c.status, CheckStatus::kWarning) << r.ToText();
  EXPECT_NE(c.evidence.find("150 undelivered records lost"), std::string::npos) << c.evidence;
  EXPECT_NE(c.evidence.find("seqs 150..299"), std::string::npos) << c.evidence;
  EXPECT_NE(c.fix.find(".damaged"), std::string::npos) << c.fix;
}

TEST_F(DoctorTest, HealthyStreamPassesEveryCheck) {
  Tick(100, 2, 2);
  Tick(50, 1, 1);
  DoctorReport r = Run();
  EXPECT_FALSE(r.HasFailure()) << r.ToText();
  EXPECT_EQ(r.Count(CheckStatus::kWarning), 0u) << r.ToText();
  EXPECT_EQ(Get(r, "stream").status, CheckStatus::kPassed);
  EXPECT_EQ(Get(r, "incoming-data").status, CheckStatus::kPassed);
  EXPECT_NE(Get(r, "incoming-data").evidence.find("IncomingRecords 150"), std::string::npos);
  EXPECT_EQ(Get(r, "bucket-access").status, CheckStatus::kPassed);
  EXPECT_EQ(Get(r, "backup-bucket-access").status, CheckStatus::kNotApplicable);
  EXPECT_EQ(Get(r, "lambda-function").status, CheckStatus::kNotApplicable);
  EXPECT_EQ(Get(r, "delivery").status, CheckStatus::kPassed);
  EXPECT_EQ(Get(r, "error-logging").status, CheckStatus::kPassed);
  EXPECT_EQ(Get(r, "error-events").status, CheckStatus::kPassed);
  EXPECT_EQ(sink_.checked, std::vector<std::string>{"b"});
  EXPECT_EQ(sink_.last_meta.role_arn, "arn:aws:iam::000000000000:role/firehose");
  EXPECT_TRUE(invoker_.invoked.empty());
}

TEST_F(DoctorTest, MissingBucketFailsWithItsCodeAndTheFix) {
  sink_.answers["b"] = store::SinkError(store::kS3NoSuchBucket, "bucket b does not exist",
                                        StatusCode::kNotFound);
  Tick(10, 3, 0);
  DoctorReport r = Run();
  EXPECT_TRUE(r.HasFailure());
  const CheckResult& c = Get(r, "bucket-access");
  EXPECT_EQ(c.status, CheckStatus::kFailed);
  EXPECT_EQ(c.error_code, "S3.NoSuchBucket");
  EXPECT_NE(c.fix.find("create the bucket"), std::string::npos);
  EXPECT_EQ(Get(r, "delivery").status, CheckStatus::kFailed);
  EXPECT_NE(r.ToText().find("FAIL  bucket access"), std::string::npos) << r.ToText();
}

TEST_F(DoctorTest, AccessDeniedNamesThePermissionsAndSuspectsTheKmsKey) {
  SetDestinationMember(
      "EncryptionConfiguration",
      json::object{{"KMSEncryptionConfig", json::object{{"AWSKMSKeyARN", "arn:aws:kms:k"}}}});
  sink_.answers["b"] = store::SinkError(store::kS3AccessDenied, "HTTP 403 AccessDenied");
  DoctorReport r = Run();
  EXPECT_EQ(sink_.last_meta.sse_kms_key_id, "arn:aws:kms:k");
  const CheckResult& c = Get(r, "bucket-access");
  EXPECT_EQ(c.error_code, "S3.AccessDenied");
  EXPECT_NE(c.fix.find("s3:PutObject"), std::string::npos);
  EXPECT_NE(c.fix.find("kms:GenerateDataKey"), std::string::npos);
  EXPECT_EQ(Get(r, "kms-key").status, CheckStatus::kWarning);

  sink_.answers["b"] = store::SinkError(store::kS3KmsNotFound, "no such key");
  EXPECT_EQ(Get(Run(), "kms-key").status, CheckStatus::kFailed);
  sink_.answers.clear();
  EXPECT_EQ(Get(Run(), "kms-key").status, CheckStatus::kPassed);
  remote_ = false;  // the embedded store ignores the key
  EXPECT_EQ(Get(Run(), "kms-key").status, CheckStatus::kNotApplicable);
}

TEST_F(DoctorTest, BackupBucketIsProbedWhenEnabled) {
  SetDestinationMember("S3BackupMode", "Enabled");
  SetDestinationMember("S3BackupDescription", Destination("backup"));
  sink_.answers["backup"] = store::SinkError(store::kS3NoSuchBucket, "no", StatusCode::kNotFound);
  DoctorReport r = Run();
  EXPECT_EQ(Get(r, "bucket-access").status, CheckStatus::kPassed);
  EXPECT_EQ(Get(r, "backup-bucket-access").status, CheckStatus::kFailed);
  EXPECT_EQ(sink_.checked, (std::vector<std::string>{"b", "backup"}));
}

TEST_F(DoctorTest, NoIncomingDataPointsUpstream) {
  Tick(0);
  DoctorReport r = Run();
  const CheckResult& c = Get(r, "incoming-data");
  EXPECT_EQ(c.status, CheckStatus::kFailed);
  EXPECT_NE(c.fix.find("PutRecord/PutRecordBatch"), std::string::npos);
  // Data long ago but none in the window: a warning.
  Tick(5);
  clock_.Advance(20 * 60'000);
  Tick(0);
  EXPECT_EQ(Get(Run(), "incoming-data").status, CheckStatus::kWarning);
}

TEST_F(DoctorTest, LambdaProbeClassifiesTheAnswer) {
  SetDestinationMember("ProcessingConfiguration", LambdaProcessing());
  DoctorReport ok = Run();
  EXPECT_EQ(Get(ok, "lambda-function").status, CheckStatus::kPassed);
  EXPECT_EQ(invoker_.invoked, "fn");
  auto event = json::parse(invoker_.last_event).as_object();
  EXPECT_EQ(event.at("records").as_array().size(), 0u);
  EXPECT_EQ(event.at("deliveryStreamArn").as_string(), target_.meta.arn);

  using Kind = processing::InvokeResult::Kind;
  invoker_.result = Res(Kind::kFatal, "", "Lambda.ResourceNotFound", "Function not found: fn");
  const CheckResult missing = Get(Run(), "lambda-function");
  EXPECT_EQ(missing.status, CheckStatus::kFailed);
  EXPECT_EQ(missing.error_code, "Lambda.ResourceNotFound");
  EXPECT_NE(missing.fix.find("does not exist"), std::string::npos);

  invoker_.result = Res(Kind::kFunctionError, "{\"errorMessage\":\"boom\"}",
                        "Lambda.FunctionError", "returned an error");
  const CheckResult raised = Get(Run(), "lambda-function");
  EXPECT_EQ(raised.status, CheckStatus::kFailed);
  EXPECT_NE(raised.evidence.find("boom"), std::string::npos);

  invoker_.result = Res(Kind::kRetryable, "", "Lambda.FunctionError",
                        "Firehose encountered timeout errors when calling AWS Lambda.");
  const CheckResult own = Get(Run(/*fn_timeout=*/1), "lambda-function");
  EXPECT_EQ(own.status, CheckStatus::kFailed);
  EXPECT_NE(own.fix.find("raise the function's timeout"), std::string::npos);
  // A remote function that outlasts the doctor's own wait: a warning only.
  EXPECT_EQ(Get(Run(std::nullopt), "lambda-function").status, CheckStatus::kWarning);

  invoker_.result = Res(Kind::kOk, "null");
  EXPECT_EQ(Get(Run(), "lambda-function").status, CheckStatus::kWarning);
}

TEST_F(DoctorTest, DurationNearTheTimeoutFails) {
  SetDestinationMember("ProcessingConfiguration", LambdaProcessing());
  probe_.processing_invocations = 2;
  probe_.processing_duration_ms = 2 * 980;
  Tick(1);
  EXPECT_EQ(Get(Run(/*fn_timeout=*/1), "lambda-duration").status, CheckStatus::kFailed);
  EXPECT_EQ(Get(Run(/*fn_timeout=*/30), "lambda-duration").status, CheckStatus::kPassed);
  EXPECT_EQ(Get(Run(/*fn_timeout=*/900), "lambda-duration").status, CheckStatus::kFailed);
}

TEST_F(DoctorTest, ProcessingFailuresSayWhereTheRecordsAre) {
  SetDestinationMember("ProcessingConfiguration", LambdaProcessing());
  SetDestinationMember("ErrorOutputPrefix", "errors/");
  probe_.processing_invocations = 4;
  probe_.processing_failed_invocations = 4;
  probe_.processing_failed_records = 7;
  Tick(7);
  const CheckResult c = Get(Run(), "processing");
  EXPECT_EQ(c.status, CheckStatus::kFailed) << c.evidence;
  EXPECT_NE(c.evidence.find("s3://b/errors/"), std::string::npos) << c.evidence;
  SetDestinationMember("ProcessingConfiguration", LambdaProcessing(false));
  EXPECT_EQ(Get(Run(), "processing").status, CheckStatus::kNotApplicable);
}

TEST_F(DoctorTest, StaleDataWithoutSuccessFailsDeliveryAndNearRetentionFailsRetention) {
  Tick(10);
  probe_.oldest_undelivered_ms = clock_.NowMillis();
  clock_.Advance(31 * 60'000);  // half the 1 h retention, well past 60 s + 1 min
  DoctorReport r = Run();
  EXPECT_EQ(Get(r, "delivery").status, CheckStatus::kFailed) << Get(r, "delivery").evidence;
  EXPECT_EQ(Get(r, "retention").status, CheckStatus::kFailed);
  probe_.oldest_undelivered_ms = 0;
  probe_.expired_records = 3;
  EXPECT_EQ(Get(Run(), "retention").status, CheckStatus::kWarning);
}

TEST_F(DoctorTest, LoggingDisabledIsAWarningWithTheFix) {
  SetDestinationMember("CloudWatchLoggingOptions", json::object{{"Enabled", false}});
  DoctorReport r = Run();
  const CheckResult& c = Get(r, "error-logging");
  EXPECT_EQ(c.status, CheckStatus::kWarning);
  EXPECT_NE(c.fix.find("enable CloudWatchLoggingOptions"), std::string::npos);
  EXPECT_EQ(Get(r, "error-events").status, CheckStatus::kNotApplicable);
}

TEST_F(DoctorTest, ErrorEventsAreGroupedByCode) {
  LogError("S3.NoSuchBucket", "first", 3);
  clock_.Advance(1000);
  LogError("S3.NoSuchBucket", "latest words");
  LogError("InternalError", "oops");
  const CheckResult c = Get(Run(), "error-events");
  EXPECT_EQ(c.status, CheckStatus::kWarning);
  EXPECT_EQ(c.error_code, "S3.NoSuchBucket");
  EXPECT_NE(c.evidence.find("S3.NoSuchBucket x4"), std::string::npos) << c.evidence;
  EXPECT_NE(c.evidence.find("latest words"), std::string::npos);
  EXPECT_NE(c.evidence.find("InternalError x1"), std::string::npos);
  // Out of the hour: gone.
  clock_.Advance(2 * 3600'000);
  EXPECT_EQ(Get(Run(), "error-events").status, CheckStatus::kPassed);
}

constexpr char kSourceArn[] = "arn:aws:kinesis:us-east-1:000000000000:stream/src";

class KinesisSourceDoctorTest : public DoctorTest {
 protected:
  void SetUp() override {
    DoctorTest::SetUp();
    target_.meta.type = "KinesisStreamAsSource";
    target_.meta.source = json::object{
        {"KinesisStreamSourceDescription", json::object{{"KinesisStreamARN", kSourceArn}}}};
    target_.kinesis_source = Status::Ok();
  }
  // One sampling period of reading: `records` read, `throttled` GetRecords throttled.
  void Read(uint64_t records, uint64_t throttled = 0) {
    probe_.kinesis_read_records += records;
    probe_.kinesis_read_bytes += records * 100;
    probe_.kinesis_throttled_get_records += throttled;
    probe_.s3_put_attempts += 1;
    probe_.s3_put_successes += 1;
    clock_.Advance(kPeriod);
    series_.Observe("s", "inc", probe_);
  }
  void SourceError(const std::string& code, const std::string& message) {
    probe_.kinesis_read_errors += 1;
    probe_.errors_by_code.Add(code);
    LogError(code, message);
  }
};

TEST_F(KinesisSourceDoctorTest, AStreamReadingItsSourcePassesAndIncomingDataDoesNotApply) {
  Read(40);
  Read(2);
  DoctorReport r = Run();
  const CheckResult& c = Get(r, "kinesis-source");
  EXPECT_EQ(c.status, CheckStatus::kPassed) << r.ToText();
  EXPECT_NE(c.evidence.find("42 records (4200 bytes) read in the last 15 min"), std::string::npos)
      << c.evidence;
  EXPECT_NE(c.evidence.find(kSourceArn), std::string::npos);
  EXPECT_EQ(Get(r, "incoming-data").status, CheckStatus::kNotApplicable);
  EXPECT_FALSE(r.HasFailure()) << r.ToText();
}

TEST_F(KinesisSourceDoctorTest, DoesNotApplyToDirectPut) {
  target_.meta.type = "DirectPut";
  target_.meta.source = json::object{};
  EXPECT_EQ(Get(Run(), "kinesis-source").status, CheckStatus::kNotApplicable);
}

TEST_F(KinesisSourceDoctorTest, AMissingSourceStreamFailsWithItsCodeAndTheLastError) {
  target_.kinesis_source =
      Status::NotFound("Stream src under account 000000000000 not found.")
          .WithErrorCode("ResourceNotFoundException");
  SourceError("Kinesis.ResourceNotFound", "Stream src under account 000000000000 not found.");
  DoctorReport r = Run();
  const CheckResult& c = Get(r, "kinesis-source");
  EXPECT_EQ(c.status, CheckStatus::kFailed) << r.ToText();
  EXPECT_EQ(c.error_code, "Kinesis.ResourceNotFound");
  EXPECT_NE(c.evidence.find("cannot be read: Stream src under account 000000000000 not found."),
            std::string::npos)
      << c.evidence;
  EXPECT_NE(c.evidence.find("1 failed reads since start (Kinesis.ResourceNotFound x1)"),
            std::string::npos)
      << c.evidence;
  EXPECT_NE(c.fix.find("create-stream"), std::string::npos);
  EXPECT_NE(c.fix.find("[[kinesis.sources]]"), std::string::npos);
  // The error-events check points here rather than at the bucket.
  EXPECT_NE(Get(r, "error-events").fix.find("kinesis source check"), std::string::npos);
}

TEST_F(KinesisSourceDoctorTest, AnExternalStreamThatRefusesFailsWithItsCodeAndAThrottledCheckDoesNot) {
  target_.kinesis_source = Status::InvalidArgument("User is not authorized to perform kinesis:ListShards")
                               .WithErrorCode("AccessDeniedException");
  CheckResult c = Get(Run(), "kinesis-source");
  EXPECT_EQ(c.status, CheckStatus::kFailed) << c.evidence;
  EXPECT_EQ(c.error_code, "Kinesis.AccessDenied");
  EXPECT_NE(c.fix.find("[[kinesis.sources]] entry"), std::string::npos) << c.fix;
  EXPECT_EQ(c.fix.find("create-stream"), std::string::npos) << c.fix;

  Read(3);
  target_.kinesis_source = Status::ResourceExhausted("Rate exceeded")
                               .WithErrorCode("LimitExceededException");
  c = Get(Run(), "kinesis-source");
  EXPECT_EQ(c.status, CheckStatus::kPassed) << c.evidence;
  EXPECT_NE(c.evidence.find("the check of the source stream was throttled"), std::string::npos);
}

TEST_F(KinesisSourceDoctorTest, FailingReadsNameTheLastErrorCodeAndAFewReadsMakeItAWarning) {
  SourceError("Kinesis.AccessDenied", "first");
  clock_.Advance(1000);
  SourceError("Kinesis.AccessDenied", "second");
  clock_.Advance(1000);
  SourceError("Kinesis.InternalError", "the latest words");
  DoctorReport r = Run();
  CheckResult c = Get(r, "kinesis-source");
  EXPECT_EQ(c.status, CheckStatus::kFailed) << r.ToText();
  EXPECT_EQ(c.error_code, "Kinesis.InternalError");  // the last, not the most frequent
  EXPECT_NE(c.evidence.find("reads are failing"), std::string::npos) << c.evidence;
  EXPECT_NE(c.evidence.find("Kinesis.AccessDenied x2, Kinesis.InternalError x1"), std::string::npos)
      << c.evidence;
  EXPECT_NE(c.evidence.find("the last Kinesis.InternalError at"), std::string::npos) << c.evidence;
  EXPECT_NE(c.evidence.find("the latest words"), std::string::npos) << c.evidence;
  // Records read since then: the failures were passing.
  Read(5);
  c = Get(Run(), "kinesis-source");
  EXPECT_EQ(c.status, CheckStatus::kWarning) << c.evidence;
  EXPECT_NE(c.evidence.find("some reads failed"), std::string::npos) << c.evidence;
  // Errors long past (out of the window), nothing read now: not a failure.
  clock_.Advance(2 * 3600'000);
  EXPECT_EQ(Get(Run(), "kinesis-source").status, CheckStatus::kPassed);
}

TEST_F(KinesisSourceDoctorTest, ThrottledReadsInTheWindowAreAWarning) {
  Read(10);
  EXPECT_EQ(Get(Run(), "kinesis-source").status, CheckStatus::kPassed);
  Read(10, 3);
  const CheckResult c = Get(Run(), "kinesis-source");
  EXPECT_EQ(c.status, CheckStatus::kWarning) << c.evidence;
  EXPECT_NE(c.evidence.find("3 throttled calls in the last 15 min"), std::string::npos) << c.evidence;
  // Once the throttling is out of the window, it passes again.
  for (int i = 0; i < 100; ++i) Read(1);
  EXPECT_EQ(Get(Run(), "kinesis-source").status, CheckStatus::kPassed);
}

TEST_F(KinesisSourceDoctorTest, BehindTheSourceWarnsThenFails) {
  Read(10);
  probe_.kinesis_millis_behind = 5 * 60'000;  // at the threshold: fine
  EXPECT_EQ(Get(Run(), "kinesis-source").status, CheckStatus::kPassed);
  probe_.kinesis_millis_behind = 20 * 60'000;
  CheckResult c = Get(Run(), "kinesis-source");
  EXPECT_EQ(c.status, CheckStatus::kWarning) << c.evidence;
  EXPECT_NE(c.evidence.find("KinesisMillisBehindLatest 20 min: reading is behind"), std::string::npos)
      << c.evidence;
  probe_.kinesis_millis_behind = 13 * 3600'000;
  c = Get(Run(), "kinesis-source");
  EXPECT_EQ(c.status, CheckStatus::kFailed) << c.evidence;
  EXPECT_NE(c.fix.find("increase-stream-retention-period"), std::string::npos);
}

TEST_F(KinesisSourceDoctorTest, ABacklogAboveTheSourcesBoundPausesReading) {
  Read(10);
  target_.backlog_disk_bytes = 256ull << 20;  // at the bound: still reading
  EXPECT_EQ(Get(Run(), "kinesis-source").status, CheckStatus::kPassed);
  target_.backlog_disk_bytes = (256ull << 20) + 1;
  const CheckResult c = Get(Run(), "kinesis-source");
  EXPECT_EQ(c.status, CheckStatus::kFailed) << c.evidence;
  EXPECT_NE(c.evidence.find("reading is paused"), std::string::npos) << c.evidence;
  EXPECT_NE(c.evidence.find("268435457 bytes undelivered"), std::string::npos) << c.evidence;
  EXPECT_NE(c.fix.find("delivery check"), std::string::npos);
}

TEST_F(DoctorTest, ReportRoundTripsThroughJson) {
  sink_.answers["b"] = store::SinkError(store::kS3NoSuchBucket, "no", StatusCode::kNotFound);
  DoctorReport r = Run();
  auto back = DoctorReport::FromJson(r.ToJson());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->stream, "s");
  ASSERT_EQ(back->checks.size(), r.checks.size());
  EXPECT_EQ(back->ToText(), r.ToText());
  auto v = json::parse(r.ToJson()).as_object();
  EXPECT_FALSE(v.at("healthy").as_bool());
  EXPECT_GE(v.at("summary").as_object().at("failed").as_int64(), 1);
  EXPECT_FALSE(DoctorReport::FromJson("[]").ok());
}

}  // namespace
}  // namespace hydrant::observability
