#pragma once
// Runs async calls to peers that cannot share a reply list (original servers, codility) as
// synchronous calls on a few threads. The queue is bounded: submit() blocks when it is full.

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace redisrpc::detail {

class task_runner {
public:
    task_runner(std::size_t threads, std::size_t max_queued);
    /// Runs what is queued, then stops.
    ~task_runner();
    task_runner(const task_runner&) = delete;
    task_runner& operator=(const task_runner&) = delete;

    void submit(std::function<void()> task);

private:
    std::mutex mutex_;
    std::condition_variable ready_, space_;
    std::deque<std::function<void()>> queue_;
    std::size_t max_queued_;
    bool stopping_ = false;
    std::vector<std::thread> threads_;
};

} // namespace redisrpc::detail
