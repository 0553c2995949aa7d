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

void ReexecWithHugePageMalloc(char** argv) {
  const char* opt_out = std::getenv("ASSAY_HUGE_PAGES");
  if (opt_out != nullptr && std::strcmp(opt_out, "0") == 0) return;
  if (std::getenv(kMarker) != nullptr) return;
  const char* current = std::getenv("GLIBC_TUNABLES");
  std::string tunables = current == nullptr ? "" : current;
  if (tunables.find("glibc.malloc.hugetlb") != std::string::npos) return;
  tunables = tunables.empty() ? kTunable : tunables + ":" + kTunable;
  if (::setenv("GLIBC_TUNABLES", tunables.c_str(), 1) != 0) return;
  if (::setenv(kMarker, "1", 1) != 0) return;
  ::execv("/proc/self/exe", argv);
  // execv returned: it failed (no /proc, say). Carry on with the default allocator.
}

}  // namespace assay::common
