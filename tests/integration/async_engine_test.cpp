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

} // namespace
