#include "rpc.hpp"

#include <redisrpc/server.hpp>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace bench {

namespace {

constexpr double argument = 5;
constexpr double expected = 6;

// How long the main thread waits for one completion before it calls the run broken.
constexpr auto stall_limit = 15s;

} // namespace

result rpc_sequential(const settings& s, redisrpc::client& c) {
    window w(s);
    for (auto now = clock::now(); w.sending(now); now = clock::now()) {
        try {
            if (c.call<double>("add", argument) != expected) throw std::runtime_error("wrong result");
            w.record(now, clock::now());
        } catch (const redisrpc::error&) {
            w.error();
        }
    }
    return w.finish("redisrpc call<double>", 1);
}

result rpc_futures(const settings& s, redisrpc::client& c, std::size_t k) {
    window w(s);
    std::deque<std::pair<clock::time_point, std::future<double>>> in_flight;
    while (true) {
        const auto now = clock::now();
        if (w.sending(now) && in_flight.size() < k) {
            in_flight.emplace_back(now, c.async_call<double>("add", argument));
            continue;
        }
        if (in_flight.empty()) break;
        auto& [started, future] = in_flight.front();
        if (future.wait_for(stall_limit) != std::future_status::ready)
            throw std::runtime_error("an async call did not complete within 15 s");
        try {
            if (future.get() != expected) throw std::runtime_error("wrong result");
            w.record(started, clock::now());
        } catch (const redisrpc::error&) {
            w.error();
        }
        in_flight.pop_front();
    }
    return w.finish("redisrpc async_call (futures)", k);
}

namespace {

// A window of K in-flight callback calls shared by the submitting thread and the client's
// receiver thread.
struct callback_window {
    std::mutex mutex;
    std::condition_variable changed;
    std::size_t in_flight = 0;
    std::uint64_t done = 0, failed = 0;

    bool wait_below(std::size_t k) {
        std::unique_lock lock(mutex);
        return changed.wait_for(lock, stall_limit, [&] { return in_flight < k; });
    }
};

template <class OnDone>
void submit(redisrpc::client& c, callback_window& cw, OnDone on_done) {
    {
        std::lock_guard lock(cw.mutex);
        ++cw.in_flight;
    }
    const auto started = clock::now();
    c.async_call_json("add", nlohmann::json::array({argument}), nlohmann::json::object(),
                      [&cw, started, on_done](redisrpc::call_result r) {
                          const auto finished = clock::now();
                          const bool ok = r.ok() && r.value.is_number() && r.value.get<double>() == expected;
                          // Notified under the lock: once in_flight reaches 0 the waiter may
                          // return and destroy the window.
                          std::lock_guard lock(cw.mutex);
                          --cw.in_flight;
                          ++cw.done;
                          if (!ok) ++cw.failed;
                          on_done(ok, started, finished);
                          cw.changed.notify_one();
                      });
}

} // namespace

result rpc_callbacks(const settings& s, redisrpc::client& c, std::size_t k) {
    window w(s);
    callback_window cw;
    // Runs under cw.mutex: the window's samples are only touched there.
    auto on_done = [&w](bool ok, clock::time_point started, clock::time_point finished) {
        if (ok) {
            w.record(started, finished);
        } else {
            w.error();
        }
    };
    while (w.sending(clock::now())) {
        if (!cw.wait_below(k)) throw std::runtime_error("an async call did not complete within 15 s");
        submit(c, cw, on_done);
    }
    if (!cw.wait_below(1)) throw std::runtime_error("async calls did not complete within 15 s");
    std::lock_guard lock(cw.mutex);
    return w.finish("redisrpc async_call_json (callbacks)", k);
}

namespace {

// K chains of calls: each callback starts its chain's next call (a continuation), so submitting
// happens on the client's receiver thread, as the floor's client pushes from its popping thread.
class chains {
public:
    chains(redisrpc::client& c, std::size_t k) : client_(c), k_(k) {}

