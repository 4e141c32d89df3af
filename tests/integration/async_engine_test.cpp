// The async engine on its own (src/client/async_engine), against a real redis-server and our
// server: matching of echoed ids, the bound on its deadline heap, timeouts after heap rebuilds.

#include "support/helpers.hpp"
#include "support/redis_server.hpp"

#include "client/async_engine.hpp"
#include "protocol/classic.hpp"
#include "util/random.hpp"

#include <redisrpc/redisrpc.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <vector>
#include <mutex>
#include <set>

using namespace std::chrono_literals;
using redisrpc::test::running_server;
using redisrpc::test::shared_redis;
using redisrpc::test::unique_queue;
using redisrpc::test::wait_until;
namespace detail = redisrpc::detail;

namespace {

constexpr std::size_t in_flight = 32;

class AsyncEngine : public ::testing::Test {
protected:
    std::string url = shared_redis().url();
    std::string queue = unique_queue();
    detail::classic_client_codec codec{queue};

    std::atomic<int> ok{0}, timed_out{0}, other{0};
    std::mutex values_mutex;
    std::multiset<double> values;
    // Last, so that it is destroyed first: its destructor may still run callbacks using the above.
    detail::async_engine engine{redisrpc::parse_url(url), codec, queue + ":rpc:" + detail::random_token(20),
                                in_flight};

    // Submits method(args); `then` runs with the outcome on the engine's receiver thread.
    void submit_call(std::string method, nlohmann::json args, std::function<void(redisrpc::call_result)> then) {
        auto [key, id] = engine.next_id();
        detail::call_request req;
        req.method = std::move(method);
        req.args = std::move(args);
        req.id = id;
        auto out = codec.encode(req, engine.reply_key(), redisrpc::encoding::json);
        engine.submit(std::move(out), key, detail::clock::now() + 10s, std::move(then));
    }

