// Scale-out pieces that need no network: key slots, sharded queue names, cluster and sentinel
// URLs, and how a pipeline is cut into routable units.

#include "redis/command.hpp"
#include "redis/command_units.hpp"
#include "redis/pop_lanes.hpp"

#include <redisrpc/cluster.hpp>
#include <redisrpc/error.hpp>
#include <redisrpc/options.hpp>

#include <gtest/gtest.h>

#include <set>

namespace {

using redisrpc::connection_options;
using redisrpc::key_slot;
using redisrpc::parse_url;
using redisrpc::usage_error;

std::string error_of(std::string_view url) {
    try {
        (void)parse_url(url);
    } catch (const usage_error& e) {
        return e.what();
    }
    return {};
}

TEST(KeySlot, MatchesRedisClusterSpec) {
    // Values from the Redis Cluster specification and `CLUSTER KEYSLOT`.
    EXPECT_EQ(key_slot("123456789"), 0x31C3 % 16384);
    EXPECT_EQ(key_slot("foo"), 12182);
    EXPECT_EQ(key_slot("bar"), 5061);
    EXPECT_EQ(key_slot(""), 0);
    // Hash tags: the first {...} with something inside.
    EXPECT_EQ(key_slot("{user1000}.following"), key_slot("{user1000}.followers"));
    EXPECT_EQ(key_slot("{user1000}.following"), key_slot("user1000"));
    EXPECT_EQ(key_slot("foo{}{bar}"), key_slot("foo{}{bar}")); // empty tag: the whole key
    EXPECT_NE(key_slot("foo{}{bar}"), key_slot("bar"));
    EXPECT_EQ(key_slot("foo{{bar}}zap"), key_slot("{bar"));
    EXPECT_EQ(key_slot("{calc}"), key_slot("{calc}:rpc:abc"));
}

TEST(ShardQueues, OnePerSlotRangeAndStable) {
    EXPECT_EQ(redisrpc::shard_queues("calc", 1), std::vector<std::string>{"calc"});
    const auto three = redisrpc::shard_queues("calc", 3);
    ASSERT_EQ(three.size(), 3u);
    for (std::size_t i = 0; i < 3; ++i) {
        const auto slot = key_slot(three[i]);
        EXPECT_GE(slot, i * 16384 / 3) << three[i];
        EXPECT_LT(slot, (i + 1) * 16384 / 3) << three[i];
        EXPECT_EQ(three[i].front(), '{');
        EXPECT_EQ(key_slot(three[i] + ":rpc:token"), slot) << "reply lists share the sub-queue's slot";
    }
    EXPECT_EQ(redisrpc::shard_queues("calc", 3), three);
    EXPECT_THROW((void)redisrpc::shard_queues("", 2), usage_error);
    EXPECT_THROW((void)redisrpc::shard_queues("calc", 0), usage_error);
    EXPECT_THROW((void)redisrpc::shard_queues("calc", 16385), usage_error);
    EXPECT_EQ(redisrpc::shard_queues("calc", 64).size(), 64u);
}

TEST(ScaleOutUrl, Cluster) {
    const auto o = parse_url("redis+cluster://u:p%40ss@10.0.0.1:7000,10.0.0.2:7001,[::1]:7002/?timeout=2s");
    EXPECT_EQ(o.mode, connection_options::topology::cluster);
    ASSERT_EQ(o.nodes.size(), 3u);
    EXPECT_EQ(o.nodes[0].host, "10.0.0.1");
    EXPECT_EQ(o.nodes[1].port, 7001);
    EXPECT_EQ(o.nodes[2].host, "::1");
    EXPECT_EQ(o.host, "10.0.0.1");
    EXPECT_EQ(o.port, 7000);
    EXPECT_EQ(o.user, "u");
    EXPECT_EQ(o.password, "p@ss");
    EXPECT_FALSE(o.tls);
    EXPECT_EQ(o.address(), "cluster 10.0.0.1:7000,10.0.0.2:7001,[::1]:7002");
    EXPECT_TRUE(parse_url("rediss+cluster://h:1?insecure=true").tls);
    EXPECT_EQ(parse_url("redis+cluster://h").nodes.at(0).port, 6379);
    EXPECT_NE(error_of("redis+cluster://h:1/2").find("database 0 only"), std::string::npos);
    EXPECT_NE(error_of("redis+cluster://h:1,,h:2").find("empty entry"), std::string::npos);
    EXPECT_NE(error_of("redis+cluster://h:1?sentinel_password=x").find("redis+sentinel"), std::string::npos);
    EXPECT_NE(error_of("redis+cluster:h:1").find("'//'"), std::string::npos);
}

TEST(ScaleOutUrl, Sentinel) {
    const auto o = parse_url(
        "redis+sentinel://:secret@s1:5000,s2/mymaster/3?sentinel_password=s%26p&sentinel_user=watch");
    EXPECT_EQ(o.mode, connection_options::topology::sentinel);
    ASSERT_EQ(o.nodes.size(), 2u);
    EXPECT_EQ(o.nodes[0].port, 5000);
    EXPECT_EQ(o.nodes[1].port, 26379) << "sentinels default to their own port";
    EXPECT_EQ(o.sentinel_master, "mymaster");
    EXPECT_EQ(o.db, 3);
    EXPECT_EQ(o.password, "secret");
    EXPECT_EQ(o.sentinel_password, "s&p");
    EXPECT_EQ(o.sentinel_user, "watch");
    EXPECT_EQ(o.address(), "master 'mymaster' via sentinels s1:5000,s2:26379");
    EXPECT_NE(error_of("redis+sentinel://s1:5000").find("missing master name"), std::string::npos);
    EXPECT_NE(error_of("redis+sentinel://s1:5000/").find("missing master name"), std::string::npos);
    EXPECT_NE(error_of("redis+sentinel://s1:5000/a%20b").find("master name"), std::string::npos);
    EXPECT_NE(error_of("redis://h?sentinel_password=x").find("redis+sentinel"), std::string::npos);
    // The sentinel password is never quoted, even when malformed.
    const auto bad = error_of("redis+sentinel://s/m?sentinel_password=%zzhunter2");
    EXPECT_FALSE(bad.empty());
    EXPECT_EQ(bad.find("hunter2"), std::string::npos);
    EXPECT_NE(error_of("redis+sentinel://s/m?sentinel_password=a&sentinel_password=b").find("twice"),
              std::string::npos);
}

TEST(CommandUnits, TransactionsAreOneUnitRoutedByTheirKey) {
    redisrpc::detail::command_buffer b;
    b.add({"MULTI"});
    b.add({"RPUSH", "{calc}:rpc:1", "v"});
    b.add({"EXPIRE", "{calc}:rpc:1", "60"});
    b.add({"EXEC"});
    b.add({"SET", "hb", "1", "EX", "4"});
    b.add({"BLMPOP", "0.250", "2", "{calc}", "{calc}:x", "LEFT", "COUNT", "64"});
    b.add({"CLIENT", "ID"});
    const auto units = redisrpc::detail::split_units(b.bytes(), b.count());
    ASSERT_EQ(units.size(), 4u);
    EXPECT_EQ(units[0].commands, 4u);
    EXPECT_EQ(units[0].slot, key_slot("calc"));
    EXPECT_EQ(units[1].slot, key_slot("hb"));
    EXPECT_FALSE(units[1].blocking);
    EXPECT_EQ(units[2].slot, key_slot("calc"));
    EXPECT_TRUE(units[2].blocking);
    EXPECT_FALSE(units[3].slot.has_value());
    EXPECT_EQ(units.back().end, b.bytes().size());

    // A re-sent pop keeps its arguments but waits less.
    const std::string_view pop =
        std::string_view(b.bytes()).substr(units[2].begin, units[2].end - units[2].begin);
    const auto shorter = redisrpc::detail::with_block_timeout(pop, 1, 0.1);
    const auto argv = redisrpc::detail::parse_commands(shorter, 1).at(0);
    ASSERT_EQ(argv.size(), 8u);
    EXPECT_EQ(argv[1], "0.150");
    EXPECT_EQ(argv[3], "{calc}");
    const auto longest = redisrpc::detail::with_block_timeout(pop, 1, 5); // the views below point into it
    const auto floor = redisrpc::detail::parse_commands(longest, 1).at(0);
    EXPECT_EQ(floor[1], "0.001") << "never 0, which would block forever";
}

TEST(PopLanes, OneLanePerSlotInClusterModeOnly) {
    const std::vector<std::string> keys{"{a}:1", "b", "{a}:2", "c"};
    connection_options plain;
    EXPECT_EQ(redisrpc::detail::pop_lanes(plain, keys).size(), 1u);
    connection_options cluster;
    cluster.mode = connection_options::topology::cluster;
    const auto lanes = redisrpc::detail::pop_lanes(cluster, keys);
    std::set<std::uint16_t> slots;
    for (const auto& lane : lanes) {
        std::set<std::uint16_t> in_lane;
        for (const auto& k : lane)
            in_lane.insert(key_slot(k));
        EXPECT_EQ(in_lane.size(), 1u);
        slots.insert(*in_lane.begin());
    }
    EXPECT_EQ(slots.size(), lanes.size());
    EXPECT_EQ(lanes.front(), (std::vector<std::string>{"{a}:1", "{a}:2"}));
}

} // namespace
