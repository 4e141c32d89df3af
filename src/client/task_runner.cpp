#include "client/task_runner.hpp"

namespace redisrpc::detail {

task_runner::task_runner(std::size_t threads, std::size_t max_queued) : max_queued_(max_queued ? max_queued : 1) {
    for (std::size_t i = 0; i < (threads ? threads : 1); ++i) {
        threads_.emplace_back([this] {
            std::unique_lock lock(mutex_);
            while (true) {
                ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
                if (queue_.empty()) return; // stopping and drained
                auto task = std::move(queue_.front());
                queue_.pop_front();
                space_.notify_one();
                lock.unlock();
                task(); // tasks catch their own exceptions
                lock.lock();
            }
        });
    }
}

task_runner::~task_runner() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    ready_.notify_all();
    for (auto& t : threads_) t.join();
}

void task_runner::submit(std::function<void()> task) {
    std::unique_lock lock(mutex_);
    space_.wait(lock, [this] { return queue_.size() < max_queued_; });
    queue_.push_back(std::move(task));
    lock.unlock();
    ready_.notify_one();
}

} // namespace redisrpc::detail
