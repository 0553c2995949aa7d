#include "recipes/external_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"

extern char** environ;

namespace assay::recipes {
namespace {

using Clock = std::chrono::steady_clock;

// While the child runs, the loop wakes at least this often to notice its exit even when a
// grandchild still holds the pipes open.
constexpr int kPollMillis = 50;

std::string ErrnoText(int error) { return std::strerror(error); }

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    Close();
    fd_ = std::exchange(other.fd_, -1);
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { Close(); }

  int get() const { return fd_; }
  bool open() const { return fd_ >= 0; }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

// A captured stream: keeps the tail, counts what it dropped.
struct Capture {
  Fd fd;
  std::string text;
  size_t dropped = 0;
  size_t limit = 0;

  void Append(const char* data, size_t size) {
    text.append(data, size);
    // Trimming only past twice the limit keeps the cost amortized constant per byte.
    if (text.size() > 2 * limit) {
      const size_t excess = text.size() - limit;
      text.erase(0, excess);
      dropped += excess;
    }
  }

  std::string Finish() {
    if (text.size() > limit) {
      const size_t excess = text.size() - limit;
      text.erase(0, excess);
      dropped += excess;
    }
    if (dropped == 0) return std::move(text);
    return absl::StrCat("[... ", dropped, " earlier bytes dropped ...]\n", text);
  }

  // Reads what is available without blocking; closes the stream at end of file.
  void Drain() {
    char buffer[65536];
    while (fd.open()) {
      const ssize_t n = ::read(fd.get(), buffer, sizeof(buffer));
      if (n > 0) {
        Append(buffer, static_cast<size_t>(n));
      } else if (n == 0) {
        fd.Close();
      } else if (errno == EINTR) {
        continue;
      } else {
        if (errno != EAGAIN && errno != EWOULDBLOCK) fd.Close();
        return;
      }
    }
  }
};

absl::Status MakePipe(Fd& read_end, Fd& write_end) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat("cannot create a pipe: ", ErrnoText(errno)));
  }
  read_end = Fd(fds[0]);
  write_end = Fd(fds[1]);
  if (::fcntl(read_end.get(), F_SETFL, O_NONBLOCK) != 0) {
    return absl::InternalError(absl::StrCat("cannot configure a pipe: ", ErrnoText(errno)));
  }
  return absl::OkStatus();
}

// Owns the posix_spawn attribute objects.
struct SpawnSetup {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attributes;
  SpawnSetup() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attributes);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
};

std::vector<char*> CStrings(const std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  pointers.reserve(strings.size() + 1);
  for (const std::string& s : strings) pointers.push_back(const_cast<char*>(s.c_str()));
  pointers.push_back(nullptr);
  return pointers;
}

void DecodeStatus(int status, ProcessOutcome& outcome) {
  if (WIFEXITED(status)) {
    outcome.exited = true;
    outcome.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    outcome.signal = WTERMSIG(status);
  }
}

}  // namespace

