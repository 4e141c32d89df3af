// Least-privilege Redis ACL users for the classic dialect (docs/security.md, "ACL users"):
// the server and client roles work with exactly the commands and keys listed there, and cannot
// do what they do not need.
//
// Service queue "calc". Roles (Redis 7 ACL syntax):
//   server  -@all +blmpop +blpop +rpush +expire +multi +exec +set +del +client|id
//           ~calc %W~calc:rpc:* %W~calc:server:*
//   client  -@all +rpush +blpop +blmpop +lrem +client|id                  %W~calc ~calc:rpc:*
// The server pops the queue (read+write), may only *write* reply lists (it cannot read
// anyone's replies) and its heartbeat key `calc:server:<id>:alive` (SET ... EX 4, DEL at stop). Clients may
// only *write* the queue: they cannot read other callers' requests, so they never learn other callers'
// (random, unguessable) reply list names.
//
// Per-client reply isolation by key pattern (alice only `calc:rpc:alice:*`) works at the Redis
// level, as the last tests show with hand-made requests; our client cannot use it yet, because
// it names its reply lists `<queue>:rpc:<random>` (see docs/security.md for the proposed
// client option).

#include "support/helpers.hpp"
#include "support/redis_server.hpp"

#include "redis/command.hpp"
#include "redis/connection.hpp"

#include <redisrpc/redisrpc.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using redisrpc::parse_url;
using steady = redisrpc::detail::clock;
using redisrpc::detail::command_buffer;
using redisrpc::detail::connection;
using redisrpc::detail::reply;
using redisrpc::test::redis_server;
using redisrpc::test::running_server;

namespace {

const std::vector<std::string> server_role{
    "-@all", "+blmpop", "+blpop",     "+rpush", "+expire",       "+multi",          "+exec",
    "+set",  "+del",    "+client|id", "~calc",  "%W~calc:rpc:*", "%W~calc:server:*"};
const std::vector<std::string> client_role{"-@all", "+rpush",     "+blpop",  "+blmpop",
                                           "+lrem", "+client|id", "%W~calc", "~calc:rpc:*"};

class Acl : public ::testing::Test {
protected:
    // The default user gets a password, so nobody works without an ACL user.
    redis_server redis{redis_server::config{
        .tcp = false,
        .unix_socket = true,
        .extra_args = {"--requirepass", "admin-pw"},
    }};

    std::string url_as(const std::string& user, const std::string& password) const {
        return redis.unix_url() + "?user=" + user + "&password=" + password;
    }

    // A connection as `user`; commands as vectors (ACL SETUSER takes any number of rules).
    static reply run(connection& conn, const std::vector<std::string>& argv) {
        command_buffer cmds;
        cmds.add(std::span<const std::string>(argv));
        return conn.pipeline(cmds, steady::now() + 5s).at(0);
    }

    void set_user(const std::string& name, const std::string& password,
                  const std::vector<std::string>& rules) {
        connection admin(parse_url(url_as("default", "admin-pw")));
        std::vector<std::string> argv{"ACL", "SETUSER", name, "reset", "on", ">" + password, "resetchannels"};
        argv.insert(argv.end(), rules.begin(), rules.end());
        const reply r = run(admin, argv);
        ASSERT_FALSE(r.is_error()) << r.str;
    }

    void SetUp() override {
        set_user("calc-server", "server-pw", server_role);
        set_user("calc-client", "client-pw", client_role);
    }

    std::unique_ptr<redisrpc::server> make_server() const {
        redisrpc::server_options o;
        o.poll_interval = 50ms;
        o.handle_signals = false;
        auto srv = std::make_unique<redisrpc::server>(url_as("calc-server", "server-pw"), "calc", o);
        srv->bind("add", [](double a, double b) { return a + b; });
        return srv;
    }

