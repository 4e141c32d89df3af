// The classic codecs' fast paths (decode_canonical: no DOM) against their general paths: the fast
// path must take the messages our peers really send, and whatever it accepts must decode exactly
// as the general path decodes it. Everything it refuses still gets the general path's answer.

#include "protocol/body.hpp"
#include "protocol/classic.hpp"
#include "protocol/json_scanner.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using namespace std::string_literals;
using redisrpc::encoding;
using redisrpc::error_code;
using redisrpc::message_limits;
using redisrpc::protocol_error;
using redisrpc::detail::call_request;
using redisrpc::detail::classic_client_codec;
using redisrpc::detail::classic_server_codec;
using redisrpc::detail::json;
using redisrpc::detail::json_scanner;

namespace {

message_limits small_limits() {
    message_limits limits;
    limits.max_bytes = 4096;
    limits.max_depth = 5;
    return limits;
}

const classic_server_codec& server() {
    static const classic_server_codec codec("q", small_limits(), 60s);
    return codec;
}

const classic_client_codec& client() {
    static const classic_client_codec codec("q", small_limits());
    return codec;
}

// Requests as the Python, Ruby and PHP clients and ours write them.
const std::vector<std::string> canonical_requests = {
    R"({"function_call": {"name": "add", "args": [1, 2]}, "response_queue": "q:rpc:abc"})",
    R"({"function_call":{"name":"add","args":[5.0]},"response_queue":"q:rpc:abcdefgh12345678","id":"x1","deadline_ms":1790000000000})",
    R"({"function_call":{"args":[],"kwargs":{"a":[1,{"b":null}]},"name":"f"},"response_queue":"q:rpc:1"})",
    R"({"response_queue":"q:rpc:1","function_call":{"name":"f","args":null,"kwargs":null},"id":7,"deadline_ms":null})",
    R"( { "function_call" : { "name" : "f" } , "response_queue" : "q:rpc:z" , "id" : null } )",
    R"({"function_call":{"name":"héllo","args":["ü",true,false,null,-3,1e3,-0.5]},"response_queue":"q:rpc:1","id":-4})",
};

// Valid or not, these take the general path (escapes, unknown members, PHP args objects, wrong
// types, duplicates, limits, syntax errors).
const std::vector<std::string> general_only_requests = {
    R"({"function_call":{"name":"a\u0062"},"response_queue":"q:rpc:1"})",
    R"({"function_call":{"name":"f"},"response_queue":"q:rpc:1","extra":1})",
    R"({"function_call":{"name":"f","x":1},"response_queue":"q:rpc:1"})",
    R"({"function_call":{"name":"f","args":{"0":1,"b":2}},"response_queue":"q:rpc:1"})",
    R"({"function_call":{"name":"f","args":5},"response_queue":"q:rpc:1"})",
    R"({"function_call":{"name":"f","kwargs":[]},"response_queue":"q:rpc:1"})",
    R"({"function_call":{"name":""},"response_queue":"q:rpc:1"})",
    R"({"function_call":{"name":"f"},"response_queue":"elsewhere"})",
    R"({"function_call":{"name":"f"},"response_queue":"q"})",
    R"({"function_call":{"name":"f"},"response_queue":"q:rpc:1","response_queue":"q:rpc:2"})",
    R"({"function_call":{"name":"f","name":"g"},"response_queue":"q:rpc:1"})",
    R"({"function_call":{"name":"f"},"response_queue":"q:rpc:1","id":1.5})",
    R"({"function_call":{"name":"f"},"response_queue":"q:rpc:1","id":[1]})",
    R"({"function_call":{"name":"f"},"response_queue":"q:rpc:1","deadline_ms":1.5})",
    R"({"function_call":{"name":"f"},"response_queue":"q:rpc:1","deadline_ms":99999999999999999999})",
    R"({"function_call":{"name":"f","args":[[[[1]]]]},"response_queue":"q:rpc:1"})",
    R"({"function_call":{"name":"f"},"response_queue":"q:rpc:1"} x)",
    R"({"function_call":{"name":"f"},"response_queue":"q:rpc:1",})",
    R"({"function_call":{"name":"f"}"response_queue":"q:rpc:1"})",
    R"({"function_call":{"name":"f","args":[1,]},"response_queue":"q:rpc:1"})",
    R"({"function_call":{"name":"f","args":[01]},"response_queue":"q:rpc:1"})",
    R"({"function_call":{"name":"f","args":[NaN]},"response_queue":"q:rpc:1"})",
    R"({"function_call":{"name":"f\u0001"},"response_queue":"q:rpc:1"})",
    R"({"response_queue":"q:rpc:1"})",
    R"({"function_call":{"args":[]},"response_queue":"q:rpc:1"})",
    R"([1,2])",
    R"({})",
    "",
    "{\"function_call\":{\"name\":\"f\xff\"},\"response_queue\":\"q:rpc:1\"}",
    "{\"function_call\":{\"name\":\"f\"},\"response_queue\":\"q:rpc:1\"}\0"s,
    std::string(5000, ' ') + R"({"function_call":{"name":"f"},"response_queue":"q:rpc:1"})",
};

void expect_same_call(const call_request& a, const call_request& b) {
    EXPECT_EQ(a.method, b.method);
    EXPECT_EQ(a.args, b.args);
    EXPECT_EQ(a.kwargs, b.kwargs);
    EXPECT_EQ(a.id, b.id);
    EXPECT_EQ(a.id.type(), b.id.type());
    EXPECT_EQ(a.deadline_ms, b.deadline_ms);
}

} // namespace

