#include "common/huge_pages.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

namespace assay::common {
namespace {

constexpr char kTunable[] = "glibc.malloc.hugetlb=1";
// Set before re-executing so that a glibc that ignores the tunable cannot cause a loop.
constexpr char kMarker[] = "ASSAY_HUGE_PAGES_REEXEC";

}  // namespace

void ReexecWithProcessTunables(char** argv) {
  if (std::getenv(kMarker) != nullptr) return;
  bool changed = false;
  const char* opt_out = std::getenv("ASSAY_HUGE_PAGES");
  const char* current = std::getenv("GLIBC_TUNABLES");
  std::string tunables = current == nullptr ? "" : current;
  if (!(opt_out != nullptr && std::strcmp(opt_out, "0") == 0) &&
      tunables.find("glibc.malloc.hugetlb") == std::string::npos) {
    tunables = tunables.empty() ? kTunable : tunables + ":" + kTunable;
    if (::setenv("GLIBC_TUNABLES", tunables.c_str(), 1) == 0) changed = true;
  }
  // OpenMP (XGBoost's threads): sleep at barriers instead of spinning, unless the user chose.
  if (std::getenv("OMP_WAIT_POLICY") == nullptr && ::setenv("OMP_WAIT_POLICY", "passive", 0) == 0) {
    changed = true;
  }
  if (!changed) return;
  if (::setenv(kMarker, "1", 1) != 0) return;
  ::execv("/proc/self/exe", argv);
  // execv returned: it failed (no /proc, say). Carry on with the default allocator.
}

}  // namespace assay::common
