#pragma once
// A small, bounded set of connections shared by the threads of one client. A call holds a
// connection for its whole round trip (push + blocking pop); broken connections are dropped
// instead of being returned.

#include "redis/connection.hpp"

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace redisrpc::detail {

class connection_pool {
public:
    class lease {
    public:
        lease(connection_pool* pool, std::unique_ptr<connection> c) : pool_(pool), conn_(std::move(c)) {}
        lease(lease&& other) noexcept = default;
        lease& operator=(lease&&) = delete;
        ~lease();
        connection* operator->() const noexcept { return conn_.get(); }
        connection& operator*() const noexcept { return *conn_; }

    private:
        connection_pool* pool_;
        std::unique_ptr<connection> conn_;
    };

    connection_pool(connection_options options, std::size_t max_connections);

    /// A connection if one is idle or may still be opened, without waiting for a busy one.
    /// Opening one (connect and handshake) ends by `deadline`, so a frozen Redis cannot hold a
    /// call past its deadline. @throws connection_error when opening a new connection fails.
    std::optional<lease> try_acquire(clock::time_point deadline);
    /// Waits for a connection until `deadline`. @throws timeout_error (not executed), connection_error.
    lease acquire(clock::time_point deadline);

    [[nodiscard]] const connection_options& options() const noexcept { return options_; }

private:
    friend class lease;
    void give_back(std::unique_ptr<connection> c);
    lease open_new(std::unique_lock<std::mutex>& lock, clock::time_point deadline);

    connection_options options_;
    std::size_t max_;
    std::mutex mutex_;
    std::condition_variable available_;
    std::vector<std::unique_ptr<connection>> idle_;
    std::size_t open_ = 0; // idle + leased
};

} // namespace redisrpc::detail
