// A fixed-size pool of worker threads for data-parallel loops over columns and chunks.
//
// Thread-safe: any thread may call ParallelFor; calls are serialized (one loop runs at a
// time). fn must not call ParallelFor on the same pool (no nesting).
#ifndef ASSAY_COMMON_THREAD_POOL_H_
#define ASSAY_COMMON_THREAD_POOL_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace assay::common {

class ThreadPool {
 public:
  // Starts `num_threads` - 1 workers; the calling thread is the last worker of every loop.
  // num_threads <= 0 means std::thread::hardware_concurrency().
  explicit ThreadPool(int num_threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int num_threads() const { return static_cast<int>(workers_.size()) + 1; }

  // Runs fn(task) for every task in [0, num_tasks), spread over the threads, and returns when
  // all have finished. Tasks are handed out dynamically, so uneven tasks balance.
  void ParallelFor(int64_t num_tasks, const std::function<void(int64_t)>& fn);

  // A process-wide pool sized to the machine.
  static ThreadPool& Default();

 private:
  void WorkerLoop();
  void RunTasks();

  std::vector<std::thread> workers_;
  std::mutex loop_mu_;  // Serializes ParallelFor calls.

  std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable done_cv_;
  // Guarded by mu_.
  const std::function<void(int64_t)>* fn_ = nullptr;
  int64_t num_tasks_ = 0;
  int64_t next_task_ = 0;
  int64_t generation_ = 0;
  int busy_workers_ = 0;
  bool stop_ = false;
};

}  // namespace assay::common

#endif  // ASSAY_COMMON_THREAD_POOL_H_
