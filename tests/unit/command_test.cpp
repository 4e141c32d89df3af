// RESP encoding of commands (command_buffer) and the server's reply pipeline (reply_writer).

#include "redis/command.hpp"
#include "server/reply_writer.hpp"

#include <redisrpc/error.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace std::string_literals;
using redisrpc::detail::append_replies;
using redisrpc::detail::command_buffer;
using redisrpc::detail::outgoing_reply;

TEST(CommandBuffer, WritesRespArraysOfBulkStrings) {
    command_buffer cmds;
    cmds.add({"RPUSH", "q", "hello"});
    cmds.add({"PING"});
    EXPECT_EQ(cmds.bytes(), "*3\r\n$5\r\nRPUSH\r\n$1\r\nq\r\n$5\r\nhello\r\n*1\r\n$4\r\nPING\r\n");
    EXPECT_EQ(cmds.count(), 2U);
}

TEST(CommandBuffer, IsBinarySafeAndKeepsEmptyArguments) {
    command_buffer cmds;
    const std::string binary = "a\0b\r\n"s;
    const std::vector<std::string> argv{"SET", binary, ""};
    cmds.add(std::span<const std::string>(argv));
    EXPECT_EQ(cmds.bytes(), "*3\r\n$3\r\nSET\r\n$5\r\na\0b\r\n\r\n$0\r\n\r\n"s);
}

TEST(CommandBuffer, LongArgumentsAndManyArgumentsGetExactLengths) {
    command_buffer cmds;
    const std::string big(123456, 'x');
    std::vector<std::string_view> argv{"RPUSH", "k"};
    for (int i = 0; i < 20; ++i)
        argv.push_back(big);
    cmds.add(std::span<const std::string_view>(argv));
    const std::string& b = cmds.bytes();
    EXPECT_EQ(b.substr(0, 5), "*22\r\n");
    EXPECT_NE(b.find("$123456\r\n" + big + "\r\n"), std::string::npos);
    EXPECT_EQ(b.size(), 5 + (4 + 5 + 2) + (4 + 1 + 2) + 20 * (9 + 123456 + 2));
}

TEST(CommandBuffer, RefusesAnEmptyCommand) {
    command_buffer cmds;
    EXPECT_THROW(cmds.add(std::span<const std::string>()), redisrpc::usage_error);
    EXPECT_TRUE(cmds.empty());
}

TEST(ReplyWriter, ClassicRepliesArePushedPerKeyInCallOrderWithoutMulti) {
    const std::vector<outgoing_reply> replies{
        {"q:rpc:b", "1", std::chrono::seconds(60), false},
        {"q:rpc:a", "2", std::chrono::seconds(60), false},
        {"q:rpc:b", "3", std::chrono::seconds(90), false},
    };
    command_buffer cmds;
    EXPECT_EQ(append_replies(cmds, replies), 4U); // RPUSH + EXPIRE per key
    EXPECT_EQ(cmds.count(), 4U);
    const std::string& b = cmds.bytes();
    EXPECT_EQ(b.find("MULTI"), std::string::npos);
    EXPECT_NE(b.find("*4\r\n$5\r\nRPUSH\r\n$7\r\nq:rpc:b\r\n$1\r\n1\r\n$1\r\n3\r\n"), std::string::npos);
    EXPECT_NE(b.find("*3\r\n$6\r\nEXPIRE\r\n$7\r\nq:rpc:b\r\n$2\r\n90\r\n"),
              std::string::npos); // the longest TTL
    EXPECT_NE(b.find("*3\r\n$5\r\nRPUSH\r\n$7\r\nq:rpc:a\r\n$1\r\n2\r\n"), std::string::npos);
}

TEST(ReplyWriter, TransactionalRepliesKeepMultiExec) {
    const std::vector<outgoing_reply> replies{{"p:add:result:1", "r", std::chrono::seconds(120), true}};
    command_buffer cmds;
    EXPECT_EQ(append_replies(cmds, replies), 4U);
    EXPECT_EQ(cmds.bytes(),
              "*1\r\n$5\r\nMULTI\r\n*3\r\n$5\r\nRPUSH\r\n$14\r\np:add:result:1\r\n$1\r\nr\r\n"
              "*3\r\n$6\r\nEXPIRE\r\n$14\r\np:add:result:1\r\n$3\r\n120\r\n*1\r\n$4\r\nEXEC\r\n");
}
