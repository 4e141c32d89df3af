// detail::connection against real redis-servers (the shared one, or private ones when a test
// needs its own configuration or kills/pauses the server).

#include "redis/connection.hpp"
#include "support/redis_server.hpp"

#include <redisrpc/error.hpp>
#include <redisrpc/options.hpp>

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <thread>

namespace {

using namespace std::chrono_literals;
using redisrpc::connection_error;
using redisrpc::parse_url;
using redisrpc::timeout_error;
using redisrpc::detail::clock;
using redisrpc::detail::command_buffer;
using redisrpc::detail::connection;
using redisrpc::detail::reply;
using redisrpc::test::redis_server;
using redisrpc::test::shared_redis;

// Generous: the machine is shared, and nothing here should come near it.
constexpr auto io_limit = 10s;

clock::time_point soon() {
    return clock::now() + io_limit;
}

std::unique_ptr<connection> connect(const std::string& url) {
    return std::make_unique<connection>(parse_url(url));
}

// A key unique to the running test, so tests sharing one server never collide.
std::string test_key(std::string_view suffix) {
    const auto* info = testing::UnitTest::GetInstance()->current_test_info();
    return std::string("conn-test:") + info->test_suite_name() + "." + info->name() + ":" +
           std::string(suffix);
}

// The message of the connection_error thrown while connecting to url, or "" if none was.
std::string connect_error(const std::string& url) {
    try {
        connection c(parse_url(url));
    } catch (const connection_error& e) {
        return e.what();
    }
    return {};
}

std::string random_bytes(std::size_t n, std::uint32_t seed) {
    std::mt19937 gen(seed);
    std::uniform_int_distribution<int> byte(0, 255);
    std::string out(n, '\0');
    for (auto& c : out) {
        c = static_cast<char>(byte(gen));
    }
    return out;
}

// A one-connection TCP server that answers from a script: for each step it reads until the
// received bytes end with `expect`, then sends `chunks` with one send() each. For replies Redis
// would never send, and for replies split at awkward places.
class scripted_server {
public:
    struct step {
        std::string expect;
        std::vector<std::string> chunks;
    };

    /// linger: after the script, wait for the client to hang up (else close at once).
    explicit scripted_server(std::vector<step> script, bool linger = true) : linger_(linger) {
        listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof addr;
        if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
            ::listen(listener_, 1) != 0 ||
            ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
            throw std::system_error(errno, std::generic_category(), "scripted_server");
        }
        port_ = ntohs(addr.sin_port);
        thread_ = std::thread([this, script = std::move(script)] { serve(script); });
    }
    ~scripted_server() {
        thread_.join();
        ::close(listener_);
    }
    scripted_server(const scripted_server&) = delete;
    scripted_server& operator=(const scripted_server&) = delete;

    [[nodiscard]] std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_); }

private:
    static bool readable(int fd) {
        pollfd p{fd, POLLIN, 0};
        return ::poll(&p, 1, 10'000) == 1; // bounded, so a failing test cannot hang
    }

    void serve(const std::vector<step>& script) const {
        if (!readable(listener_)) {
            return;
        }
        const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) {
            return;
        }
        const int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        std::string received;
        char buf[4096];
        for (const auto& s : script) {
            while (!(received.size() >= s.expect.size() &&
                     received.compare(received.size() - s.expect.size(), s.expect.size(), s.expect) == 0)) {
                const ssize_t n = readable(fd) ? ::recv(fd, buf, sizeof buf, 0) : 0;
                if (n <= 0) {
                    ::close(fd);
                    return;
                }
                received.append(buf, static_cast<std::size_t>(n));
            }
            received.clear();
            for (const auto& chunk : s.chunks) {
                ::send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL);
            }
        }
        while (linger_ && readable(fd) && ::recv(fd, buf, sizeof buf, 0) > 0) {
        }
        ::close(fd);
    }

    bool linger_;
    int listener_ = -1;
    std::uint16_t port_ = 0;
    std::thread thread_;
};

const std::string handshake_end = "CLIENT\r\n$2\r\nID\r\n";

// ---- basics, over both transports ------------------------------------------------------------

