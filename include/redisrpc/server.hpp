#pragma once
/// @file
/// The server: exposes bound functions and objects on a Redis list.

#include <redisrpc/dispatcher.hpp>
#include <redisrpc/error.hpp>
#include <redisrpc/options.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace redisrpc {

/// Counters of one method. Latency quantiles are upper bounds of log2 buckets (so within 2x).
struct method_stats_snapshot {
    std::uint64_t calls = 0;   ///< calls started
    std::uint64_t errors = 0;  ///< calls that ended in an error response
    std::uint64_t expired = 0; ///< calls dropped because their deadline had passed
    double p50_ms = 0, p90_ms = 0, p99_ms = 0;
    /// @var p50_ms
    /// Median run time of the calls in ms (0 before the first call).
    /// @var p90_ms
    /// 90th percentile run time of the calls in ms (0 before the first call).
    /// @var p99_ms
    /// 99th percentile run time of the calls in ms (0 before the first call).
};

/// Counters of a running server.
struct server_stats {
    std::uint64_t requests = 0;  ///< messages taken from Redis
    std::uint64_t calls = 0;     ///< calls executed (a JSON-RPC batch holds several)
    std::uint64_t errors = 0;    ///< calls that ended in an error response
    std::uint64_t rejected = 0;  ///< messages rejected as malformed
    std::uint64_t dropped = 0;   ///< messages dropped without any reply (nobody to answer)
    std::uint64_t expired = 0;   ///< calls not started because their deadline had passed
    std::uint64_t reconnects = 0; ///< times the connection to Redis was lost while serving
    std::int64_t in_flight = 0;   ///< requests taken from Redis whose replies Redis has not yet confirmed
    std::string server_id{};                             ///< the id in heartbeat keys
    std::map<std::string, method_stats_snapshot> methods{}; ///< per bound method
};

/// Serves the methods bound on it until stop() or SIGINT/SIGTERM.
///
/// ```
/// redisrpc::server srv{"redis://localhost:6379", "calc"};
/// srv.bind("add", [](double a, double b) { return a + b; });
/// srv.run();
/// ```
class server {
public:
    /// @param url   see parse_url(); empty means default_url() (REDIS_URL).
    /// @param queue request list (classic, JSON-RPC) or key prefix (codility) of the first endpoint,
    ///              whose dialect is options.dialect.
    /// @param options server settings (dialect, workers, limits, ...).
    /// @throws usage_error for a malformed URL or an empty `queue`.
    server(std::string_view url, std::string queue, server_options options = {});
    /// As the URL form, with the connection settings given directly. Redis is first contacted
    /// by run(). @throws usage_error for an empty `queue`.
    server(connection_options connection, std::string queue, server_options options = {});
    ~server();
    server(const server&) = delete;
    server& operator=(const server&) = delete;

    /// Binds a free function, lambda or functor. `param_names` enable keyword arguments.
    template <class F>
    server& bind(std::string name, F&& f, std::vector<std::string> param_names = {}) {
        methods_.bind(std::move(name), std::forward<F>(f), std::move(param_names));
        return *this;
    }
    /// Binds a member function of an object that outlives the server (a derived or const
    /// object works where the method allows it).
    template <class M, class C, class T>
    server& bind(std::string name, M C::*method, T* object, std::vector<std::string> param_names = {}) {
        methods_.bind(std::move(name), method, object, std::move(param_names));
        return *this;
    }
    /// Binds a member function of a shared object.
    template <class M, class C, class T>
    server& bind(std::string name, M C::*method, std::shared_ptr<T> object,
                 std::vector<std::string> param_names = {}) {
        methods_.bind(std::move(name), method, std::move(object), std::move(param_names));
        return *this;
    }

    /// Also serves the same bound methods in another dialect on another list or prefix,
    /// from the same process (one dispatcher, so workers = 1 still serialises all calls).
    server& listen(dialect d, std::string queue_or_prefix);

    /// Serves until stop() or, with handle_signals, SIGINT/SIGTERM; then answers every request it
    /// already took and returns. Reconnects when Redis goes away.
    /// @throws connection_error only if Redis cannot be reached at all on the first attempt.
    void run();
    /// Asks run() to return. Thread-safe; returns immediately.
    void stop() noexcept;
    /// True between the start of run() and its return.
    [[nodiscard]] bool running() const noexcept;

    /// A snapshot of the counters; thread-safe, may be called while run() is serving.
    [[nodiscard]] server_stats stats() const;
    /// stats() as JSON: what the built-in `rpc.stats` method returns.
    [[nodiscard]] nlohmann::json stats_json() const;
    /// The dispatcher holding the bound methods (bind before run()).
    [[nodiscard]] dispatcher& methods() noexcept { return methods_; }
    /// The options in effect: as given, except batch/workers of 0 become 1 and poll_interval is
    /// clamped to 10 ms .. 1 s.
    [[nodiscard]] const server_options& options() const noexcept;

private:
    struct impl;
    dispatcher methods_;
    std::unique_ptr<impl> impl_;
};

} // namespace redisrpc
