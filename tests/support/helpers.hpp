#pragma once
// Small helpers shared by the integration tests: a server running on a thread, raw Redis
// commands for inspecting what is on the wire, and waiting for a condition with a deadline.

#include "redis/connection.hpp"

#include <redisrpc/options.hpp>
#include <redisrpc/server.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace redisrpc::test {

/// Runs server::run() on a thread; stops and joins on destruction. Any exception from run()
/// fails the test.
class running_server {
public:
    explicit running_server(server& s) : server_(s) {
        thread_ = std::thread([this] {
            try {
                server_.run();
            } catch (const std::exception& e) {
                ADD_FAILURE() << "server::run threw: " << e.what();
            }
        });
    }
    ~running_server() { stop(); }
    running_server(const running_server&) = delete;
    running_server& operator=(const running_server&) = delete;

    void stop() {
        server_.stop();
        if (thread_.joinable()) thread_.join();
    }

private:
    server& server_;
    std::thread thread_;
};

/// A plain connection for looking at keys and pushing hand-made messages.
class raw_redis {
public:
    explicit raw_redis(const std::string& url) : conn_(parse_url(url)) {}
    detail::reply run(std::initializer_list<std::string_view> argv) {
        return conn_.execute(argv, detail::clock::now() + std::chrono::seconds(5));
    }
    long long llen(const std::string& key) { return run({"LLEN", key}).integer; }
    long long ttl(const std::string& key) { return run({"TTL", key}).integer; }
    bool exists(const std::string& key) { return run({"EXISTS", key}).integer == 1; }
    /// BLPOP with a timeout in seconds; empty optional on timeout.
    std::optional<std::string> blpop(const std::string& key, double seconds) {
        const auto r = conn_.execute({"BLPOP", key, std::to_string(seconds)},
                                     detail::clock::now() + std::chrono::milliseconds(static_cast<long long>(seconds * 1000) + 2000));
        if (r.is_nil()) return std::nullopt;
        return r.elements.at(1).str;
    }

private:
    detail::connection conn_;
};

/// Polls `condition` every millisecond until it holds or `timeout` passes.
inline bool wait_until(const std::function<bool()>& condition,
                       std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (condition()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return condition();
}

/// A queue name unique to the running test, so tests sharing one redis-server never collide.
inline std::string unique_queue(const std::string& base = "q") {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    return base + ":" + info->test_suite_name() + "." + info->name();
}

} // namespace redisrpc::test
