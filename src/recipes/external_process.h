// Runs a child program without a shell (posix_spawn, argument vector, explicit environment)
// and captures its stdout and stderr, with a timeout that kills the child's whole process
// group. Used by the python recipe to run the interpreter; kept separate so the process
// handling is tested on its own.
//
// The child starts in a new process group (its pid is the group id), with stdin from
// /dev/null and no file descriptors inherited beyond 0-2. When the child exits, processes it
// left behind in its group are killed too, so a recipe never outlives its run.
//
// Thread-safety: RunProcess keeps no state; concurrent calls are safe. It waits for its own
// child by pid, so it must not be used in a process that ignores SIGCHLD or reaps children
// with waitpid(-1, ...) elsewhere.
#ifndef ASSAY_RECIPES_EXTERNAL_PROCESS_H_
#define ASSAY_RECIPES_EXTERNAL_PROCESS_H_

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace assay::recipes {

struct ProcessSpec {
  // argv[0] is the program: a path, or a name searched in the PATH of `env` (posix_spawnp).
  std::vector<std::string> argv;
  // The complete environment of the child, as "NAME=value" entries.
  std::vector<std::string> env;
  // The child's working directory; empty keeps the caller's.
  std::filesystem::path working_dir;
  // Wall-clock limit; <= 0 means none. On expiry the process group gets SIGKILL.
  double timeout_seconds = 0;
  // Per stream, only the last this-many bytes are kept (the end of a log is what explains a
  // failure); a marker line at the start says how much was dropped.
  size_t max_output_bytes = size_t{16} << 20;
};

struct ProcessOutcome {
  bool exited = false;  // ended by exit(); exit_code is valid
  int exit_code = -1;
  int signal = 0;          // the signal that ended it, when !exited
  bool timed_out = false;  // killed because the timeout expired
  std::string stdout_text;
  std::string stderr_text;

  bool succeeded() const { return exited && exit_code == 0 && !timed_out; }
};

// Runs `spec` to completion (or timeout) and returns how it ended and what it printed.
// Requires: spec.argv is not empty.
// Errors: NOT_FOUND if the program does not exist (or is not in PATH); PERMISSION_DENIED if
// it is not executable; FAILED_PRECONDITION if it is not a program the system can run
// (ENOEXEC); INTERNAL if pipes, the spawn or waiting fail for another reason.
// A non-zero exit, a signal and a timeout are not errors: they are reported in the outcome.
absl::StatusOr<ProcessOutcome> RunProcess(const ProcessSpec& spec);

// The environment of the current process as "NAME=value" entries, with `overrides` (also
// "NAME=value") replacing or adding entries.
std::vector<std::string> CurrentEnvironmentWith(const std::vector<std::string>& overrides);

// The last `max_lines` lines of `text` (all of it if it has fewer).
std::string_view LastLines(std::string_view text, int max_lines);

// "signal 9 (SIGKILL)" for the message of a process ended by a signal.
std::string DescribeSignal(int signal);

}  // namespace assay::recipes

#endif  // ASSAY_RECIPES_EXTERNAL_PROCESS_H_
