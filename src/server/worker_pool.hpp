#pragma once
// A fixed set of threads that run the calls of one popped batch in parallel. The batch is the
// unit of work, so in-flight work is bounded by the batch size and no queue can grow without
// bound: the serve loop pops the next batch only after this one is answered.

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace redisrpc::detail {

class worker_pool {
public:
    /// `threads` helpers besides the calling thread, which also works.
    explicit worker_pool(std::size_t threads);
    ~worker_pool();
    worker_pool(const worker_pool&) = delete;
    worker_pool& operator=(const worker_pool&) = delete;

    /// Runs fn(0) .. fn(n-1), each exactly once, spread over the pool; returns when all are done.
    /// fn must not throw.
    void run_all(std::size_t n, const std::function<void(std::size_t)>& fn);

private:
    void work_loop();
    bool take_and_run(std::unique_lock<std::mutex>& lock);

    std::mutex mutex_;
    std::condition_variable work_ready_;
    std::condition_variable work_done_;
    const std::function<void(std::size_t)>* job_ = nullptr;
    std::size_t next_ = 0, total_ = 0, finished_ = 0;
    bool shutting_down_ = false;
    std::vector<std::thread> threads_;
};

} // namespace redisrpc::detail
