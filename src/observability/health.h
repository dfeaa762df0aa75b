#pragma once
// The body of GET /health: "ok" while nothing is wrong, else "degraded" and one line
// per problem found on disk: streams that could not be opened (quarantined) and
// streams whose files were found damaged at start (lost records, repairs). The
// server answers 200 either way: it serves every other stream; monitors read the
// first line. The number of lines is bounded (kMaxHealthLines), whatever the
// number of streams or problems.

#include <cstddef>
#include <string>

namespace hydrant::stream {
class StreamRegistry;
}

namespace hydrant::observability {

inline constexpr size_t kMaxHealthLines = 100;

std::string HealthReport(const stream::StreamRegistry& registry);

}  // namespace hydrant::observability
