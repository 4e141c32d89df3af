// Redis Sentinel, for real: 1 master + 1 replica + 3 sentinels started by the fixture. The
// master is found through the sentinels, and found again after a failover by clients and
// servers alike, while calls are running.

#include "load.hpp"
#include "redis/connection.hpp"
#include "support/helpers.hpp"
#include "support/redis_cluster.hpp"

#include <redisrpc/redisrpc.hpp>

#include <gtest/gtest.h>

namespace redisrpc::test {
namespace {

using namespace std::chrono_literals;

server_options quiet_server() {
    server_options o;
    o.handle_signals = false;
    o.poll_interval = 100ms;
    return o;
}

TEST(Sentinel, FindsTheMasterAndServes) {
    redis_sentinel_group group;
    detail::connection conn(parse_url(group.url()));
    EXPECT_NE(conn.address().find(std::to_string(group.data_node(0).port())), std::string::npos)
        << conn.address();
    EXPECT_EQ(conn.execute({"SET", "k", "v"}, detail::clock::now() + 2s).str, "OK");

    server srv(group.url(), "calc", quiet_server());
    srv.bind("add", [](double x) { return x + 1; });
    running_server running(srv);
    client c(group.url(), "calc", {.timeout = 5s});
    EXPECT_EQ(c.call<double>("add", 41), 42);

    // A master name no sentinel knows, and sentinels nobody runs: clear errors.
    try {
        detail::connection bad(parse_url(group.url() + "-nope"));
        FAIL() << "connected to an unknown master";
    } catch (const connection_error& e) {
        EXPECT_NE(std::string(e.what()).find("mymaster-nope"), std::string::npos) << e.what();
    }
    const auto port = pick_free_port();
    EXPECT_THROW(
        detail::connection(parse_url("redis+sentinel://127.0.0.1:" + std::to_string(port) + "/mymaster")),
        connection_error);
}

void failover_under_load(bool kill_master) {
    redis_sentinel_group group;
    server srv(group.url(), "calc", quiet_server());
    srv.bind("add", [](double x) { return x + 1; });
    running_server running(srv);
    client c(group.url(), "calc", {.timeout = 2s, .connections = 4});
    ASSERT_EQ(c.call<double>("add", 1), 2);
    const auto old_master = group.data_node(0).port();
    {
        call_load load(c, 3, 2s);
        ASSERT_TRUE(wait_until([&] { return load.successes() > 50; }, 10s));
        std::uint16_t now_master = 0;
        if (kill_master) {
            group.data_node(0).kill();
            now_master = group.wait_new_master(old_master, 30s);
        } else {
            now_master = group.failover();
        }
        EXPECT_EQ(now_master, group.data_node(1).port());
        const auto after = load.successes();
        EXPECT_TRUE(wait_until([&] { return load.successes() > after + 50; }, 15s))
            << "calls did not resume on the new master";
        const auto records = load.stop();
        std::cout << call_load::check(records, 2s) << '\n';
    }
    // The server pops from the new master: a call made now is answered.
    EXPECT_EQ(c.call<double>("add", 2), 3);
    raw_redis on_new(group.data_node(1).tcp_url());
    EXPECT_EQ(on_new.run({"ROLE"}).elements.at(0).str, "master");
}

TEST(SentinelFailover, CallsUnderLoadWhileMasterHandsOver) {
    failover_under_load(false);
}

TEST(SentinelFailover, CallsUnderLoadWhileMasterIsKilled) {
    failover_under_load(true);
}

} // namespace
} // namespace redisrpc::test
