#include "observability/health.h"

#include "stream/registry.h"

namespace hydrant::observability {

std::string HealthReport(const stream::StreamRegistry& registry) {
  std::string lines;
  size_t shown = 0, more = 0;
  auto add = [&](std::string line) {
    if (shown >= kMaxHealthLines) {
      ++more;
      return;
    }
    ++shown;
    lines += line;
    lines += '\n';
  };
  for (const auto& q : registry.Quarantined()) {
    add("quarantined stream=" + q.name + " attempts=" + std::to_string(q.attempts) + " dir=" +
        q.dir + " error=\"" + q.reason + "\"");
  }
  for (const auto& s : registry.All()) {
    const auto notes = registry.StartNotes(s->name());
    const auto& problems = s->recovery_problems();
    if (problems.empty() && notes.empty()) continue;
    add("damaged stream=" + s->name() +
        " lost_records=" + std::to_string(s->probe().lost_records.load()) +
        " problems=" + std::to_string(problems.size() + notes.size()));
    for (const auto& p : notes) add("  " + s->name() + ": " + p);
    for (const auto& p : problems) add("  " + s->name() + ": " + p);
  }
  if (shown == 0) return "ok\n";
  if (more > 0) lines += "... " + std::to_string(more) + " more lines (hydrant's log)\n";
  return "degraded\n" + lines;
}

}  // namespace hydrant::observability
