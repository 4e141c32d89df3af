#pragma once
// Calls under load for failover tests: threads making sync calls and a stream of async calls on
// one client, every outcome recorded with how long it took. A "defined outcome" is the right
// result, a timeout_error, a connection_error, or the server's "expired" answer (the request
// reached it after its deadline, so it did not run), reached within the call's timeout plus a
// small slack; anything else (a wrong value, another exception, a call that never ends) is a failure.

#include <redisrpc/client.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace redisrpc::test {

struct call_outcome_record {
    std::string outcome; // "ok", "timeout", "connection", or a description of what went wrong
    std::chrono::milliseconds took{};
};

class call_load {
public:
    static constexpr auto slack = std::chrono::milliseconds(250);

    call_load(client& c, std::size_t sync_threads, std::chrono::milliseconds timeout)
        : client_(c), timeout_(timeout) {
        for (std::size_t t = 0; t < sync_threads; ++t)
            threads_.emplace_back([this, t] { sync_loop(t); });
        threads_.emplace_back([this] { async_loop(); });
    }
    ~call_load() { stop(); }

    /// Stops starting calls and waits for every call to end (bounded by timeout + slack).
    std::vector<call_outcome_record> stop() {
        stop_ = true;
        for (auto& t : threads_)
            if (t.joinable())
                t.join();
        std::unique_lock lock(mutex_);
        const bool drained = done_cv_.wait_for(lock, timeout_ + slack + std::chrono::seconds(1),
                                               [this] { return async_pending_ == 0; });
        EXPECT_TRUE(drained) << async_pending_ << " async calls never ended";
        return records_;
    }

    /// Successful calls so far.
    [[nodiscard]] std::size_t successes() const { return ok_.load(); }

    /// Checks every record: a defined outcome within the deadline; returns a summary.
    static std::string check(const std::vector<call_outcome_record>& records,
                             std::chrono::milliseconds timeout) {
        std::size_t ok = 0, timeouts = 0, connection = 0, expired = 0;
        for (const auto& r : records) {
            EXPECT_TRUE(r.outcome == "ok" || r.outcome == "timeout" || r.outcome == "connection" ||
                        r.outcome == "expired")
                << r.outcome;
            EXPECT_LE(r.took, timeout + slack) << "a call (" << r.outcome << ") ended late";
            ok += r.outcome == "ok";
            timeouts += r.outcome == "timeout";
            connection += r.outcome == "connection";
            expired += r.outcome == "expired";
        }
        return std::to_string(records.size()) + " calls: " + std::to_string(ok) + " ok, " +
               std::to_string(timeouts) + " timeouts, " + std::to_string(connection) +
               " connection errors, " + std::to_string(expired) + " expired";
    }

private:
    static std::string classify(const std::exception_ptr& failure) {
        try {
            std::rethrow_exception(failure);
        } catch (const timeout_error&) {
            return "timeout";
        } catch (const connection_error&) {
            return "connection";
        } catch (const remote_error& e) {
            if (e.code() == error_code::expired)
                return "expired";
            return std::string("unexpected remote error: ") + e.what();
        } catch (const std::exception& other) {
            return std::string("unexpected error: ") + other.what();
        }
    }

    void record(std::string outcome, std::chrono::steady_clock::time_point started) {
        const auto took =
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
        if (outcome == "ok")
            ++ok_;
        std::lock_guard lock(mutex_);
        records_.push_back({std::move(outcome), took});
    }

    void sync_loop(std::size_t t) {
        for (int i = 0; !stop_; ++i) {
            const double x = static_cast<double>(t * 100000 + i);
            const auto started = std::chrono::steady_clock::now();
            try {
                const auto r = client_.call_json("add", {x}, nlohmann::json::object(), {timeout_});
                record(r == x + 1 ? "ok" : "wrong result " + r.dump(), started);
            } catch (...) {
                record(classify(std::current_exception()), started);
            }
        }
    }

    void async_loop() {
        for (int i = 0; !stop_; ++i) {
            {
                std::unique_lock lock(mutex_);
                // At most 32 in flight: enough to keep the pipelined path busy.
                done_cv_.wait(lock, [this] { return async_pending_ < 32; });
                ++async_pending_;
            }
            const double x = 1e9 + i;
            const auto started = std::chrono::steady_clock::now();
            client_.async_call_json("add", {x}, nlohmann::json::object(),
                                    [this, x, started](call_result r) {
                                        if (r.ok()) {
                                            record(r.value == x + 1 ? "ok" : "wrong result " + r.value.dump(),
                                                   started);
                                        } else {
                                            record(classify(r.error), started);
                                        }
                                        std::lock_guard lock(mutex_);
                                        --async_pending_;
                                        done_cv_.notify_all();
                                    },
                                    {timeout_});
        }
    }

    client& client_;
    std::chrono::milliseconds timeout_;
    std::atomic<bool> stop_{false};
    std::atomic<std::size_t> ok_{0};
    std::mutex mutex_;
    std::condition_variable done_cv_;
    std::size_t async_pending_ = 0;
    std::vector<call_outcome_record> records_;
    std::vector<std::thread> threads_;
};

} // namespace redisrpc::test
