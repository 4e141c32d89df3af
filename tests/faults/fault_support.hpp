#pragma once
// Shared pieces of the fault-injection suite: server processes (tests/faults/server), a history
// of calls, and the checks every scenario runs on it (docs/guarantees.md names them).

#include "support/helpers.hpp"
#include "support/process.hpp"
#include "support/redis_server.hpp"

#include <redisrpc/client.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace redisrpc::test {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

// The promise: a call ends within its deadline plus 250 ms. Sanitizers slow everything down.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr auto end_slack = 1000ms;
#else
inline constexpr auto end_slack = 250ms;
#endif

/// How one call ended, as the caller saw it.
enum class outcome { result, remote_error, not_executed, outcome_unknown, connection_error, other };

inline const char* name_of(outcome o) {
    switch (o) {
    case outcome::result:
        return "result";
    case outcome::remote_error:
        return "remote_error";
    case outcome::not_executed:
        return "timeout(not executed)";
    case outcome::outcome_unknown:
        return "timeout(outcome unknown)";
    case outcome::connection_error:
        return "connection_error";
    case outcome::other:
        return "other";
    }
    return "?";
}

struct call_record {
    std::string token; // sent as the argument; our handler returns it
    outcome kind = outcome::other;
    std::string value{}; // the result, when kind == result
    std::string text{};  // the error message otherwise
    steady::time_point started{}, ended{};
    std::chrono::milliseconds timeout{};
};

/// Classifies the exception of a failed call.
inline void classify(std::exception_ptr error, call_record& r) {
    try {
        std::rethrow_exception(error);
    } catch (const timeout_error& e) {
        r.kind = e.outcome_unknown() ? outcome::outcome_unknown : outcome::not_executed;
        r.text = e.what();
    } catch (const remote_error& e) {
        r.kind = outcome::remote_error;
        r.text = e.what();
    } catch (const connection_error& e) {
        r.kind = outcome::connection_error;
        r.text = e.what();
    } catch (const std::exception& e) {
        r.kind = outcome::other;
        r.text = e.what();
    }
}

/// One synchronous call of work(token, work_ms), recorded.
inline call_record timed_call(client& c, const std::string& token, int work_ms,
                              std::chrono::milliseconds timeout) {
    call_record r{.token = token, .started = steady::now(), .timeout = timeout};
    try {
        const auto v = c.call_json("work", {token, work_ms}, nlohmann::json::object(), {timeout});
        r.kind = outcome::result;
        r.value = v.is_string() ? v.get<std::string>() : v.dump();
    } catch (...) {
        classify(std::current_exception(), r);
    }
    r.ended = steady::now();
    return r;
}

/// Every call made during a scenario, from any thread.
class history {
public:
    void add(call_record r) {
        std::lock_guard lock(mutex_);
        records_.push_back(std::move(r));
    }
    std::vector<call_record> all() const {
        std::lock_guard lock(mutex_);
        return records_;
    }
    std::size_t results_after(steady::time_point t) const {
        std::lock_guard lock(mutex_);
        std::size_t n = 0;
        for (const auto& r : records_)
            if (r.kind == outcome::result && r.started >= t)
                ++n;
        return n;
    }
    std::string summary() const {
        std::map<std::string, int> counts;
        for (const auto& r : all())
            ++counts[name_of(r.kind)];
        std::ostringstream out;
        for (const auto& [k, n] : counts)
            out << k << "=" << n << " ";
        return out.str();
    }

private:
    mutable std::mutex mutex_;
    std::vector<call_record> records_;
};

/// Threads calling work() in a loop until stopped; a failed call waits a little before the next
/// so that a Redis that refuses connections is not hammered.
class load {
public:
    load(client& c, history& h, std::string prefix, int threads, std::chrono::milliseconds timeout,
         int work_ms = 5) {
        for (int t = 0; t < threads; ++t) {
            threads_.emplace_back([this, &c, &h, prefix, t, timeout, work_ms] {
                for (int seq = 0; !stop_.load(); ++seq) {
                    auto r = timed_call(c, prefix + "-" + std::to_string(t) + "-" + std::to_string(seq),
                                        work_ms, timeout);
                    const bool failed = r.kind != outcome::result;
                    h.add(std::move(r));
                    if (failed)
                        std::this_thread::sleep_for(20ms);
                }
            });
        }
    }
    ~load() { stop(); }
    void stop() {
        stop_.store(true);
        for (auto& t : threads_)
            if (t.joinable())
                t.join();
    }

private:
    std::atomic<bool> stop_{false};
    std::vector<std::thread> threads_;
};

/// True when `key` exists, through a fresh connection; false also when Redis cannot be asked.
inline bool key_exists(const std::string& url, const std::string& key) {
    try {
        raw_redis r(url);
        return r.exists(key);
    } catch (const std::exception&) {
        return false;
    }
}

/// A service: server processes on one queue of one redis-server, sharing an execution log.
class service {
public:
    service(redis_server& redis, std::string queue)
        : redis_(redis), queue_(std::move(queue)), dir_("faults") {
        log_path_ = (dir_.path() / "executions.log").string();
    }
    ~service() {
        for (auto& [id, p] : servers_)
            p->signal(SIGKILL);
    }

    [[nodiscard]] const std::string& queue() const { return queue_; }
    [[nodiscard]] std::string heartbeat_key(const std::string& id) const {
        return queue_ + ":server:" + id + ":alive";
    }

