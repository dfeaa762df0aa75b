#pragma once
// `hydrant doctor STREAM`: asks a running hydrant for its doctor's report on a
// delivery stream (GET /doctor?stream=NAME) and prints it, one line per check, or
// the JSON report with --json. docs/doctor.md.
// Exit codes: 0 no check failed, 1 a check failed, 2 usage error, stream not found or
// hydrant not reachable.

#include <iosfwd>
#include <string>

namespace hydrant::aws {
class HttpClient;
}

namespace hydrant::app {

struct DoctorCommandOptions {
  std::string endpoint = "http://127.0.0.1:4573";
  std::string delivery_stream;
  bool json = false;
};

int RunDoctorCommand(const DoctorCommandOptions& opts, aws::HttpClient* http, std::ostream& out,
                     std::ostream& err);

}  // namespace hydrant::app
