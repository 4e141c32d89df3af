#include "client/connection_pool.hpp"

#include <redisrpc/error.hpp>

#include <algorithm>

namespace redisrpc::detail {

connection_pool::lease::~lease() {
    if (conn_ && pool_) pool_->give_back(std::move(conn_));
}

connection_pool::connection_pool(connection_options options, std::size_t max_connections)
    : options_(std::move(options)), max_(max_connections == 0 ? 1 : max_connections) {}

void connection_pool::give_back(std::unique_ptr<connection> c) {
    {
        std::lock_guard lock(mutex_);
        if (c->broken()) {
            --open_;
        } else {
            idle_.push_back(std::move(c));
        }
    }
    available_.notify_one();
}

connection_pool::lease connection_pool::open_new(std::unique_lock<std::mutex>& lock,
                                                 clock::time_point deadline) {
    ++open_;
    lock.unlock(); // connecting can take a while; others may use idle connections meanwhile
    try {
        return lease(this, std::make_unique<connection>(options_within(options_, deadline)));
    } catch (...) {
        lock.lock();
        --open_;
        lock.unlock();
        available_.notify_one();
        throw;
    }
}

std::optional<connection_pool::lease> connection_pool::try_acquire(clock::time_point deadline) {
    std::unique_lock lock(mutex_);
    if (!idle_.empty()) {
        auto c = std::move(idle_.back());
        idle_.pop_back();
        return lease(this, std::move(c));
    }
    if (open_ < max_) return open_new(lock, deadline);
    return std::nullopt;
}

connection_pool::lease connection_pool::acquire(clock::time_point deadline) {
    std::unique_lock lock(mutex_);
    if (!available_.wait_until(lock, deadline, [this] { return !idle_.empty() || open_ < max_; }))
        throw timeout_error("timed out waiting for a free connection (request not sent)", false);
    if (!idle_.empty()) {
        auto c = std::move(idle_.back());
        idle_.pop_back();
        return lease(this, std::move(c));
    }
    return open_new(lock, deadline);
}

} // namespace redisrpc::detail