    void submit_add(double x, std::chrono::milliseconds timeout) {
        auto [key, id] = engine.next_id();
        detail::call_request req;
        req.method = "add";
        req.args = nlohmann::json::array({x});
        req.id = id;
        auto out = codec.encode(req, engine.reply_key(), redisrpc::encoding::json);
        engine.submit(std::move(out), key, detail::clock::now() + timeout, [this](redisrpc::call_result r) {
            try {
                const double v = r.get().get<double>();
                std::lock_guard lock(values_mutex);
                values.insert(v);
                ++ok;
            } catch (const redisrpc::timeout_error&) {
                ++timed_out;
            } catch (...) {
                ++other;
            }
        });
    }
};

TEST_F(AsyncEngine, AnsweredCallsDoNotAccumulateInTheDeadlineHeap) {
    redisrpc::server srv{url, queue};
    srv.bind("add", [](double x) { return x + 1; });
    running_server running{srv};

    constexpr int calls = 3000; // far more than in_flight: submit() applies back-pressure
    for (int i = 0; i < calls; ++i)
        submit_add(i, 10s);
    ASSERT_TRUE(wait_until([&] { return ok + timed_out + other == calls; }, 20s));
    EXPECT_EQ(ok, calls);
    EXPECT_EQ(values.size(), static_cast<std::size_t>(calls));
    EXPECT_EQ(*values.begin(), 1.0);
    EXPECT_EQ(*values.rbegin(), static_cast<double>(calls));
    // Before the fix every answered call left its entry until its 10 s deadline: 3000 here.
    EXPECT_LE(engine.timer_entries(), 2 * in_flight + 65);
}

TEST_F(AsyncEngine, CallsTimeOutAfterTheHeapWasRebuiltAndForeignRepliesAreIgnored) {
    {
        redisrpc::server srv{url, queue};
        srv.bind("add", [](double x) { return x + 1; });
        running_server running{srv};
        for (int i = 0; i < 500; ++i)
            submit_add(i, 10s); // leaves stale entries behind
        ASSERT_TRUE(wait_until([&] { return ok == 500; }, 20s));
    }
    // Replies this engine never asked for: no id, a foreign id, garbage. They must be dropped.
    redisrpc::test::raw_redis redis(url);
    redis.run({"RPUSH", engine.reply_key(), R"({"return_value":1,"id":"zzzzzzzzzzzzzzzz"})",
               R"({"return_value":1})", "not json"});

    // No server now: these end by their deadline, through a heap rebuilt on the way.
    const auto started = std::chrono::steady_clock::now();
    for (int i = 0; i < static_cast<int>(in_flight); ++i)
        submit_add(i, 300ms);
    ASSERT_TRUE(wait_until([&] { return timed_out == static_cast<int>(in_flight); }, 10s));
    EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
    EXPECT_EQ(ok, 500);
    EXPECT_EQ(other, 0);
    EXPECT_TRUE(wait_until([&] { return redis.llen(engine.reply_key()) == 0; }));
    EXPECT_EQ(redis.llen(queue), 0); // every unanswered request was withdrawn
}

// Callbacks run on the receiver thread, which frees the slots: a callback starting calls must
// not wait for one (it would stall every call until its deadline), and the receiver sends those
// calls itself ahead of its next pop.
TEST_F(AsyncEngine, CallbacksStartCallsEvenBeyondTheInFlightLimit) {
    redisrpc::server srv{url, queue};
    srv.bind("add", [](double x) { return x + 1; });
    running_server running{srv};

    // in_flight roots; every answer below depth 3 starts two more calls: 32 * 15 calls, with up
    // to twice the limit pending at once.
    constexpr int depth = 3;
    constexpr int total = static_cast<int>(in_flight) * ((2 << depth) - 1);
    std::atomic<int> answered{0}, failed{0};
    std::function<void(double, int)> start = [&](double x, int level) {
        submit_call("add", nlohmann::json::array({x}), [&, x, level](redisrpc::call_result r) {
            if (!r.ok() || r.value != nlohmann::json(x + 1)) {
                ++failed;
            } else if (level < depth) {
                start(x + 1, level + 1);
                start(x + 1, level + 1);
            }
            ++answered;
        });
    };
    for (std::size_t i = 0; i < in_flight; ++i)
        start(static_cast<double>(i), 0);
    ASSERT_TRUE(wait_until([&] { return answered == total; }, 8s)) << answered << " of " << total;
    EXPECT_EQ(failed, 0);
}

// Requests reach Redis in the order they were submitted, although the sender and the receiver
// (for its callbacks' calls) both send them, over two connections.
TEST_F(AsyncEngine, SubmissionOrderHoldsWhileCallbacksSendCallsToo) {
    std::mutex seen_mutex;
    std::vector<int> seen; // the main thread's calls, in the order the server ran them
    redisrpc::server srv{url, queue};
    srv.bind("record", [&](int n) {
        if (n >= 0) {
            std::lock_guard lock(seen_mutex);
            seen.push_back(n);
        }
        return n;
    });
    running_server running{srv};

    constexpr int calls = 1500;
    std::atomic<int> answered{0}, failed{0};
    const auto count = [&](const redisrpc::call_result& r) {
        if (!r.ok()) ++failed;
        ++answered;
    };
    for (int i = 0; i < calls; ++i) {
        // Each answer starts a chained call from the receiver thread, interleaving with these.
        submit_call("record", nlohmann::json::array({i}), [&, count](redisrpc::call_result r) {
            count(r);
            submit_call("record", nlohmann::json::array({-1}), count);
        });
    }
    ASSERT_TRUE(wait_until([&] { return answered == 2 * calls; }, 20s)) << answered;
    EXPECT_EQ(failed, 0);
    std::lock_guard lock(seen_mutex);
    ASSERT_EQ(seen.size(), static_cast<std::size_t>(calls));
    for (int i = 0; i < calls; ++i)
        ASSERT_EQ(seen[static_cast<std::size_t>(i)], i) << "out of order at " << i;
}

} // namespace