    // Runs the chains until `more(finished)` says stop; `on_done(ok, started, finished)` is
    // called under the lock for each completed call. Returns false if they stalled.
    template <class More, class OnDone>
    bool run(More more, OnDone on_done) {
        more_ = std::move(more);
        on_done_ = std::move(on_done);
        {
            std::lock_guard lock(mutex_);
            running_ = k_;
        }
        for (std::size_t i = 0; i < k_; ++i) start();
        std::unique_lock lock(mutex_);
        return idle_.wait_for(lock, stall_limit * 4, [&] { return running_ == 0; });
    }

private:
    void start() {
        const auto started = clock::now();
        client_.async_call_json("add", nlohmann::json::array({argument}), nlohmann::json::object(),
                                [this, started](redisrpc::call_result r) {
                                    const auto finished = clock::now();
                                    const bool ok = r.ok() && r.value.is_number() &&
                                                    r.value.get<double>() == expected;
                                    bool again = false;
                                    {
                                        // Notified under the lock: once running_ reaches 0 the
                                        // waiter may return and destroy this object.
                                        std::lock_guard lock(mutex_);
                                        on_done_(ok, started, finished);
                                        again = more_(finished);
                                        if (!again) {
                                            --running_;
                                            idle_.notify_one();
                                        }
                                    }
                                    if (again) start();
                                });
    }

    redisrpc::client& client_;
    std::size_t k_;
    std::function<bool(clock::time_point)> more_;
    std::function<void(bool, clock::time_point, clock::time_point)> on_done_;
    std::mutex mutex_;
    std::condition_variable idle_;
    std::size_t running_ = 0;
};

} // namespace

result rpc_chained(const settings& s, redisrpc::client& c, std::size_t k) {
    window w(s);
    chains ch(c, k);
    const bool finished = ch.run([&w](clock::time_point now) { return w.sending(now); },
                                 [&w](bool ok, clock::time_point started, clock::time_point done) {
                                     if (ok) {
                                         w.record(started, done);
                                     } else {
                                         w.error();
                                     }
                                 });
    if (!finished) throw std::runtime_error("chained async calls did not complete");
    return w.finish("redisrpc async_call_json (chained callbacks)", k);
}

std::uint64_t rpc_fixed_chained(redisrpc::client& c, std::uint64_t calls, std::size_t k) {
    chains ch(c, k);
    std::uint64_t started = k, failed = 0;
    const bool finished = ch.run([&](clock::time_point) { return started < calls ? (++started, true) : false; },
                                 [&](bool ok, clock::time_point, clock::time_point) { failed += ok ? 0 : 1; });
    if (!finished) throw std::runtime_error("chained async calls did not complete");
    return failed;
}

std::uint64_t rpc_fixed_calls(redisrpc::client& c, std::uint64_t calls, std::size_t k,
                              std::chrono::seconds max_time, const std::function<void(std::uint64_t)>& progress) {
    callback_window cw;
    const auto give_up = clock::now() + max_time;
    const std::uint64_t step = std::max<std::uint64_t>(1, calls / 10);
    std::uint64_t next_report = step;
    auto ignore = [](bool, clock::time_point, clock::time_point) {};
    for (std::uint64_t sent = 0; sent < calls && clock::now() < give_up; ++sent) {
        if (!cw.wait_below(k)) throw std::runtime_error("an async call did not complete within 15 s");
        submit(c, cw, ignore);
        std::uint64_t done;
        {
            std::lock_guard lock(cw.mutex);
            done = cw.done;
        }
        if (done >= next_report) {
            progress(done);
            next_report += step;
        }
    }
    if (!cw.wait_below(1)) throw std::runtime_error("async calls did not complete within 15 s");
    std::lock_guard lock(cw.mutex);
    progress(cw.done);
    return cw.failed;
}

int rpc_server(const settings& s, const std::string& queue) {
    redisrpc::server_options options;
    options.workers = s.workers;
    options.batch = s.batch;
    options.handle_signals = false; // SIGTERM is the bench's own stop signal (see peer_init)
    redisrpc::server srv(s.url, queue, options);
    srv.bind("add", [](double x) { return x + 1.0; });
    std::atomic<bool> finished{false};
    std::exception_ptr failure;
    std::thread runner([&] {
        try {
            srv.run();
        } catch (...) {
            failure = std::current_exception();
        }
        finished.store(true);
    });
    // run() connects on its own; requests pushed before that wait in the list.
    while (!srv.running() && !finished.load()) std::this_thread::sleep_for(1ms);
    if (!finished.load()) peer_ready();
    while (!stop_requested() && !finished.load()) std::this_thread::sleep_for(20ms);
    srv.stop();
    runner.join();
    if (failure) std::rethrow_exception(failure);
    return 0;
}

} // namespace bench
