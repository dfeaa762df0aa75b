#pragma once
// The Kinesis Data Streams service model as hydrant validates it: the input shapes of
// the operations hydrant serves, written from the botocore model
// kinesis/2013-12-02/service-2.json (not copied from it). Read by
// api/kinesis_validation.cc only; docs/kinesis.md ("Request validation") describes the
// rules.
//
// Two things here are not in the model but in what AWS answers:
// - Members are listed in the order AWS checks them (and so lists violations), as
//   kinesalite recorded it from AWS, not in model order. Members kinesalite never saw
//   (StreamARN, StreamModeDetails, Tags on CreateStream, ShardFilter, NextToken on
//   ListStreams, EnforceConsumerDeletion, all of UpdateShardCount) follow them, in
//   model order.
// - Enum values are listed in the order AWS prints them where it was observed
//   (ShardIteratorType); otherwise in model order.

#include <string_view>

#include "api/model_shape.h"

namespace hydrant::api::kinesis_model {

using model::Member;
using model::Shape;

// --- Patterns (Java regexes, matched against the whole value) -------------------

namespace detail {

constexpr bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// 0|([1-9]\d{0,max_more})
constexpr bool MatchDecimal(std::string_view s, size_t max_more) {
  if (s == "0") return true;
  if (s.empty() || s.size() > max_more + 1 || s[0] < '1' || s[0] > '9') return false;
  for (char c : s) {
    if (!IsDigit(c)) return false;
  }
  return true;
}
constexpr bool MatchHashKey(std::string_view s) { return MatchDecimal(s, 38); }
constexpr bool MatchSequenceNumber(std::string_view s) { return MatchDecimal(s, 128); }

// Java's '.' matches anything but a line terminator: \n, \r, U+0085, U+2028, U+2029.
constexpr bool HasLineTerminator(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\n' || s[i] == '\r') return true;
    if (s.substr(i, 2) == "\xC2\x85" || s.substr(i, 3) == "\xE2\x80\xA8" ||
        s.substr(i, 3) == "\xE2\x80\xA9") {
      return true;
    }
  }
  return false;
}
// \S+ to the end: Java's \s is ASCII whitespace [ \t\n\x0B\f\r] by default.
constexpr bool AllNonSpace(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\x0B' || c == '\f' || c == '\r') return false;
  }
  return true;
}

// arn:aws.*:kinesis:.*:\d{12}:stream/\S+ -- tries every split the backtracking
// matcher would.
constexpr bool MatchStreamArn(std::string_view s) {
  constexpr std::string_view kHead = "arn:aws";
  constexpr std::string_view kService = ":kinesis:";
  constexpr std::string_view kResource = ":stream/";
  if (s.substr(0, kHead.size()) != kHead) return false;
  for (size_t i = kHead.size(); i + kService.size() <= s.size(); ++i) {
    if (s.substr(i, kService.size()) != kService) continue;
    if (HasLineTerminator(s.substr(kHead.size(), i - kHead.size()))) continue;
    size_t after_service = i + kService.size();
    for (size_t j = after_service; j + 1 + 12 + kResource.size() <= s.size(); ++j) {
      if (s[j] != ':') continue;
      if (HasLineTerminator(s.substr(after_service, j - after_service))) break;
      bool digits = true;
      for (size_t k = j + 1; k < j + 13; ++k) digits = digits && IsDigit(s[k]);
      if (!digits || s.substr(j + 13, kResource.size()) != kResource) continue;
      if (AllNonSpace(s.substr(j + 13 + kResource.size()))) return true;
    }
  }
  return false;
}

}  // namespace detail

inline constexpr Pattern kHashKeyPattern{R"(0|([1-9]\d{0,38}))", detail::MatchHashKey};
inline constexpr Pattern kSequenceNumberPattern{R"(0|([1-9]\d{0,128}))",
                                                detail::MatchSequenceNumber};
inline constexpr Pattern kStreamArnPattern{R"(arn:aws.*:kinesis:.*:\d{12}:stream/\S+)",
                                           detail::MatchStreamArn};

// --- Scalars -------------------------------------------------------------------

// StreamName and ShardId share Firehose's stream-name pattern text [a-zA-Z0-9_.-]+.
constexpr Shape kStreamName = model::Str("StreamName", 1, 128, &kStreamNamePattern);
constexpr Shape kStreamArn = model::Str("StreamARN", 1, 2048, &kStreamArnPattern);
constexpr Shape kShardId = model::Str("ShardId", 1, 128, &kStreamNamePattern);
constexpr Shape kShardIterator = model::Str("ShardIterator", 1, 512, nullptr);
constexpr Shape kPartitionKey = model::Str("PartitionKey", 1, 256, nullptr);
constexpr Shape kHashKey = model::Str("HashKey", model::kNoLimit, model::kNoLimit,
                                      &kHashKeyPattern);
constexpr Shape kSequenceNumber = model::Str("SequenceNumber", model::kNoLimit, model::kNoLimit,
                                             &kSequenceNumberPattern);