TEST(ConnectionTest, PingOverUnixAndTcp) {
    auto& server = shared_redis();
    for (const auto& url : {server.unix_url(), server.tcp_url()}) {
        SCOPED_TRACE(url);
        const auto c = connect(url);
        const reply r = c->execute({"PING"}, soon());
        EXPECT_TRUE(r.is_status());
        EXPECT_EQ(r.str, "PONG");
        EXPECT_FALSE(c->broken());
        EXPECT_GT(c->client_id(), 0);
    }
}

TEST(ConnectionTest, AddressNamesTheEndpoint) {
    auto& server = shared_redis();
    EXPECT_EQ(connect(server.tcp_url())->address(), "127.0.0.1:" + std::to_string(server.port()));
    EXPECT_EQ(connect(server.unix_url())->address(), "unix:" + server.socket_path());
}

TEST(ConnectionTest, ClientIdIsTheServersId) {
    const auto c = connect(shared_redis().url());
    const reply r = c->execute({"CLIENT", "ID"}, soon());
    ASSERT_TRUE(r.is_integer());
    EXPECT_EQ(r.integer, c->client_id());
}

TEST(ConnectionTest, ClientNameFromUrl) {
    const auto c = connect(shared_redis().url() + "?name=conn-test-client");
    const reply r = c->execute({"CLIENT", "GETNAME"}, soon());
    EXPECT_EQ(r.str, "conn-test-client");
}

TEST(ConnectionTest, Ipv6Loopback) {
    auto& server = shared_redis();
    std::unique_ptr<connection> c;
    try {
        c = connect("redis://[::1]:" + std::to_string(server.port()));
    } catch (const connection_error& e) {
        GTEST_SKIP() << "no IPv6 loopback here: " << e.what();
    }
    EXPECT_EQ(c->address(), "[::1]:" + std::to_string(server.port()));
    const reply info = c->execute({"INFO", "server"}, soon());
    EXPECT_NE(info.str.find("process_id:" + std::to_string(server.pid()) + "\r\n"), std::string::npos);
}

// ---- pipelining and replies ------------------------------------------------------------------

TEST(ConnectionTest, PipelineOfThousandCommandsKeepsOrder) {
    const auto c = connect(shared_redis().url());
    const std::string counter = test_key("counter");
    c->execute({"DEL", counter}, soon());
    command_buffer commands;
    for (int i = 0; i < 1000; ++i) {
        commands.add({"ECHO", "value-" + std::to_string(i)});
        commands.add({"INCR", counter});
    }
    ASSERT_EQ(commands.count(), 2000u);
    const auto replies = c->pipeline(commands, soon());
    ASSERT_EQ(replies.size(), 2000u);
    for (int i = 0; i < 1000; ++i) {
        const auto& echo = replies[static_cast<std::size_t>(2 * i)];
        const auto& incr = replies[static_cast<std::size_t>(2 * i + 1)];
        ASSERT_TRUE(echo.is_string());
        ASSERT_EQ(echo.str, "value-" + std::to_string(i));
        ASSERT_TRUE(incr.is_integer());
        ASSERT_EQ(incr.integer, i + 1);
    }
    c->execute({"DEL", counter}, soon());
}

TEST(ConnectionTest, EmptyPipelineDoesNothing) {
    const auto c = connect(shared_redis().url());
    EXPECT_TRUE(c->pipeline(command_buffer{}, soon()).empty());
    EXPECT_EQ(c->execute({"PING"}, soon()).str, "PONG");
}

TEST(ConnectionTest, WriteAndReadSeparately) {
    const auto c = connect(shared_redis().url());
    command_buffer commands;
    commands.add({"ECHO", "a"});
    commands.add({"ECHO", "b"});
    commands.add({"ECHO", "c"});
    c->write(commands, soon());
    EXPECT_EQ(c->read(soon()).str, "a");
    EXPECT_EQ(c->read(soon()).str, "b");
    EXPECT_EQ(c->read(soon()).str, "c");
}

