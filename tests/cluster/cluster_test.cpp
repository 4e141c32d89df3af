// Redis Cluster, for real: 3 masters + 3 replicas started by the fixture on loopback ports.
// Slot routing, MOVED and ASK during a slot migration, a service sharded over every master,
// and calls under load while a master fails over (manually, and by being killed).

#include "load.hpp"
#include "redis/connection.hpp"
#include "support/helpers.hpp"
#include "support/redis_cluster.hpp"

#include <redisrpc/admin.hpp>
#include <redisrpc/redisrpc.hpp>

#include <gtest/gtest.h>

#include <set>

namespace redisrpc::test {
namespace {

using namespace std::chrono_literals;

detail::reply on_node(redis_cluster& c, std::size_t i, std::initializer_list<std::string_view> argv) {
    raw_redis raw(c.node(i).tcp_url());
    return raw.run(argv);
}

void bind_calculator(server& srv) {
    srv.bind("add", [](double x) { return x + 1; });
}

server_options quiet_server(std::size_t shards = 1) {
    server_options o;
    o.handle_signals = false;
    o.shards = shards;
    o.poll_interval = 100ms;
    return o;
}

// Calls on every shard succeed again (the service is back after a failover).
void expect_serving(client& c, std::size_t calls) {
    std::size_t ok = 0;
    const bool back = wait_until(
        [&] {
            try {
                if (c.call<double>("add", 1) == 2)
                    ++ok;
            } catch (const error&) {
                ok = 0;
            }
            return ok >= calls;
        },
        20s);
    EXPECT_TRUE(back) << "the service did not come back after the failover";
}

TEST(Cluster, RoutesEveryKeyAndFollowsMovedAndAsk) {
    redis_cluster cluster;
    detail::connection conn(parse_url(cluster.url()));
    const auto deadline = [] { return detail::clock::now() + 5s; };

    // Keys on every master, pipelined in one write: every reply comes back in order.
    detail::command_buffer set;
    for (int i = 0; i < 200; ++i)
        set.add({"SET", "key:" + std::to_string(i), std::to_string(i)});
    const auto results = conn.pipeline(set, deadline());
    ASSERT_EQ(results.size(), 200u);
    for (const auto& r : results)
        ASSERT_EQ(r.str, "OK");
    detail::command_buffer get;
    for (int i = 0; i < 200; ++i)
        get.add({"GET", "key:" + std::to_string(i)});
    const auto values = conn.pipeline(get, deadline());
    for (int i = 0; i < 200; ++i)
        ASSERT_EQ(values[i].str, std::to_string(i));
    std::set<std::size_t> owners;
    for (int i = 0; i < 200; ++i)
        owners.insert(cluster.master_of_slot(key_slot("key:" + std::to_string(i))));
    EXPECT_EQ(owners.size(), 3u) << "the keys should span every master";

    // Move one slot by hand, as redis-cli --cluster reshard does: first ASK (migrating), then MOVED.
    const std::string key = "{moving}";
    const auto slot = key_slot(key);
    const auto from = cluster.master_of_slot(slot);
    const auto masters = cluster.masters();
    const auto to = masters[0] == from ? masters[1] : masters[0];
    const auto from_id = cluster.node_id(from), to_id = cluster.node_id(to);
    const auto slot_text = std::to_string(slot);
    ASSERT_EQ(on_node(cluster, to, {"CLUSTER", "SETSLOT", slot_text, "IMPORTING", from_id}).str, "OK");
    ASSERT_EQ(on_node(cluster, from, {"CLUSTER", "SETSLOT", slot_text, "MIGRATING", to_id}).str, "OK");
    // The key does not exist on the source: the source answers ASK, the router follows it.
    EXPECT_EQ(conn.execute({"RPUSH", key, "a"}, deadline()).integer, 1);
    EXPECT_EQ(on_node(cluster, to, {"ASKING"}).str, "OK");
    EXPECT_EQ(on_node(cluster, from, {"EXISTS", key}).integer, 0) << "the push went to the importing node";
    // A transaction follows ASK as a whole.
    detail::command_buffer txn;
    txn.add({"MULTI"});
    txn.add({"RPUSH", key, "b"});
    txn.add({"EXPIRE", key, "60"});
    txn.add({"EXEC"});
    const auto txn_replies = conn.pipeline(txn, deadline());
    ASSERT_EQ(txn_replies.size(), 4u);
    ASSERT_TRUE(txn_replies[3].is_array()) << txn_replies[3].str;
    EXPECT_EQ(txn_replies[3].elements[0].integer, 2);

    // Finish the migration everywhere: the router's map is now stale and MOVED corrects it.
    for (const auto m : masters)
        ASSERT_EQ(on_node(cluster, m, {"CLUSTER", "SETSLOT", slot_text, "NODE", to_id}).str, "OK");
    ASSERT_TRUE(wait_until([&] { return cluster.master_of_slot(slot) == to; }, 10s));
    const auto moved = conn.execute({"LRANGE", key, "0", "-1"}, deadline());
    ASSERT_TRUE(moved.is_array()) << moved.str;
    EXPECT_EQ(moved.elements.size(), 2u);
    EXPECT_FALSE(conn.broken());
    cluster.wait_healthy();

    // Bad input stays an error reply, not a crash: a command across slots.
    const auto cross = conn.execute({"RPOPLPUSH", "{a}", "{b}"}, deadline());
    EXPECT_TRUE(cross.is_error());
    EXPECT_NE(cross.str.find("CROSSSLOT"), std::string::npos) << cross.str;
}

TEST(Cluster, ServesTaggedAndUntaggedQueuesFromOneServer) {
    redis_cluster cluster;
    server srv(cluster.url(), "{calc}", quiet_server());
    srv.listen(dialect::jsonrpc, "plain-queue"); // no hash tag: another slot, another lane
    bind_calculator(srv);
    running_server running(srv);

    client tagged(cluster.url(), "{calc}", {.timeout = 5s});
    client untagged(cluster.url(), "plain-queue", {.dialect = dialect::jsonrpc, .timeout = 5s});
    for (int i = 0; i < 20; ++i) {
        EXPECT_EQ(tagged.call<double>("add", i), i + 1);
        EXPECT_EQ(untagged.call<double>("add", i), i + 1);
    }
    std::vector<std::future<double>> futures;
    for (int i = 0; i < 200; ++i)
        futures.push_back((i % 2 ? tagged : untagged).async_call<double>("add", i));
    for (int i = 0; i < 200; ++i)
        EXPECT_EQ(futures[i].get(), i + 1);

    // The admin view scans every master: both endpoints' heartbeats are found.
    EXPECT_EQ(admin::live_servers(cluster.url(), "{calc}").size(), 1u);
    EXPECT_EQ(admin::live_servers(cluster.url(), "plain-queue", dialect::jsonrpc).size(), 1u);
}

TEST(Cluster, AtLeastOnceNeedsAHashTaggedQueue) {
    redis_cluster cluster;
    server_options o = quiet_server();
    o.delivery = delivery::at_least_once;
    // LMOVE names the queue and the processing list: without a hash tag they would be in two
    // slots, so the server refuses to start instead of failing on every pop.
    server untagged(cluster.url(), "payments", o);
    bind_calculator(untagged);
    EXPECT_THROW(untagged.run(), usage_error);

    o.server_id = "alo-cluster";
    server tagged(cluster.url(), "{payments}", o);
    bind_calculator(tagged);
    running_server running(tagged);
    client c(cluster.url(), "{payments}", {.timeout = 5s});
    for (int i = 0; i < 20; ++i)
        EXPECT_EQ(c.call<double>("add", i), i + 1);
    std::vector<std::future<double>> futures;
    for (int i = 0; i < 100; ++i)
        futures.push_back(c.async_call<double>("add", i));
    for (int i = 0; i < 100; ++i)
        EXPECT_EQ(futures[i].get(), i + 1);
    // Every request went through the processing list and was acknowledged.
    const auto depths = admin::queue_depths(cluster.url(), "{payments}");
    ASSERT_EQ(depths.size(), 1u);
    EXPECT_EQ(depths[0].length, 0);
    EXPECT_EQ(depths[0].in_processing, 0);
    EXPECT_EQ(depths[0].dead_letters, 0);
    detail::connection routed(parse_url(cluster.url()));
    const auto score = routed.execute({"ZSCORE", "{payments}:consumers", "alo-cluster"},
                                      detail::clock::now() + 5s);
    EXPECT_FALSE(score.is_nil()) << "the server registered as a consumer of its queue";
}

TEST(Cluster, ShardedServiceUsesEveryMaster) {
    redis_cluster cluster;
    const auto queues = shard_queues("calc", 3);
    std::set<std::size_t> owners;
    for (const auto& q : queues)
        owners.insert(cluster.master_of_slot(key_slot(q)));
    EXPECT_EQ(owners.size(), 3u) << "three shards land on three masters";

    std::vector<long long> before;
    const auto rpush_calls = [&](std::size_t node) {
        const auto info = on_node(cluster, node, {"INFO", "commandstats"}).str;
        const auto at = info.find("cmdstat_rpush:calls=");
        return at == std::string::npos ? 0LL : std::stoll(info.substr(at + 20));
    };
    for (const auto m : owners)
        before.push_back(rpush_calls(m));

    server srv(cluster.url(), "calc", quiet_server(3));
    bind_calculator(srv);
    running_server running(srv);
    client c(cluster.url(), "calc", {.timeout = 5s, .shards = 3});
    for (int i = 0; i < 30; ++i)
        EXPECT_EQ(c.call<double>("add", i), i + 1);
    std::vector<std::future<double>> futures;
    for (int i = 0; i < 300; ++i)
        futures.push_back(c.async_call<double>("add", i));
    for (int i = 0; i < 300; ++i)
        EXPECT_EQ(futures[i].get(), i + 1);

    std::size_t k = 0;
    for (const auto m : owners)
        EXPECT_GT(rpush_calls(m), before[k++] + 10) << "master " << m << " got no requests";

    EXPECT_THROW(client(cluster.url(), "calc", {.reply_prefix = "calc:rpc:me:", .shards = 2}), usage_error);
    EXPECT_THROW(client(cluster.url(), "calc", {.dialect = dialect::codility, .shards = 2}), usage_error);
}

void failover_under_load(bool kill_master) {
    redis_cluster cluster;
    server srv(cluster.url(), "calc", quiet_server(3));
    bind_calculator(srv);
    running_server running(srv);
    client c(cluster.url(), "calc", {.timeout = 2s, .connections = 4, .shards = 3});
    ASSERT_EQ(c.call<double>("add", 1), 2);

    const auto victim = cluster.master_of_slot(key_slot(shard_queues("calc", 3)[0]));
    const auto replica = cluster.replica_of(victim);
    ASSERT_TRUE(replica.has_value());
    {
        call_load load(c, 3, 2s);
        ASSERT_TRUE(wait_until([&] { return load.successes() > 50; }, 10s));
        if (kill_master) {
            cluster.node(victim).kill();
            ASSERT_TRUE(wait_until([&] { return cluster.healthy(); }, 20s)) << "no failover";
        } else {
            EXPECT_EQ(cluster.manual_failover(victim), *replica);
        }
        const auto after = load.successes();
        // The load keeps going through the new master.
        EXPECT_TRUE(wait_until([&] { return load.successes() > after + 50; }, 15s));
        const auto records = load.stop();
        std::cout << call_load::check(records, 2s) << '\n';
    }
    expect_serving(c, 30);
    EXPECT_EQ(srv.stats().calls > 0, true);
}

TEST(ClusterFailover, CallsUnderLoadWhileMasterHandsOver) {
    failover_under_load(false);
}

TEST(ClusterFailover, CallsUnderLoadWhileMasterIsKilled) {
    failover_under_load(true);
}

} // namespace
} // namespace redisrpc::test