constexpr Shape kNextToken = model::Str("NextToken", 1, 1048576, nullptr);
constexpr Shape kTagKey = model::Str("TagKey", 1, 128, nullptr);
constexpr Shape kTagValue = model::Str("TagValue", 0, 256, nullptr);

constexpr Shape kData = model::Blob("Data", 0, 1048576);
constexpr Shape kBooleanObject = model::Bool("BooleanObject");
constexpr Shape kTimestamp = model::Timestamp("Timestamp");

constexpr Shape kPositiveInteger = model::Int("PositiveIntegerObject", 1);
constexpr Shape kRetentionPeriodHours = model::Int("RetentionPeriodHours", model::kNoLimit);
constexpr Shape kDescribeStreamLimit = model::Int("DescribeStreamInputLimit", 1, 10000);
constexpr Shape kListStreamsLimit = model::Int("ListStreamsInputLimit", 1, 10000);
constexpr Shape kListShardsLimit = model::Int("ListShardsInputLimit", 1, 10000);
constexpr Shape kGetRecordsLimit = model::Int("GetRecordsInputLimit", 1, 10000);
constexpr Shape kListTagsLimit = model::Int("ListTagsForStreamInputLimit", 1, 50);

// --- Enums ---------------------------------------------------------------------

// The order AWS printed (kinesalite's record), not the model's.
constexpr std::string_view kShardIteratorTypes[] = {"AFTER_SEQUENCE_NUMBER", "LATEST",
                                                    "AT_TIMESTAMP", "AT_SEQUENCE_NUMBER",
                                                    "TRIM_HORIZON"};
constexpr std::string_view kStreamModes[] = {"PROVISIONED", "ON_DEMAND"};
constexpr std::string_view kShardFilterTypes[] = {"AFTER_SHARD_ID",    "AT_TRIM_HORIZON",
                                                  "FROM_TRIM_HORIZON", "AT_LATEST",
                                                  "AT_TIMESTAMP",      "FROM_TIMESTAMP"};
constexpr std::string_view kScalingTypes[] = {"UNIFORM_SCALING"};

constexpr Shape kShardIteratorType = model::Enum("ShardIteratorType", kShardIteratorTypes);
constexpr Shape kStreamMode = model::Enum("StreamMode", kStreamModes);
constexpr Shape kShardFilterType = model::Enum("ShardFilterType", kShardFilterTypes);
constexpr Shape kScalingType = model::Enum("ScalingType", kScalingTypes);

// --- Structures, lists, maps ---------------------------------------------------

constexpr Member kStreamModeDetailsMembers[] = {{"StreamMode", &kStreamMode, true}};
constexpr Shape kStreamModeDetails = model::Struct("StreamModeDetails", kStreamModeDetailsMembers);

constexpr Member kShardFilterMembers[] = {
    {"Type", &kShardFilterType, true}, {"ShardId", &kShardId}, {"Timestamp", &kTimestamp}};
constexpr Shape kShardFilter = model::Struct("ShardFilter", kShardFilterMembers);

constexpr Shape kTagMap = model::Map("TagMap", &kTagKey, &kTagValue, 1, 200);
constexpr Shape kTagKeyList = model::List("TagKeyList", &kTagKey, 1, 50);

constexpr Member kPutRecordsEntryMembers[] = {{"PartitionKey", &kPartitionKey, true},
                                              {"ExplicitHashKey", &kHashKey},
                                              {"Data", &kData, true}};
constexpr Shape kPutRecordsEntry = model::Struct("PutRecordsRequestEntry", kPutRecordsEntryMembers);
constexpr Shape kPutRecordsEntryList =
    model::List("PutRecordsRequestEntryList", &kPutRecordsEntry, 1, 500);

// --- Operation inputs (members in AWS's checking order, see the top) -------------

constexpr Member kCreateStreamMembers[] = {{"ShardCount", &kPositiveInteger},
                                           {"StreamName", &kStreamName, true},
                                           {"StreamModeDetails", &kStreamModeDetails},
                                           {"Tags", &kTagMap}};
constexpr Member kDeleteStreamMembers[] = {{"StreamName", &kStreamName},
                                           {"EnforceConsumerDeletion", &kBooleanObject},
                                           {"StreamARN", &kStreamArn}};
constexpr Member kDescribeStreamMembers[] = {{"Limit", &kDescribeStreamLimit},
                                             {"ExclusiveStartShardId", &kShardId},
                                             {"StreamName", &kStreamName},
                                             {"StreamARN", &kStreamArn}};
constexpr Member kDescribeStreamSummaryMembers[] = {{"StreamName", &kStreamName},
                                                    {"StreamARN", &kStreamArn}};
constexpr Member kListStreamsMembers[] = {{"Limit", &kListStreamsLimit},
                                          {"ExclusiveStartStreamName", &kStreamName},
                                          {"NextToken", &kNextToken}};
constexpr Member kListShardsMembers[] = {{"ExclusiveStartShardId", &kShardId},
                                         {"MaxResults", &kListShardsLimit},
                                         {"NextToken", &kNextToken},
                                         {"StreamCreationTimestamp", &kTimestamp},
                                         {"StreamName", &kStreamName},
                                         {"ShardFilter", &kShardFilter},
                                         {"StreamARN", &kStreamArn}};