TEST(ConnectionTest, ReplyTypes) {
    const auto c = connect(shared_redis().url());
    const std::string list = test_key("list");
    const std::string missing = test_key("missing");
    const std::string empty = test_key("empty");
    command_buffer commands;
    commands.add({"DEL", list, missing});
    commands.add({"RPUSH", list, "x", "y"});
    commands.add({"LRANGE", list, "0", "-1"});
    commands.add({"GET", missing});
    commands.add({"SET", empty, ""});
    commands.add({"GET", empty});
    commands.add({"EVAL", "return {1, {'two', 3}, false, {}}", "0"});
    commands.add({"DEL", list, empty});
    const auto r = c->pipeline(commands, soon());
    ASSERT_EQ(r.size(), 8u);
    EXPECT_TRUE(r[1].is_integer());
    EXPECT_EQ(r[1].integer, 2);
    ASSERT_TRUE(r[2].is_array());
    ASSERT_EQ(r[2].elements.size(), 2u);
    EXPECT_EQ(r[2].elements[1].str, "y");
    EXPECT_TRUE(r[3].is_nil());
    EXPECT_TRUE(r[4].is_status());
    EXPECT_EQ(r[4].str, "OK");
    EXPECT_TRUE(r[5].is_string()); // an empty string is not nil
    EXPECT_EQ(r[5].str, "");
    ASSERT_TRUE(r[6].is_array());
    ASSERT_EQ(r[6].elements.size(), 4u);
    EXPECT_EQ(r[6].elements[0].integer, 1);
    ASSERT_TRUE(r[6].elements[1].is_array());
    EXPECT_EQ(r[6].elements[1].elements[0].str, "two");
    EXPECT_EQ(r[6].elements[1].elements[1].integer, 3);
    EXPECT_TRUE(r[6].elements[2].is_nil()); // Lua false
    EXPECT_TRUE(r[6].elements[3].is_array());
    EXPECT_TRUE(r[6].elements[3].elements.empty());
}

TEST(ConnectionTest, ErrorRepliesAreReturnedNotThrown) {
    const auto c = connect(shared_redis().url());
    const std::string k = test_key("string");
    command_buffer commands;
    commands.add({"SET", k, "v"});
    commands.add({"NO-SUCH-COMMAND", "x"});
    commands.add({"LPUSH", k, "x"}); // WRONGTYPE
    commands.add({"GET", k});
    commands.add({"DEL", k});
    const auto r = c->pipeline(commands, soon());
    ASSERT_EQ(r.size(), 5u);
    EXPECT_TRUE(r[1].is_error());
    EXPECT_EQ(r[1].str.rfind("ERR unknown command", 0), 0u) << r[1].str;
    EXPECT_TRUE(r[2].is_error());
    EXPECT_EQ(r[2].str.rfind("WRONGTYPE", 0), 0u) << r[2].str;
    EXPECT_EQ(r[3].str, "v");
    EXPECT_FALSE(c->broken());
    EXPECT_TRUE(c->execute({"NO-SUCH-COMMAND"}, soon()).is_error());
    EXPECT_EQ(c->execute({"PING"}, soon()).str, "PONG");
}

TEST(ConnectionTest, BinarySafeValues) {
    const auto c = connect(shared_redis().url());
    const std::string k = test_key(std::string("key\0with\r\nNUL", 14));
    const std::string value("\0a\r\n$5\r\n*-1\r\n+OK\0\xff", 19);
    EXPECT_EQ(c->execute({"SET", k, value}, soon()).str, "OK");
    const reply r = c->execute({"GET", k}, soon());
    ASSERT_TRUE(r.is_string());
    EXPECT_EQ(r.str, value);
    EXPECT_EQ(c->execute({"DEL", k}, soon()).integer, 1);
}

TEST(ConnectionTest, OneMebibyteValues) {
    // Larger than socket buffers and the read chunk: partial writes, many reads, and several
    // big replies in one pipeline.
    const auto c = connect(shared_redis().url());
    const std::string k = test_key("big");
    const std::string value = random_bytes(1024 * 1024, 42);
    EXPECT_EQ(c->execute({"SET", k, value}, soon()).str, "OK");
    command_buffer commands;
    commands.add({"GET", k});
    commands.add({"STRLEN", k});
    commands.add({"GET", k});
    const auto r = c->pipeline(commands, soon());
    ASSERT_EQ(r.size(), 3u);
    EXPECT_TRUE(r[0].str == value);
    EXPECT_EQ(r[1].integer, 1024 * 1024);
    EXPECT_TRUE(r[2].str == value);
    c->execute({"DEL", k}, soon());
}

// ---- deadlines -------------------------------------------------------------------------------

TEST(ConnectionTest, BlockingPopWithinDeadlineReturnsNil) {
    const auto c = connect(shared_redis().url());
    const reply r = c->execute({"BLPOP", test_key("empty-queue"), "0.1"}, clock::now() + 5s);
    EXPECT_TRUE(r.is_nil());
    EXPECT_FALSE(c->broken());
    EXPECT_EQ(c->execute({"PING"}, soon()).str, "PONG");
}

