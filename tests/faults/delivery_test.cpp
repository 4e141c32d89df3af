// At-least-once delivery pieces against a real redis-server, with an in-process server: the
// reaper, the delivery counter and dead-letter list, recovery of a restarted server's own list,
// acknowledgement after the reply. The process-killing scenarios are in faults_test.cpp.

#include "fault_support.hpp"
#include "server/delivery.hpp"
#include "server/startup_checks.hpp"

#include <redisrpc/server.hpp>

namespace redisrpc::test {
namespace {

std::string classic_request(const std::string& method, const nlohmann::json& args,
                            const std::string& reply_key) {
    return nlohmann::json{{"function_call", {{"name", method}, {"args", args}}},
                          {"response_queue", reply_key}}
        .dump();
}

TEST(Delivery, ReaperReturnsWorkOfDeadServersAndDeadLettersOverDeliveredRequests) {
    redis_server redis;
    const std::string q = "deliv:reap";
    raw_redis raw(redis.url());
    // "ghost" is a server that died holding two requests: no heartbeat key, a processing list.
    const std::string fresh = classic_request("echo", {"fresh"}, q + ":rpc:fresh");
    const std::string poison = classic_request("echo", {"poison"}, q + ":rpc:poison");
    raw.run({"RPUSH", q + ":processing:ghost", fresh, poison});
    raw.run({"ZADD", q + ":consumers", "1", "ghost"}); // registered, last heartbeat long ago
    // The poison request was already delivered max_deliveries (2) times.
    raw.run({"HSET", q + ":deliveries", detail::reliable_delivery::delivery_field(poison), "2"});
    // A restarted server finds what it held under its own id and serves it first.
    const std::string own = classic_request("echo", {"own"}, q + ":rpc:own");
    raw.run({"RPUSH", q + ":processing:me", own});

    std::atomic<int> runs{0};
    server srv(
        redis.url(), q,
        {.poll_interval = 50ms, .server_id = "me", .delivery = delivery::at_least_once, .max_deliveries = 2});
    srv.bind("echo", [&runs](const std::string& s) {
        ++runs;
        return s;
    });
    running_server running(srv);

    EXPECT_EQ(raw.blpop(q + ":rpc:own", 5).value_or(""), R"({"return_value":"own"})");
    EXPECT_EQ(raw.blpop(q + ":rpc:fresh", 10).value_or(""), R"({"return_value":"fresh"})");
    ASSERT_TRUE(wait_until([&] { return raw.llen(q + ":dead") == 1; }, 10s));
    EXPECT_EQ(raw.run({"LINDEX", q + ":dead", "0"}).str, poison);
    EXPECT_GT(raw.ttl(q + ":dead"), 0);
    EXPECT_EQ(runs.load(), 2) << "the dead-lettered request must not run";
    EXPECT_FALSE(raw.exists(q + ":rpc:poison"));
    EXPECT_FALSE(raw.exists(q + ":processing:ghost"));
    EXPECT_TRUE(wait_until([&] { return raw.run({"ZSCORE", q + ":consumers", "ghost"}).is_nil(); }, 5s))
        << "a long-dead server with nothing left is forgotten";
    // Acknowledged: nothing left in this server's list, counters deleted.
    EXPECT_TRUE(
        wait_until([&] { return !raw.exists(q + ":processing:me") && !raw.exists(q + ":deliveries"); }, 5s));
    running.stop();
    EXPECT_FALSE(raw.exists(q + ":server:me:alive"));
    expect_no_leaked_keys(redis);
}

TEST(Delivery, AcknowledgesOnlyAfterTheReplyAndServesManyCallsInOrder) {
    redis_server redis;
    const std::string q = "deliv:many";
    server srv(redis.url(), q, {.workers = 3, .poll_interval = 50ms, .delivery = delivery::at_least_once});
    srv.bind("twice", [](int x) { return 2 * x; });
    running_server running(srv);
    client c(redis.url(), q, {.timeout = 5s});
    std::vector<std::future<int>> futures;
    for (int i = 0; i < 200; ++i)
        futures.push_back(c.async_call<int>("twice", i));
    for (int i = 0; i < 200; ++i)
        EXPECT_EQ(futures[static_cast<std::size_t>(i)].get(), 2 * i);
    for (int i = 0; i < 20; ++i)
        EXPECT_EQ(c.call<int>("twice", i), 2 * i);
    raw_redis raw(redis.url());
    EXPECT_TRUE(wait_until([&] { return redis.keys(q + ":processing:*").empty(); }, 5s));
    EXPECT_FALSE(raw.exists(q + ":deliveries"));
    EXPECT_EQ(srv.stats().calls, 220U);
    running.stop();
    expect_no_leaked_keys(redis);
}

TEST(Delivery, FailFastClientRefusesAtOnceWhenNoServerIsAlive) {
    redis_server redis;
    client c(redis.url(), "deliv:nobody", {.timeout = 5s, .fail_fast_without_server = true});
    const auto t0 = steady::now();
    EXPECT_THROW((void)c.call_json("anything"), no_live_server_error);
    EXPECT_LT(steady::now() - t0, 1s);
    auto f = c.async_call<int>("anything");
    EXPECT_THROW((void)f.get(), no_live_server_error);
    raw_redis raw(redis.url());
    EXPECT_EQ(raw.llen("deliv:nobody"), 0) << "nothing may be sent";
}

TEST(Delivery, ExpiredRequestsAreNeverStartedAndAreCounted) {
    redis_server redis;
    const std::string q = "deliv:expired";
    std::atomic<int> runs{0};
    server srv(redis.url(), q, {.poll_interval = 50ms});
    srv.bind("echo", [&runs](const std::string& s) {
        ++runs;
        return s;
    });
    raw_redis raw(redis.url());
    // Queued before any server runs: one already past its deadline, one with a minute to go.
    const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    auto request = [&](const std::string& arg, long long deadline, const std::string& reply) {
        return nlohmann::json{{"function_call", {{"name", "echo"}, {"args", {arg}}}},
                              {"response_queue", reply},
                              {"id", arg},
                              {"deadline_ms", deadline}}
            .dump();
    };
    raw.run({"RPUSH", q, request("late", now_ms - 1, q + ":rpc:late"), request("live", now_ms + 60000, q + ":rpc:live")});
    running_server running(srv);
    const auto late = raw.blpop(q + ":rpc:late", 5);
    ASSERT_TRUE(late.has_value());
    EXPECT_NE(late->find("expired"), std::string::npos) << *late;
    const auto live = raw.blpop(q + ":rpc:live", 5);
    ASSERT_TRUE(live.has_value());
    EXPECT_NE(live->find("\"return_value\":\"live\""), std::string::npos) << *live;
    EXPECT_EQ(runs.load(), 1);
    EXPECT_EQ(srv.stats().expired, 1U);
}

TEST(Delivery, AtLeastOnceWithSeveralQueuesCodility) {
    redis_server redis;
    const std::string prefix = "deliv:cod";
    server srv(redis.url(), prefix,
               {.dialect = dialect::codility, .poll_interval = 50ms, .delivery = delivery::at_least_once});
    srv.bind("inc", [](int x) { return x + 1; }, {"x"});
    srv.bind("neg", [](int x) { return -x; }, {"x"});
    running_server running(srv);
    client c(redis.url(), prefix, {.dialect = dialect::codility, .timeout = 5s});
    for (int i = 0; i < 10; ++i) {
        EXPECT_EQ(c.call<int>("inc", kw{{"x", i}}), i + 1);
        EXPECT_EQ(c.call<int>("neg", kw{{"x", i}}), -i);
    }
    EXPECT_TRUE(wait_until([&] { return redis.keys(prefix + ":*:processing:*").empty(); }, 5s));
    running.stop();
    expect_no_leaked_keys(redis);
}

TEST(Delivery, EvictionWarningOnlyForPoliciesThatEvict) {
    EXPECT_TRUE(detail::eviction_warning("noeviction", 1 << 20).empty());
    EXPECT_NE(detail::eviction_warning("allkeys-lru", 1 << 20).find("allkeys-lru"), std::string::npos);
    EXPECT_NE(detail::eviction_warning("volatile-ttl", 1 << 20).find("evict"), std::string::npos);
    EXPECT_NE(detail::eviction_warning("allkeys-lru", 0).find("no maxmemory limit"), std::string::npos);
}

} // namespace
} // namespace redisrpc::test
