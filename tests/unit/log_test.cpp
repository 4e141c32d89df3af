// The logging hook: custom sinks, levels, and the rate limit that keeps floods out of the log.

#include <redisrpc/log.hpp>

#include "util/log.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <string>
#include <vector>

namespace {

struct captured {
    std::mutex m;
    std::vector<std::pair<redisrpc::log_level, std::string>> lines;
};

class LogTest : public ::testing::Test {
protected:
    void SetUp() override {
        redisrpc::set_log_sink([this](redisrpc::log_level l, std::string_view msg) {
            std::lock_guard lock(got.m);
            got.lines.emplace_back(l, std::string(msg));
        });
    }
    void TearDown() override {
        redisrpc::set_log_sink(nullptr);
        redisrpc::set_log_level(redisrpc::log_level::info);
    }
    captured got;
};

TEST_F(LogTest, SinkReceivesLinesAtOrAboveTheLevel) {
    redisrpc::set_log_level(redisrpc::log_level::warning);
    redisrpc::detail::log(redisrpc::log_level::info, "hidden");
    redisrpc::detail::log(redisrpc::log_level::error, "shown ", "in parts");
    ASSERT_EQ(got.lines.size(), 1u);
    EXPECT_EQ(got.lines[0].first, redisrpc::log_level::error);
    EXPECT_EQ(got.lines[0].second, "shown in parts");
    redisrpc::set_log_level(redisrpc::log_level::off);
    redisrpc::detail::log(redisrpc::log_level::error, "nothing");
    EXPECT_EQ(got.lines.size(), 1u);
}

TEST_F(LogTest, AThrowingSinkDoesNotPropagate) {
    redisrpc::set_log_sink([](redisrpc::log_level, std::string_view) { throw std::runtime_error("sink"); });
    EXPECT_NO_THROW(redisrpc::detail::log(redisrpc::log_level::error, "x"));
}

TEST_F(LogTest, AFloodIsRateLimitedAndTheSuppressedCountReported) {
    for (int i = 0; i < 5000; ++i) redisrpc::detail::log(redisrpc::log_level::warning, "bad message ", std::to_string(i));
    const std::size_t passed = got.lines.size();
    EXPECT_LT(passed, 1000u) << "a flood of 5000 lines must be cut down";
    EXPECT_GE(passed, 10u);
    // Once the bucket refills, the next line is preceded by the count of what was held back.
    std::this_thread::sleep_for(std::chrono::milliseconds(100)); // the limiter is time-based by design
    redisrpc::detail::log(redisrpc::log_level::warning, "after");
    ASSERT_GE(got.lines.size(), passed + 2);
    EXPECT_NE(got.lines[passed].second.find("log lines suppressed"), std::string::npos) << got.lines[passed].second;
    EXPECT_EQ(got.lines.back().second, "after");
}

} // namespace