TEST(ConnectionTest, DeadlineShorterThanBlockingPopTimesOut) {
    const auto c = connect(shared_redis().url());
    const auto start = clock::now();
    try {
        c->execute({"BLPOP", test_key("empty-queue"), "10"}, start + 100ms);
        FAIL() << "expected timeout_error";
    } catch (const timeout_error& e) {
        EXPECT_TRUE(e.outcome_unknown());
        EXPECT_NE(std::string(e.what()).find(c->address()), std::string::npos) << e.what();
    }
    const auto elapsed = clock::now() - start;
    EXPECT_GE(elapsed, 100ms);
    EXPECT_LT(elapsed, 3s);
    EXPECT_TRUE(c->broken());
    try {
        c->execute({"PING"}, soon());
        FAIL() << "a broken connection must not be used";
    } catch (const connection_error& e) {
        EXPECT_NE(std::string(e.what()).find("broken"), std::string::npos) << e.what();
    }
}

// ---- the RESP stream, with a scripted peer -----------------------------------------------------

TEST(ConnectionTest, RepliesSplitAcrossReads) {
    scripted_server peer({{handshake_end, {":", "7\r", "\n"}},
                          {"PING\r\n", {"+PO", "NG\r\n$5\r\nhel", "lo\r\n*2\r\n:1", "\r\n$-1\r\n"}}});
    const auto c = connect(peer.url());
    EXPECT_EQ(c->client_id(), 7);
    command_buffer commands;
    commands.add({"PING"});
    commands.add({"ECHO", "hello"});
    commands.add({"PING"});
    const auto r = c->pipeline(commands, soon());
    ASSERT_EQ(r.size(), 3u);
    EXPECT_EQ(r[0].str, "PONG");
    EXPECT_EQ(r[1].str, "hello");
    ASSERT_TRUE(r[2].is_array());
    EXPECT_EQ(r[2].elements[0].integer, 1);
    EXPECT_TRUE(r[2].elements[1].is_nil());
}

TEST(ConnectionTest, NestedArraysAreBuiltInPlace) {
    scripted_server peer({{handshake_end, {":7\r\n"}},
                          {"PING\r\n", {"*3\r\n*2\r\n:1\r\n*1\r\n$3\r\nabc\r\n*0\r\n-ERR x\r\n"}}});
    const auto c = connect(peer.url());
    const auto r = c->execute({"PING"}, soon());
    ASSERT_TRUE(r.is_array());
    ASSERT_EQ(r.elements.size(), 3u);
    ASSERT_EQ(r.elements[0].elements.size(), 2u);
    EXPECT_EQ(r.elements[0].elements[0].integer, 1);
    ASSERT_EQ(r.elements[0].elements[1].elements.size(), 1u);
    EXPECT_EQ(r.elements[0].elements[1].elements[0].str, "abc");
    EXPECT_TRUE(r.elements[1].is_array());
    EXPECT_TRUE(r.elements[1].elements.empty());
    EXPECT_TRUE(r.elements[2].is_error());
    EXPECT_EQ(r.elements[2].str, "ERR x");
}

// An array header claiming more elements than any of our commands gets (here 2^20 + 1) ends the
// connection at once instead of allocating for them and waiting for the rest.
TEST(ConnectionTest, AbsurdArrayLengthIsAProtocolError) {
    for (const char* header : {"*1048577\r\n:1\r\n", "*2000000000\r\n:1\r\n"}) {
        scripted_server peer({{handshake_end, {":7\r\n"}}, {"PING\r\n", {header}}});
        const auto c = connect(peer.url());
        try {
            c->execute({"PING"}, soon());
            FAIL() << "expected connection_error";
        } catch (const connection_error& e) {
            EXPECT_NE(std::string(e.what()).find("protocol error"), std::string::npos) << e.what();
        }
        EXPECT_TRUE(c->broken());
    }
}

TEST(ConnectionTest, ProtocolErrorBreaksTheConnection) {
    scripted_server peer({{handshake_end, {":7\r\n"}}, {"PING\r\n", {"?not resp\r\n"}}});
    const auto c = connect(peer.url());
    try {
        c->execute({"PING"}, soon());
        FAIL() << "expected connection_error";
    } catch (const connection_error& e) {
        EXPECT_NE(std::string(e.what()).find("protocol error from redis at " + c->address()),
                  std::string::npos)
            << e.what();
    }
    EXPECT_TRUE(c->broken());
}

