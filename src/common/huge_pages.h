// Process start-up tunables: large buffers backed by transparent huge pages, and OpenMP's
// wait policy.
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

// Settings that only take effect when a process starts, applied by re-executing the running
// program once (same pid, arguments and environment plus these), first thing in main():
//   - glibc.malloc.hugetlb=1 added to GLIBC_TUNABLES, unless ASSAY_HUGE_PAGES=0 or the
//     tunable is already set;
//   - OMP_WAIT_POLICY=passive unless OMP_WAIT_POLICY is set: libgomp (XGBoost's threads)
//     otherwise spin-waits at every barrier, which on a busy machine made AutoML trials 3-6x
//     slower (docs/decisions/0009-openmp-passive-wait.md).
// Returns normally when nothing needs changing or re-executing is impossible (the program
// then runs with the defaults).
void ReexecWithProcessTunables(char** argv);

}  // namespace assay::common

#endif  // ASSAY_COMMON_HUGE_PAGES_H_