constexpr Member kPutRecordMembers[] = {{"SequenceNumberForOrdering", &kSequenceNumber},
                                        {"PartitionKey", &kPartitionKey, true},
                                        {"ExplicitHashKey", &kHashKey},
                                        {"Data", &kData, true},
                                        {"StreamName", &kStreamName},
                                        {"StreamARN", &kStreamArn}};
constexpr Member kPutRecordsMembers[] = {{"Records", &kPutRecordsEntryList, true},
                                         {"StreamName", &kStreamName},
                                         {"StreamARN", &kStreamArn}};
constexpr Member kGetShardIteratorMembers[] = {{"ShardId", &kShardId, true},
                                               {"ShardIteratorType", &kShardIteratorType, true},
                                               {"StartingSequenceNumber", &kSequenceNumber},
                                               {"StreamName", &kStreamName},
                                               {"Timestamp", &kTimestamp},
                                               {"StreamARN", &kStreamArn}};
constexpr Member kGetRecordsMembers[] = {{"Limit", &kGetRecordsLimit},
                                         {"ShardIterator", &kShardIterator, true},
                                         {"StreamARN", &kStreamArn}};
// Increase and Decrease share the shape.
constexpr Member kRetentionMembers[] = {{"RetentionPeriodHours", &kRetentionPeriodHours, true},
                                        {"StreamName", &kStreamName},
                                        {"StreamARN", &kStreamArn}};
constexpr Member kUpdateShardCountMembers[] = {{"TargetShardCount", &kPositiveInteger, true},
                                               {"ScalingType", &kScalingType, true},
                                               {"StreamName", &kStreamName},
                                               {"StreamARN", &kStreamArn}};
constexpr Member kSplitShardMembers[] = {{"NewStartingHashKey", &kHashKey, true},
                                         {"StreamName", &kStreamName},
                                         {"ShardToSplit", &kShardId, true},
                                         {"StreamARN", &kStreamArn}};
constexpr Member kMergeShardsMembers[] = {{"ShardToMerge", &kShardId, true},
                                          {"AdjacentShardToMerge", &kShardId, true},
                                          {"StreamName", &kStreamName},
                                          {"StreamARN", &kStreamArn}};
constexpr Member kAddTagsMembers[] = {{"Tags", &kTagMap, true},
                                      {"StreamName", &kStreamName},
                                      {"StreamARN", &kStreamArn}};
constexpr Member kListTagsMembers[] = {{"Limit", &kListTagsLimit},
                                       {"ExclusiveStartTagKey", &kTagKey},
                                       {"StreamName", &kStreamName},
                                       {"StreamARN", &kStreamArn}};
constexpr Member kRemoveTagsMembers[] = {{"TagKeys", &kTagKeyList, true},
                                         {"StreamName", &kStreamName},
                                         {"StreamARN", &kStreamArn}};

struct Operation {
  std::string_view name;
  Shape input;
};

// The operations hydrant serves, in the model's alphabetical order.
inline constexpr Operation kOperations[] = {
    {"AddTagsToStream", model::Struct("AddTagsToStreamInput", kAddTagsMembers)},
    {"CreateStream", model::Struct("CreateStreamInput", kCreateStreamMembers)},
    {"DecreaseStreamRetentionPeriod",
     model::Struct("DecreaseStreamRetentionPeriodInput", kRetentionMembers)},
    {"DeleteStream", model::Struct("DeleteStreamInput", kDeleteStreamMembers)},
    {"DescribeLimits", model::Struct("DescribeLimitsInput", {})},
    {"DescribeStream", model::Struct("DescribeStreamInput", kDescribeStreamMembers)},
    {"DescribeStreamSummary",
     model::Struct("DescribeStreamSummaryInput", kDescribeStreamSummaryMembers)},
    {"GetRecords", model::Struct("GetRecordsInput", kGetRecordsMembers)},
    {"GetShardIterator", model::Struct("GetShardIteratorInput", kGetShardIteratorMembers)},
    {"IncreaseStreamRetentionPeriod",
     model::Struct("IncreaseStreamRetentionPeriodInput", kRetentionMembers)},
    {"ListShards", model::Struct("ListShardsInput", kListShardsMembers)},
    {"ListStreams", model::Struct("ListStreamsInput", kListStreamsMembers)},
    {"ListTagsForStream", model::Struct("ListTagsForStreamInput", kListTagsMembers)},
    {"MergeShards", model::Struct("MergeShardsInput", kMergeShardsMembers)},
    {"PutRecord", model::Struct("PutRecordInput", kPutRecordMembers)},
    {"PutRecords", model::Struct("PutRecordsInput", kPutRecordsMembers)},
    {"RemoveTagsFromStream", model::Struct("RemoveTagsFromStreamInput", kRemoveTagsMembers)},
    {"SplitShard", model::Struct("SplitShardInput", kSplitShardMembers)},
    {"UpdateShardCount", model::Struct("UpdateShardCountInput", kUpdateShardCountMembers)},
};

}  // namespace hydrant::api::kinesis_model