TEST(ConnectionTest, PeerClosingDuringHandshake) {
    const scripted_server peer({{handshake_end, {}}}, false); // reads the handshake, hangs up
    const std::string msg = connect_error(peer.url());
    EXPECT_NE(msg.find("connection closed by the server"), std::string::npos) << msg;
}

// ---- connect failures ------------------------------------------------------------------------

TEST(ConnectionTest, RefusedConnectionNamesTheAddress) {
    // Nothing listens on port 1 (binding it needs privileges).
    EXPECT_EQ(connect_error("redis://127.0.0.1:1"),
              "cannot connect to redis at 127.0.0.1:1: Connection refused");
}

TEST(ConnectionTest, MissingUnixSocketNamesThePath) {
    const std::string msg = connect_error("unix:///nonexistent-redisrpc-dir/redis.sock");
    EXPECT_NE(msg.find("cannot connect to redis at unix:/nonexistent-redisrpc-dir/redis.sock"),
              std::string::npos)
        << msg;
    EXPECT_NE(msg.find("No such file"), std::string::npos) << msg;
}

TEST(ConnectionTest, TlsIsNotSupportedYet) {
    const std::string msg = connect_error("rediss://127.0.0.1:" + std::to_string(shared_redis().port()));
    EXPECT_NE(msg.find("TLS"), std::string::npos) << msg;
}

TEST(ConnectionTest, SelectsTheDatabaseFromTheUrl) {
    auto& server = shared_redis();
    const std::string k = test_key("in-db-3");
    const auto db3 = connect(server.tcp_url() + "/3");
    const auto db0 = connect(server.tcp_url());
    db3->execute({"SET", k, "three"}, soon());
    EXPECT_TRUE(db0->execute({"GET", k}, soon()).is_nil());
    EXPECT_EQ(db3->execute({"GET", k}, soon()).str, "three");
    EXPECT_NE(db3->execute({"CLIENT", "INFO"}, soon()).str.find(" db=3 "), std::string::npos);
    // Also through the query string of a unix URL.
    const auto unix_db3 = connect(server.unix_url() + "?db=3");
    EXPECT_EQ(unix_db3->execute({"GET", k}, soon()).str, "three");
    db3->execute({"DEL", k}, soon());
}

TEST(ConnectionTest, OutOfRangeDatabaseIsAConnectError) {
    const std::string msg = connect_error(shared_redis().tcp_url() + "/12345");
    EXPECT_NE(msg.find("127.0.0.1:" + std::to_string(shared_redis().port())), std::string::npos) << msg;
    EXPECT_NE(msg.find("SELECT 12345"), std::string::npos) << msg;
    EXPECT_NE(msg.find("out of range"), std::string::npos) << msg;
}

TEST(ConnectionTest, PasswordForAServerWithoutOneIsRefusedWithoutEchoingIt) {
    const std::string msg =
        connect_error("redis://:NotConfiguredPw1@127.0.0.1:" + std::to_string(shared_redis().port()));
    EXPECT_NE(msg.find("refused AUTH"), std::string::npos) << msg;
    EXPECT_EQ(msg.find("NotConfiguredPw1"), std::string::npos) << msg;
}

// ---- authentication (private servers) --------------------------------------------------------

class ConnectionAuthTest : public testing::Test {
protected:
    // Characters that need percent-encoding in a URL, to test decoding end to end.
    static constexpr const char* password = "s3cr3t p@ss:w/rd%";
    static constexpr const char* encoded = "s3cr3t%20p%40ss%3Aw%2Frd%25";

    static void SetUpTestSuite() {
        server_ = new redis_server(redis_server::config{.extra_args = {"--requirepass", password}});
    }
    static void TearDownTestSuite() {
        delete server_;
        server_ = nullptr;
    }
    static std::string tcp_base() { return "127.0.0.1:" + std::to_string(server_->port()); }

    static inline redis_server* server_ = nullptr;
};

