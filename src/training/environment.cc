// The environment manifest of a training: what a validator needs to reproduce it.
#include <sys/utsname.h>

#include <fstream>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "ml/xgboost/xgboost_model.h"
#include "training/training_service.h"

#ifndef ASSAY_GIT_COMMIT
#define ASSAY_GIT_COMMIT "unknown"
#endif

namespace assay::training {
namespace {

std::string Compiler() {
#if defined(__clang__)
  return absl::StrCat("Clang ", __clang_major__, ".", __clang_minor__, ".", __clang_patchlevel__);
#elif defined(__GNUC__)
  return absl::StrCat("GCC ", __GNUC__, ".", __GNUC_MINOR__, ".", __GNUC_PATCHLEVEL__);
#else
  return "unknown compiler";
#endif
}

// PRETTY_NAME of /etc/os-release and the machine architecture.
std::string OperatingSystem() {
  std::string name = "unknown OS";
  std::ifstream in("/etc/os-release");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("PRETTY_NAME=", 0) != 0) continue;
    name = line.substr(12);
    if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
      name = name.substr(1, name.size() - 2);
    }
  }
  struct utsname uts {};
  if (::uname(&uts) == 0) absl::StrAppend(&name, ", ", uts.machine);
  return name;
}

}  // namespace

nlohmann::json EnvironmentManifest() {
  return {{"assay_version", AssayVersion()},
          {"assay_commit", ASSAY_GIT_COMMIT},
          {"xgboost_version", ml::XgboostVersion()},
          {"compiler", Compiler()},
          {"os", OperatingSystem()},
          {"threads", std::to_string(std::thread::hardware_concurrency())}};
}

}  // namespace assay::training