    /// Starts a server process and waits until its heartbeat key exists.
    void start(const std::string& id, const std::string& mode, int workers = 1) {
        servers_[id] = std::make_unique<child_process>(std::vector<std::string>{
            REDISRPC_FAULT_SERVER, redis_.url(), queue_, id, mode, log_path_, std::to_string(workers)});
        ASSERT_TRUE(wait_until([&] { return key_exists(redis_.url(), heartbeat_key(id)); }, 20s))
            << "server " << id << " did not come up: " << servers_[id]->output();
    }
    child_process& process(const std::string& id) { return *servers_.at(id); }

    /// token -> server ids that started it, from the execution log.
    [[nodiscard]] std::map<std::string, std::vector<std::string>> starts() const {
        std::map<std::string, std::vector<std::string>> out;
        std::ifstream in(log_path_);
        std::string what, token, id;
        while (in >> what >> token >> id)
            if (what == "start")
                out[token].push_back(id);
        return out;
    }
    /// True once the execution log has the line "<what> <token> <server-id>".
    [[nodiscard]] bool logged(const std::string& what, const std::string& token, const std::string& id) const {
        std::ifstream in(log_path_);
        std::string w, t, i;
        while (in >> w >> t >> i)
            if (w == what && t == token && i == id) return true;
        return false;
    }
    /// The server that started `token` first, once it did (empty after `limit`).
    std::string wait_started(const std::string& token, std::chrono::milliseconds limit = 10s) const {
        std::string who;
        wait_until(
            [&] {
                const auto s = starts();
                const auto it = s.find(token);
                if (it == s.end() || it->second.empty())
                    return false;
                who = it->second.front();
                return true;
            },
            limit);
        return who;
    }

    /// The server that started any call first, once one did (empty after `limit`).
    std::string wait_any_started(std::chrono::milliseconds limit = 10s) const {
        std::string who;
        wait_until(
            [&] {
                for (const auto& [token, ids] : starts()) {
                    if (!ids.empty()) who = ids.front();
                }
                return !who.empty();
            },
            limit);
        return who;
    }

    /// Every server not killed by the test is still running.
    void expect_alive(const std::vector<std::string>& ids) {
        for (const auto& id : ids) {
            EXPECT_TRUE(servers_.at(id)->running()) << id << ": " << servers_.at(id)->output();
        }
    }
    /// SIGTERM to each running server; each must answer what it holds and exit 0.
    void stop_gracefully() {
        for (auto& [id, p] : servers_)
            if (p->running())
                p->signal(SIGTERM);
        for (auto& [id, p] : servers_) {
            const auto code = p->wait_for(20s);
            ASSERT_TRUE(code.has_value()) << id << " did not stop on SIGTERM";
            if (*code != -SIGKILL) {
                EXPECT_EQ(*code, 0) << id << ": " << p->output();
            }
        }
    }

private:
    redis_server& redis_;
    std::string queue_;
    temp_dir dir_;
    std::string log_path_;
    std::map<std::string, std::unique_ptr<child_process>> servers_;
};

/// The checks every scenario makes on its history (docs/guarantees.md, promise 1 and 6).
struct history_checks {
    bool at_least_once = false;    ///< else at most once: no call may run twice
    bool all_accepted_run = false; ///< at-least-once without Redis data loss: every sent call runs
};

inline void check_history(const history& h, const service& svc, history_checks want) {
    const auto starts = svc.starts();
    const auto records = h.all();
    ASSERT_FALSE(records.empty());
    steady::duration worst_overrun{};
    for (const auto& r : records) {
        worst_overrun = std::max(worst_overrun, (r.ended - r.started) - r.timeout);
        // No call hangs: each ends within its deadline plus the slack.
        EXPECT_LE(r.ended - r.started, r.timeout + end_slack)
            << r.token << " took "
            << std::chrono::duration_cast<std::chrono::milliseconds>(r.ended - r.started).count()
            << " ms, ended " << name_of(r.kind) << ": " << r.text;
        // No result of another call.
        if (r.kind == outcome::result) {
            EXPECT_EQ(r.value, r.token);
        }
        const auto it = starts.find(r.token);
        const std::size_t runs = it == starts.end() ? 0 : it->second.size();
        // "Not executed" is a promise: the request was withdrawn before any server took it.
        if (r.kind == outcome::not_executed) {
            EXPECT_EQ(runs, 0U) << r.token << " ran though reported not executed";
        }
        if (r.kind == outcome::result) {
            EXPECT_GE(runs, 1U) << r.token;
        }
        if (!want.at_least_once) {
            EXPECT_LE(runs, 1U) << r.token << " ran " << runs << " times in at-most-once mode";
        }
        if (want.all_accepted_run && r.kind != outcome::not_executed && r.kind != outcome::connection_error) {
            EXPECT_GE(runs, 1U) << r.token << " was accepted but never ran (" << name_of(r.kind) << ")";
        }
    }
    std::cout << "history: " << records.size() << " calls: " << h.summary() << "; latest end past a deadline: "
              << std::chrono::duration_cast<std::chrono::milliseconds>(worst_overrun).count() << " ms\n";
}

/// No key without a TTL is left behind: everything the library writes expires or is consumed.
inline void expect_no_leaked_keys(redis_server& redis) {
    raw_redis r(redis.url());
    for (const auto& key : redis.keys("*")) {
        const long long ttl = r.ttl(key);
        EXPECT_NE(ttl, -1) << "key without TTL left behind: " << key;
    }
}

} // namespace redisrpc::test
