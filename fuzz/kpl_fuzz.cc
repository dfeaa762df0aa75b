// Fuzz target: KPL de-aggregation (kinesis/kpl.h) on hostile records.
//
// The input is read twice: as a Kinesis record as is (the magic and the MD5
// must then be right by chance or from a seed), and as the protobuf inside an
// aggregate (wrapped with the magic and its own MD5 here), so mutations reach
// the parser beyond the checksum.
//
// Invariants: Deaggregate never crashes or reads out of bounds; a refused
// record leaves the output empty; every view of a de-aggregated record lies in
// the record; a record without the magic is never an aggregate; what
// de-aggregates into user records aggregates again (Aggregate) into bytes that
// de-aggregate into the same user records, and that aggregate is canonical (its
// own re-aggregation gives the same bytes).

#include <openssl/evp.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz/fuzz_util.h"
#include "kinesis/kpl.h"

namespace kinesis = hydrant::kinesis;

namespace {

bool Within(std::string_view part, std::string_view whole) {
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

void Check(std::string_view record) {
  std::vector<kinesis::UserRecord> out;
  if (!kinesis::Deaggregate(record, &out)) {
    FUZZ_CHECK(out.empty(), "a refused record left user records");
    return;
  }
  FUZZ_CHECK(record.starts_with(kinesis::kKplMagic), "an aggregate without the magic");
  for (const auto& u : out) {
    FUZZ_CHECK(Within(u.partition_key, record) && Within(u.data, record) &&
                   (!u.explicit_hash_key || Within(*u.explicit_hash_key, record)),
               "a view outside the record");
  }
  if (out.empty()) return;  // Aggregate of nothing is, by design, no aggregate.
  const std::string again = kinesis::Aggregate(out);
  std::vector<kinesis::UserRecord> back;
  FUZZ_CHECK(kinesis::Deaggregate(again, &back), "a re-aggregated record does not de-aggregate");
  FUZZ_CHECK(back == out, "a re-aggregated record de-aggregates differently");
  FUZZ_CHECK(kinesis::Aggregate(back) == again, "Aggregate is not canonical");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input = hydrant::fuzz::AsView(data, size);
  Check(input);

  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(input.data(), input.size(), md, &len, EVP_md5(), nullptr);
  std::string wrapped(kinesis::kKplMagic);
  wrapped.append(input);
  wrapped.append(reinterpret_cast<const char*>(md), len);
  Check(wrapped);
  return 0;
}