TEST_F(ConnectionAuthTest, RightPasswordIsAccepted) {
    for (const auto& url : {"redis://:" + std::string(encoded) + "@" + tcp_base(),
                            "unix://:" + std::string(encoded) + "@" + server_->socket_path()}) {
        SCOPED_TRACE(url);
        const auto c = connect(url);
        EXPECT_EQ(c->execute({"PING"}, soon()).str, "PONG");
        EXPECT_EQ(c->execute({"ACL", "WHOAMI"}, soon()).str, "default");
        EXPECT_GT(c->client_id(), 0);
    }
}

TEST_F(ConnectionAuthTest, WrongPasswordIsRefusedWithoutEchoingIt) {
    const std::string msg = connect_error("redis://:Wr0ngPassw0rd@" + tcp_base());
    EXPECT_NE(msg.find("redis at " + tcp_base() + " refused AUTH"), std::string::npos) << msg;
    EXPECT_NE(msg.find("WRONGPASS"), std::string::npos) << msg;
    EXPECT_EQ(msg.find("Wr0ngPassw0rd"), std::string::npos) << msg;
}

TEST_F(ConnectionAuthTest, WithoutPasswordCommandsGetNoauthReplies) {
    const auto c = connect("redis://" + tcp_base());
    EXPECT_EQ(c->client_id(), 0); // CLIENT ID was refused too
    const reply r = c->execute({"PING"}, soon());
    EXPECT_TRUE(r.is_error());
    EXPECT_EQ(r.str.rfind("NOAUTH", 0), 0u) << r.str;
}

class ConnectionAclTest : public testing::Test {
protected:
    static void SetUpTestSuite() {
        server_ = new redis_server();
        const auto admin = connect(server_->url());
        for (auto* r : {"alice on >alice-Pw1 ~* &* +@all", "bob on nopass ~* &* +@all",
                        "carol on >carol-Pw1 resetkeys ~carol:* +ping +get +set"}) {
            command_buffer setuser;
            std::vector<std::string> argv{"ACL", "SETUSER"};
            for (std::string_view rest = r; !rest.empty();) {
                const auto space = rest.find(' ');
                argv.emplace_back(rest.substr(0, space));
                rest = space == std::string_view::npos ? std::string_view{} : rest.substr(space + 1);
            }
            setuser.add(std::span<const std::string>(argv));
            const auto replies = admin->pipeline(setuser, soon());
            ASSERT_EQ(replies.at(0).str, "OK") << r;
        }
    }
    static void TearDownTestSuite() {
        delete server_;
        server_ = nullptr;
    }
    static std::string tcp_base() { return "127.0.0.1:" + std::to_string(server_->port()); }

    static inline redis_server* server_ = nullptr;
};

TEST_F(ConnectionAclTest, UserWithRightPassword) {
    const auto c = connect("redis://alice:alice-Pw1@" + tcp_base());
    EXPECT_EQ(c->execute({"ACL", "WHOAMI"}, soon()).str, "alice");
    EXPECT_GT(c->client_id(), 0);
}

