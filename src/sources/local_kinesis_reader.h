#pragma once
// LocalKinesisReader: KinesisReader over one of hydrant's own Kinesis streams
// (kinesis::KinesisRegistry), without HTTP: the same shards, positions, sequence
// numbers and iterators (kinesis/shard_iterator.h) that the Kinesis API gives a
// client. The stream is looked up at each call, so a stream deleted (or deleted
// and created again) is seen at once: ResourceNotFoundException.

#include <memory>
#include <string>

#include "sources/kinesis_reader.h"

namespace hydrant::kinesis {
class KinesisRegistry;
}

namespace hydrant::sources {

class LocalKinesisReader final : public KinesisReader {
 public:
  // `registry` must outlive the reader.
  LocalKinesisReader(kinesis::KinesisRegistry* registry, std::string stream_name);

  Result<std::vector<KinesisShard>> ListShards() override;
  Result<std::string> ShardIterator(const std::string& shard_id, StartAt at,
                                    const std::string& sequence_number,
                                    int64_t timestamp_ms) override;
  Result<KinesisBatch> GetRecords(const std::string& iterator, size_t limit) override;

 private:
  kinesis::KinesisRegistry* registry_;
  const std::string name_;
};

// The stream name of a Kinesis stream ARN of `account`/`region`
// ("arn:aws:kinesis:REGION:ACCOUNT:stream/NAME"); "" when it is not one.
std::string LocalStreamName(std::string_view arn, std::string_view region,
                            std::string_view account_id);

}  // namespace hydrant::sources