TEST(CanonicalDecode, TakesTheRequestsPeersSendAndAgreesWithTheGeneralPath) {
    for (const auto& bytes : canonical_requests) {
        SCOPED_TRACE(bytes);
        const auto fast = server().decode_canonical(bytes);
        ASSERT_TRUE(fast.has_value());
        const auto general = server().decode_general(bytes);
        ASSERT_FALSE(general.rejected.has_value()) << general.problem;
        EXPECT_FALSE(fast->rejected.has_value());
        EXPECT_EQ(fast->reply_key, general.reply_key);
        EXPECT_EQ(fast->enc, encoding::json);
        ASSERT_EQ(fast->calls.size(), 1U);
        ASSERT_EQ(general.calls.size(), 1U);
        expect_same_call(fast->calls[0], general.calls[0]);
    }
}

TEST(CanonicalDecode, LeavesEverythingElseToTheGeneralPath) {
    for (const auto& bytes : general_only_requests) {
        SCOPED_TRACE(bytes);
        EXPECT_FALSE(server().decode_canonical(bytes).has_value());
    }
    // decode() still rejects the invalid ones with the general path's reasons.
    const auto dup = server().decode("q", general_only_requests[9]);
    ASSERT_TRUE(dup.rejected.has_value());
    EXPECT_NE(dup.problem.find("duplicate"), std::string::npos) << dup.problem;
    const auto bad_id = server().decode("q", general_only_requests[11]);
    ASSERT_TRUE(bad_id.rejected.has_value());
    EXPECT_EQ(bad_id.reply_key, "q:rpc:1");
    EXPECT_NE(bad_id.problem.find("id must be"), std::string::npos) << bad_id.problem;
    // And accepts the valid ones the fast path leaves alone.
    const auto php = server().decode("q", general_only_requests[3]);
    ASSERT_FALSE(php.rejected.has_value()) << php.problem;
    EXPECT_EQ(php.calls.at(0).args, json::array({1}));
    EXPECT_EQ(php.calls.at(0).kwargs, json({{"b", 2}}));
}

TEST(CanonicalDecode, TheRequestOurClientWritesTakesTheFastPath) {
    call_request call;
    call.method = "add";
    call.args = json::array({5.0, "x", json::object({{"k", nullptr}})});
    call.kwargs = json::object({{"scale", 2}});
    call.id = "abcdef0123456789";
    call.deadline_ms = 1790000000123;
    const auto request = client().encode(call, "q:rpc:reply-list", encoding::json);
    const auto fast = server().decode_canonical(request.payload);
    ASSERT_TRUE(fast.has_value()) << request.payload;
    ASSERT_EQ(fast->calls.size(), 1U);
    expect_same_call(fast->calls[0], call);
    EXPECT_EQ(fast->reply_key, "q:rpc:reply-list");
}

