// Large buffers backed by transparent huge pages.
//
// Assay's tables are large, freshly allocated buffers (tens to hundreds of MB per column).
// With the kernel's transparent huge pages in "madvise" mode (Debian's default), glibc's
// malloc backs them with 4 KiB pages, and the first write to each page costs a page fault:
// on the 2-core VM we measure on, a 10M-row left join spent ~30% of its cycles in the fault
// path. glibc 2.35+ can ask for huge pages itself (the tunable glibc.malloc.hugetlb=1, which
// madvises its mmap'd and heap memory), but tunables are read only when a process starts.
// See docs/decisions/0005-huge-page-malloc.md for the measurements.
//
// Not thread-safe: call first thing in main(), before any other thread exists.
#ifndef ASSAY_COMMON_HUGE_PAGES_H_
#define ASSAY_COMMON_HUGE_PAGES_H_

namespace assay::common {

// If glibc's huge-page malloc is not enabled yet, re-executes the running program (same pid,
// arguments and environment) with glibc.malloc.hugetlb=1 added to GLIBC_TUNABLES, once.
// Returns normally when it is already enabled, when the environment sets
// ASSAY_HUGE_PAGES=0, or when re-executing is impossible (the program then simply runs with
// the default allocator).
void ReexecWithHugePageMalloc(char** argv);

}  // namespace assay::common

#endif  // ASSAY_COMMON_HUGE_PAGES_H_
