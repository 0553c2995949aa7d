// Debian 12's Abseil is built with ABSL_OPTION_USE_STD_STRING_VIEW=0, so absl::string_view is
// a distinct class and std::string_view does not convert to it (absl::StrCat(std_view) fails
// to compile). Assay code uses std::string_view; pass it to Abseil through Absl().
//
// Header-only, stateless: thread-safe.
#ifndef ASSAY_COMMON_ABSL_COMPAT_H_
#define ASSAY_COMMON_ABSL_COMPAT_H_

#include <string_view>

#include "absl/strings/string_view.h"

namespace assay {

inline absl::string_view Absl(std::string_view text) { return {text.data(), text.size()}; }

}  // namespace assay

#endif  // ASSAY_COMMON_ABSL_COMPAT_H_