TEST(CanonicalDecode, RepliesTakeTheFastPathAndAgreeWithTheGeneralPath) {
    const std::vector<std::string> fast_replies = {
        R"({"return_value":6.0,"id":"abcdef0123456789"})",
        R"({"return_value":null})",
        R"({"return_value":{"a":[1,2]},"exception":null})",
        R"({"exception":"boom","id":7})",
        R"({"exception":"boom","return_value":1,"id":[1]})",
    };
    for (const auto& bytes : fast_replies) {
        SCOPED_TRACE(bytes);
        const auto fast = client().decode_canonical(bytes);
        ASSERT_TRUE(fast.has_value());
        const auto full = client().decode_general(bytes);
        EXPECT_EQ(fast->id, full.id);
        EXPECT_EQ(fast->outcome.ok, full.outcome.ok);
        EXPECT_EQ(fast->outcome.value, full.outcome.value);
        EXPECT_EQ(fast->outcome.code, full.outcome.code);
        EXPECT_EQ(fast->outcome.message, full.outcome.message);
    }
    const std::vector<std::string> general_replies = {
        R"({"exception":"no such method","error_code":"method_not_found"})",
        R"({"exception":"x","backtrace":["a"]})",
        R"({"return_value":NaN})",
        R"({"exception":{"text":1}})",
        R"({"return_value":1,"return_value":2})",
        R"({"id":"x"})",
        R"({"return_value":"a\"b"})",
    };
    for (const auto& bytes : general_replies) {
        SCOPED_TRACE(bytes);
        EXPECT_FALSE(client().decode_canonical(bytes).has_value());
    }
    EXPECT_EQ(client().decode(general_replies[0]).outcome.code, error_code::method_not_found);
    EXPECT_TRUE(std::isnan(client().decode(general_replies[2]).outcome.value.get<double>()));
    EXPECT_THROW((void)client().decode(general_replies[4]), protocol_error);
}

TEST(JsonScanner, MemberByMemberReadingChecksCommasAndEmptyObjects) {
    const auto keys_of = [](std::string_view text) {
        json_scanner in(text, 8);
        std::vector<std::string> keys;
        if (!in.open_object(1)) return std::vector<std::string>{"<no object>"};
        std::string_view key;
        bool ok = false;
        while (in.next_key(key, ok)) {
            keys.emplace_back(key);
            json value;
            if (!in.value(value, 1)) return std::vector<std::string>{"<bad value>"};
        }
        if (!ok || !in.at_end()) keys.emplace_back("<error>");
        return keys;
    };
    EXPECT_EQ(keys_of(R"({"a":1,"b":{}})"), (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(keys_of(R"({})"), (std::vector<std::string>{}));
    EXPECT_EQ(keys_of(R"({"a":{}"b":1})"), (std::vector<std::string>{"a", "<error>"}));
    EXPECT_EQ(keys_of(R"({,"a":1})"), (std::vector<std::string>{"<error>"}));
    EXPECT_EQ(keys_of(R"({"a":1,})"), (std::vector<std::string>{"a", "<error>"}));
    EXPECT_EQ(keys_of(R"({"a" 1})"), (std::vector<std::string>{"<error>"}));
    EXPECT_EQ(keys_of(R"({"a":1} x)"), (std::vector<std::string>{"a", "<error>"}));
}

// The string paths look at eight bytes at a time: every special byte must be caught at every
// position of a word, in strings long enough to take that path.
TEST(JsonScanner, SpecialBytesAreSeenAtEveryPositionOfLongStrings) {
    const std::string specials[] = {"\"", "\\\\", "\\n", "\x01", "\x1f", "\x7f", "\xc3\xa9", "\xff"};
    for (const auto& special : specials) {
        for (std::size_t pos = 0; pos < 20; ++pos) {
            std::string text = std::string(pos, 'a') + special + std::string(19 - pos, 'b');
            SCOPED_TRACE(::testing::PrintToString(text));
            // Writing: byte-identical to nlohmann's serializer (escapes, raw UTF-8, 0x7f as is).
            if (special == "\xff") {
                EXPECT_THROW((void)redisrpc::detail::encode_body(json(text), encoding::json), protocol_error);
            } else {
                EXPECT_EQ(redisrpc::detail::encode_body(json(text), encoding::json), json(text).dump());
            }
            // Scanning: the scanner takes a raw string only when the full parser would build the
            // same value, and gives up on escapes, control characters and invalid UTF-8.
            const std::string doc = "\"" + text + "\"";
            json scanned;
            const bool taken = json_scanner(doc, 4).document(scanned);
            const json parsed = json::parse(doc, nullptr, false);
            if (special == "\x7f" || special == "\xc3\xa9") {
                ASSERT_TRUE(taken);
                EXPECT_EQ(scanned, parsed);
            } else {
                EXPECT_FALSE(taken);
            }
        }
    }
}