absl::StatusOr<ProcessOutcome> RunProcess(const ProcessSpec& spec) {
  if (spec.argv.empty()) return absl::InvalidArgumentError("RunProcess: empty argv");
  Capture out, err;
  out.limit = err.limit = spec.max_output_bytes;
  Fd out_write, err_write;
  if (absl::Status status = MakePipe(out.fd, out_write); !status.ok()) return status;
  if (absl::Status status = MakePipe(err.fd, err_write); !status.ok()) return status;

  SpawnSetup setup;
  posix_spawn_file_actions_addopen(&setup.actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&setup.actions, out_write.get(), STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&setup.actions, err_write.get(), STDERR_FILENO);
  // Descriptors the caller opened without O_CLOEXEC (other threads' files, sockets) must not
  // leak into a user script.
  posix_spawn_file_actions_addclosefrom_np(&setup.actions, STDERR_FILENO + 1);
  if (!spec.working_dir.empty()) {
    posix_spawn_file_actions_addchdir_np(&setup.actions, spec.working_dir.c_str());
  }
  // A new process group, so a timeout can kill the script and everything it started.
  posix_spawnattr_setpgroup(&setup.attributes, 0);
  // The child must not inherit signals the caller blocks or ignores (e.g. SIGPIPE).
  sigset_t no_signals, all_signals;
  sigemptyset(&no_signals);
  sigfillset(&all_signals);
  posix_spawnattr_setsigmask(&setup.attributes, &no_signals);
  posix_spawnattr_setsigdefault(&setup.attributes, &all_signals);
  posix_spawnattr_setflags(&setup.attributes,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<char*> argv = CStrings(spec.argv);
  std::vector<char*> envp = CStrings(spec.env);
  pid_t pid = -1;
  const int spawn_error =
      posix_spawnp(&pid, argv[0], &setup.actions, &setup.attributes, argv.data(), envp.data());
  out_write.Close();
  err_write.Close();
  if (spawn_error != 0) {
    const std::string what =
        absl::StrCat("cannot run \"", spec.argv[0], "\": ", ErrnoText(spawn_error));
    if (spawn_error == ENOENT || spawn_error == ENOTDIR) return absl::NotFoundError(what);
    if (spawn_error == EACCES || spawn_error == EPERM) return absl::PermissionDeniedError(what);
    if (spawn_error == ENOEXEC) return absl::FailedPreconditionError(what);
    return absl::InternalError(what);
  }

  ProcessOutcome outcome;
  const bool has_deadline = spec.timeout_seconds > 0;
  const Clock::time_point deadline =
      has_deadline ? Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                        std::chrono::duration<double>(spec.timeout_seconds))
                   : Clock::time_point::max();
  int status = 0;
  bool reaped = false;
  while (!reaped) {
    const pid_t waited = ::waitpid(pid, &status, WNOHANG);
    if (waited == pid) {
      reaped = true;
      break;
    }
    if (waited < 0 && errno != EINTR) {
      const int error = errno;
      ::kill(-pid, SIGKILL);
      return absl::InternalError(
          absl::StrCat("waiting for \"", spec.argv[0], "\" failed: ", ErrnoText(error)));
    }
    const Clock::time_point now = Clock::now();
    if (has_deadline && now >= deadline) {
      outcome.timed_out = true;
      ::kill(-pid, SIGKILL);
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      reaped = true;
      break;
    }
    int wait_millis = kPollMillis;
    if (has_deadline) {
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - now).count();
      if (left < wait_millis) wait_millis = static_cast<int>(left);
    }
    pollfd fds[2];
    nfds_t count = 0;
    for (Capture* capture : {&out, &err}) {
      if (capture->fd.open()) fds[count++] = pollfd{capture->fd.get(), POLLIN, 0};
    }
    if (count == 0) {
      // Both streams are closed, so the exit is imminent; check again soon.
      ::poll(nullptr, 0, std::min(wait_millis, 5));
      continue;
    }
    if (::poll(fds, count, wait_millis) > 0) {
      out.Drain();
      err.Drain();
    }
  }
  // Output written before the exit is still in the pipes.
  out.Drain();
  err.Drain();
  // Whatever the child left running in its group (a daemonized helper, a stuck subprocess)
  // would hold resources and the pipes; end it with the run. ESRCH (none left) is fine.
  ::kill(-pid, SIGKILL);
  DecodeStatus(status, outcome);
  outcome.stdout_text = out.Finish();
  outcome.stderr_text = err.Finish();
  return outcome;
}

std::vector<std::string> CurrentEnvironmentWith(const std::vector<std::string>& overrides) {
  auto name_of = [](std::string_view entry) { return entry.substr(0, entry.find('=')); };
  std::vector<std::string> env;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    bool replaced = false;
    for (const std::string& override_entry : overrides) {
      if (name_of(override_entry) == name_of(text)) replaced = true;
    }
    if (!replaced) env.emplace_back(text);
  }
  for (const std::string& override_entry : overrides) env.push_back(override_entry);
  return env;
}

std::string_view LastLines(std::string_view text, int max_lines) {
  size_t end = text.size();
  // A trailing line break does not start another line.
  if (end > 0 && text[end - 1] == '\n') --end;
  size_t start = end;
  int lines = 0;
  while (start > 0) {
    if (text[start - 1] == '\n' && ++lines == max_lines) break;
    --start;
  }
  return text.substr(start);
}

std::string DescribeSignal(int signal) {
  const char* abbreviation = ::sigabbrev_np(signal);
  if (abbreviation == nullptr) return absl::StrCat("signal ", signal);
  return absl::StrCat("signal ", signal, " (SIG", abbreviation, ")");
}

}  // namespace assay::recipes
