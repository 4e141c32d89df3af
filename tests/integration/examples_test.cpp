// The calculator example as real processes: the client's sequence gives 4, and the server
// stops cleanly on SIGTERM and SIGINT.

#include "support/helpers.hpp"
#include "support/process.hpp"
#include "support/redis_server.hpp"

#include <gtest/gtest.h>

#include <csignal>

using namespace std::chrono_literals;
using redisrpc::test::child_process;
using redisrpc::test::shared_redis;
using redisrpc::test::unique_queue;

namespace {

const std::string bin_dir = REDISRPC_BINARY_DIR "/examples/calculator/";

class CalculatorExample : public ::testing::TestWithParam<int> {};

TEST_P(CalculatorExample, ClientSequenceAndCleanShutdownOnSignal) {
    const std::string url = shared_redis().url();
    const std::string queue = unique_queue("calc");
    child_process server({bin_dir + "calculator_server", "--url", url, "--queue", queue});
    child_process client({bin_dir + "calculator_client", "--url", url, "--queue", queue, "--timeout", "10"});
    const auto client_exit = client.wait_for(30s);
    ASSERT_TRUE(client_exit.has_value()) << "client hung: " << client.output();
    EXPECT_EQ(*client_exit, 0) << client.output();
    EXPECT_NE(client.output().find("div 2 -> 4"), std::string::npos) << client.output();
    EXPECT_NE(client.output().find("ok: val() == 4"), std::string::npos) << client.output();

    server.signal(GetParam());
    const auto server_exit = server.wait_for(5s);
    ASSERT_TRUE(server_exit.has_value()) << "server did not stop on signal " << GetParam();
    EXPECT_EQ(*server_exit, 0) << server.output();
    EXPECT_NE(server.output().find("server stopped"), std::string::npos) << server.output();
    EXPECT_TRUE(shared_redis().keys(queue + "*").empty());
}

INSTANTIATE_TEST_SUITE_P(Signals, CalculatorExample, ::testing::Values(SIGTERM, SIGINT));

TEST(CalculatorExampleErrors, ClientReportsAnUnreachableRedis) {
    child_process client({bin_dir + "calculator_client", "--url", "redis://127.0.0.1:1", "--timeout", "1"});
    const auto exit_code = client.wait_for(10s);
    ASSERT_TRUE(exit_code.has_value());
    EXPECT_EQ(*exit_code, 1);
    EXPECT_NE(client.output().find("127.0.0.1:1"), std::string::npos) << client.output();
}

TEST(CalculatorExampleErrors, ClientReportsATimeoutWhenNoServerRuns) {
    child_process client({bin_dir + "calculator_client", "--url", shared_redis().url(), "--queue",
                          unique_queue("calc"), "--timeout", "0.2"});
    const auto exit_code = client.wait_for(10s);
    ASSERT_TRUE(exit_code.has_value());
    EXPECT_EQ(*exit_code, 1);
    EXPECT_NE(client.output().find("timed out"), std::string::npos) << client.output();
}

} // namespace
