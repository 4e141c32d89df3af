#include "server/worker_pool.hpp"

namespace redisrpc::detail {

worker_pool::worker_pool(std::size_t threads) {
    threads_.reserve(threads);
    for (std::size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { work_loop(); });
}

worker_pool::~worker_pool() {
    {
        std::lock_guard lock(mutex_);
        shutting_down_ = true;
    }
    work_ready_.notify_all();
    for (auto& t : threads_) t.join();
}

bool worker_pool::take_and_run(std::unique_lock<std::mutex>& lock) {
    if (job_ == nullptr || next_ >= total_) return false;
    const std::size_t index = next_++;
    const auto* job = job_;
    lock.unlock();
    (*job)(index);
    lock.lock();
    if (++finished_ == total_) work_done_.notify_all();
    return true;
}

void worker_pool::work_loop() {
    std::unique_lock lock(mutex_);
    while (true) {
        work_ready_.wait(lock, [this] { return shutting_down_ || (job_ != nullptr && next_ < total_); });
        if (shutting_down_) return;
        while (take_and_run(lock)) {
        }
    }
}

void worker_pool::run_all(std::size_t n, const std::function<void(std::size_t)>& fn) {
    if (n == 0) return;
    std::unique_lock lock(mutex_);
    job_ = &fn;
    next_ = 0;
    total_ = n;
    finished_ = 0;
    work_ready_.notify_all();
    while (take_and_run(lock)) {
    }
    work_done_.wait(lock, [this] { return finished_ == total_; });
    job_ = nullptr;
}

} // namespace redisrpc::detail