TEST_F(ConnectionAclTest, UserWithWrongPassword) {
    const std::string msg = connect_error("redis://alice:Bad-Alice-Pw@" + tcp_base());
    EXPECT_NE(msg.find("refused AUTH as user 'alice'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("WRONGPASS"), std::string::npos) << msg;
    EXPECT_EQ(msg.find("Bad-Alice-Pw"), std::string::npos) << msg;
}

TEST_F(ConnectionAclTest, UnknownUser) {
    const std::string msg = connect_error("redis://mallory:whatever-pw@" + tcp_base());
    EXPECT_NE(msg.find("WRONGPASS"), std::string::npos) << msg;
    EXPECT_EQ(msg.find("whatever-pw"), std::string::npos) << msg;
}

TEST_F(ConnectionAclTest, NopassUserNeedsNoPassword) {
    const auto c = connect("unix://bob@" + server_->socket_path());
    EXPECT_EQ(c->execute({"ACL", "WHOAMI"}, soon()).str, "bob");
}

TEST_F(ConnectionAclTest, UserDeniedClientIdStillConnects) {
    const auto c = connect("redis://carol:carol-Pw1@" + tcp_base());
    EXPECT_EQ(c->client_id(), 0);
    EXPECT_EQ(c->execute({"SET", "carol:x", "1"}, soon()).str, "OK");
    EXPECT_TRUE(c->execute({"SET", "other:x", "1"}, soon()).is_error()); // NOPERM
}

// ---- server failures (private servers) -------------------------------------------------------

TEST(ConnectionServerFailureTest, KilledServerGivesConnectionError) {
    redis_server server;
    for (const auto& url : {server.unix_url(), server.tcp_url()}) {
        SCOPED_TRACE(url);
        server.restart();
        const auto c = connect(url);
        EXPECT_EQ(c->execute({"PING"}, soon()).str, "PONG");
        server.kill();
        EXPECT_THROW(c->execute({"PING"}, soon()), connection_error);
        EXPECT_TRUE(c->broken());
        EXPECT_NE(connect_error(url).find("cannot connect to redis at " + c->address()), std::string::npos);
    }
    server.restart();
    EXPECT_EQ(connect(server.tcp_url())->execute({"PING"}, soon()).str, "PONG");
}

TEST(ConnectionServerFailureTest, PausedServerTimesOut) {
    redis_server server;
    const auto c = connect(server.url());
    server.pause();
    const auto start = clock::now();
    EXPECT_THROW(c->execute({"PING"}, start + 150ms), timeout_error);
    EXPECT_LT(clock::now() - start, 3s);
    EXPECT_TRUE(c->broken());

    // The kernel still accepts the connection; the handshake is what goes unanswered.
    auto options = parse_url(server.tcp_url());
    options.command_timeout = 150ms;
    try {
        connection never(options);
        FAIL() << "expected connection_error";
    } catch (const connection_error& e) {
        EXPECT_NE(std::string(e.what()).find("did not answer the handshake"), std::string::npos) << e.what();
    }
    server.resume();
    EXPECT_EQ(connect(server.url())->execute({"PING"}, soon()).str, "PONG");
}

// ---- the fixture itself ----------------------------------------------------------------------

std::size_t open_fds() {
    return static_cast<std::size_t>(std::distance(std::filesystem::directory_iterator("/proc/self/fd"),
                                                  std::filesystem::directory_iterator{}));
}

TEST(ConnectionFixtureTest, LeavesNoDescriptorsZombiesOrFiles) {
    (void)shared_redis(); // started once per binary: not part of the balance
    const std::size_t fds_before = open_fds();
    pid_t pid = 0;
    std::filesystem::path socket;
    {
        redis_server server;
        pid = server.pid();
        socket = server.socket_path();
        const auto c = connect(server.url());
        EXPECT_EQ(c->execute({"PING"}, soon()).str, "PONG");
        server.restart();
        EXPECT_NE(server.pid(), pid);
        pid = server.pid();
    }
    EXPECT_EQ(open_fds(), fds_before);
    EXPECT_EQ(::waitpid(pid, nullptr, WNOHANG), -1); // already reaped...
    EXPECT_EQ(errno, ECHILD);
    EXPECT_NE(::kill(pid, 0), 0); // ...and gone
    EXPECT_FALSE(std::filesystem::exists(socket.parent_path()));
}

TEST(ConnectionFixtureTest, KeysAndFlushall) {
    redis_server server(redis_server::config{.tcp = false, .extra_args = {}});
    EXPECT_EQ(server.port(), 0);
    EXPECT_EQ(server.url(), server.unix_url());
    const auto c = connect(server.url());
    c->execute({"SET", "b", "1"}, soon());
    c->execute({"SET", "a", "1"}, soon());
    c->execute({"SET", "x:1", "1"}, soon());
    EXPECT_EQ(server.keys(), (std::vector<std::string>{"a", "b", "x:1"}));
    EXPECT_EQ(server.keys("x:*"), (std::vector<std::string>{"x:1"}));
    server.flushall();
    EXPECT_TRUE(server.keys().empty());
}

TEST(ConnectionFixtureTest, TcpOnlyServerWithPassword) {
    redis_server server(redis_server::config{.unix_socket = false, .extra_args = {"--requirepass", "pw"}});
    EXPECT_TRUE(server.socket_path().empty());
    EXPECT_EQ(server.url(), server.tcp_url());
    EXPECT_THROW((void)server.unix_url(), std::logic_error);
    EXPECT_EQ(connect("redis://:pw@127.0.0.1:" + std::to_string(server.port()))
                  ->execute({"SET", "k", "v"}, soon())
                  .str,
              "OK");
    EXPECT_EQ(server.keys(), std::vector<std::string>{"k"}); // the helpers know the password
}

} // namespace