    redisrpc::client make_client(std::chrono::milliseconds timeout = 5s) const {
        redisrpc::client_options o;
        o.timeout = timeout;
        return redisrpc::client{url_as("calc-client", "client-pw"), "calc", o};
    }

    static bool noperm(const reply& r) { return r.is_error() && r.str.rfind("NOPERM", 0) == 0; }
};

TEST_F(Acl, CallsWorkUnderLeastPrivilegeUsers) {
    auto srv = make_server();
    running_server run(*srv);
    auto calc = make_client();
    EXPECT_EQ(calc.call<double>("add", 2, 3), 5.0);
    auto f = calc.async_call<double>("add", 4, 5);
    auto g = calc.async_call<double>("add", 1, 1);
    EXPECT_EQ(f.get(), 9.0);
    EXPECT_EQ(g.get(), 2.0);

    // The heartbeat went out with the first pop, under the server role; it is deleted at stop.
    connection admin(parse_url(url_as("default", "admin-pw")));
    const reply live = admin.execute({"KEYS", "calc:server:*"}, steady::now() + 5s);
    ASSERT_TRUE(live.is_array());
    EXPECT_EQ(live.elements.size(), 1u);
    if (!live.elements.empty()) {
        EXPECT_GT(admin.execute({"TTL", live.elements[0].str}, steady::now() + 5s).integer, 0);
    }
    run.stop();
    EXPECT_TRUE(admin.execute({"KEYS", "calc:server:*"}, steady::now() + 5s).elements.empty());
}

TEST_F(Acl, TimedOutCallIsWithdrawnUnderTheClientRole) {
    // No server runs: the request stays queued until the client withdraws it with LREM.
    auto calc = make_client(300ms);
    try {
        (void)calc.call<double>("add", 1, 2);
        FAIL() << "expected timeout_error";
    } catch (const redisrpc::timeout_error& e) {
        EXPECT_FALSE(e.outcome_unknown()) << e.what();
    }
    connection admin(parse_url(url_as("default", "admin-pw")));
    EXPECT_EQ(admin.execute({"LLEN", "calc"}, steady::now() + 5s).integer, 0);
}

TEST_F(Acl, ServerCannotReadRepliesNorTouchOtherKeys) {
    connection conn(parse_url(url_as("calc-server", "server-pw")));
    EXPECT_TRUE(noperm(conn.execute({"LRANGE", "calc:rpc:ABCDEFGH", "0", "-1"}, steady::now() + 5s)));
    EXPECT_TRUE(noperm(conn.execute({"LPOP", "calc:rpc:ABCDEFGH"}, steady::now() + 5s)));
    EXPECT_TRUE(noperm(conn.execute({"RPUSH", "other", "x"}, steady::now() + 5s)));
    EXPECT_TRUE(noperm(conn.execute({"KEYS", "*"}, steady::now() + 5s)));
    EXPECT_TRUE(noperm(conn.execute({"FLUSHALL"}, steady::now() + 5s)));
    EXPECT_TRUE(noperm(conn.execute({"EVAL", "return 1", "0"}, steady::now() + 5s)));
}

TEST_F(Acl, ClientCannotReadOtherCallersRequests) {
    connection conn(parse_url(url_as("calc-client", "client-pw")));
    // The queue holds other callers' requests, with their reply list names: write-only.
    EXPECT_TRUE(noperm(conn.execute({"LRANGE", "calc", "0", "-1"}, steady::now() + 5s)));
    EXPECT_TRUE(noperm(conn.execute({"LPOP", "calc"}, steady::now() + 5s)));
    EXPECT_TRUE(noperm(conn.execute({"DEL", "calc"}, steady::now() + 5s)));
    EXPECT_TRUE(noperm(conn.execute({"SCAN", "0"}, steady::now() + 5s)));
    EXPECT_TRUE(noperm(conn.execute({"MONITOR"}, steady::now() + 5s)));
    EXPECT_TRUE(noperm(conn.execute({"RPUSH", "other-service", "x"}, steady::now() + 5s)));
}

// ---- per-client reply isolation --------------------------------------------------------------

class AclPerClient : public Acl {
protected:
    void SetUp() override {
        Acl::SetUp();
        // Each caller may only use reply lists under its own prefix.
        set_user(
            "alice", "alice-pw",
            {"-@all", "+rpush", "+blpop", "+blmpop", "+lrem", "+client|id", "%W~calc", "~calc:rpc:alice:*"});
        set_user(
            "bob", "bob-pw",
            {"-@all", "+rpush", "+blpop", "+blmpop", "+lrem", "+client|id", "%W~calc", "~calc:rpc:bob:*"});
    }
};

TEST_F(AclPerClient, ReplyListsAreIsolatedByKeyPattern) {
    auto srv = make_server();
    running_server run(*srv);

    connection alice(parse_url(url_as("alice", "alice-pw")));
    connection bob(parse_url(url_as("bob", "bob-pw")));
    // A request naming alice's own reply list, as a client with a fixed per-client reply prefix
    // would send it (hand-made: our client cannot do this yet).
    const std::string request =
        R"({"function_call":{"name":"add","args":[20,22]},"response_queue":"calc:rpc:alice:R1"})";
    EXPECT_EQ(alice.execute({"RPUSH", "calc", request}, steady::now() + 5s).integer, 1);

    // The server (write-only on calc:rpc:*) answers; alice reads her reply; bob may not.
    const reply got = alice.execute({"BLPOP", "calc:rpc:alice:R1", "5"}, steady::now() + 7s);
    ASSERT_TRUE(got.is_array()) << got.str;
    EXPECT_EQ(got.elements.at(1).str, R"({"return_value":42.0})");

    EXPECT_TRUE(noperm(bob.execute({"BLPOP", "calc:rpc:alice:R1", "0.1"}, steady::now() + 5s)));
    EXPECT_TRUE(noperm(bob.execute({"BLMPOP", "0.1", "1", "calc:rpc:alice:R1", "LEFT"}, steady::now() + 5s)));
    EXPECT_TRUE(noperm(bob.execute({"LREM", "calc:rpc:alice:R1", "0", "x"}, steady::now() + 5s)));
    EXPECT_TRUE(noperm(bob.execute({"RPUSH", "calc:rpc:alice:R1", "forged"}, steady::now() + 5s)));
    // Bob's own prefix is his (BLPOP answers nil after its timeout instead of NOPERM).
    EXPECT_TRUE(bob.execute({"BLPOP", "calc:rpc:bob:R1", "0.01"}, steady::now() + 5s).is_nil());
}

TEST_F(AclPerClient, OurClientWithAPerClientReplyPrefixWorksUnderItsAcl) {
    auto srv = make_server();
    running_server run(*srv);
    // Without the option the client's reply lists are calc:rpc:<random>, outside alice's
    // pattern: waiting for the reply is refused.
    {
        redisrpc::client_options o;
        o.timeout = 2s;
        o.ids_echoed = false; // the sync path: one BLPOP per call
        redisrpc::client calc{url_as("alice", "alice-pw"), "calc", o};
        try {
            (void)calc.call<double>("add", 1, 2);
            FAIL() << "expected an error";
        } catch (const redisrpc::error& e) {
            EXPECT_NE(std::string(e.what()).find("NOPERM"), std::string::npos) << e.what();
        }
    }
    // With her own prefix, sync and async calls work under her ACL.
    redisrpc::client_options o;
    o.timeout = 5s;
    o.reply_prefix = "calc:rpc:alice:";
    redisrpc::client calc{url_as("alice", "alice-pw"), "calc", o};
    EXPECT_EQ(calc.call<double>("add", 1, 2), 3.0);
    EXPECT_EQ(calc.async_call<double>("add", 20, 22).get(), 42.0);
}

} // namespace
