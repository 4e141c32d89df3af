// JSON-RPC 2.0 over lists: the specification's examples (run through a real dispatcher), the
// reply-address prefix, our client side, and hostile input.

#include "protocol/body.hpp"
#include "protocol/jsonrpc.hpp"
#include "server/execute.hpp"

#include <redisrpc/dispatcher.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <optional>
#include <random>
#include <string>

using namespace std::string_literals;
using namespace std::chrono_literals;
using redisrpc::encoding;
using redisrpc::error_code;
using redisrpc::message_limits;
using redisrpc::protocol_error;
using redisrpc::usage_error;
using redisrpc::detail::call_counters;
using redisrpc::detail::call_outcome;
using redisrpc::detail::call_request;
using redisrpc::detail::decoded_job;
using redisrpc::detail::encode_body;
using redisrpc::detail::error_code_from_jsonrpc;
using redisrpc::detail::json;
using redisrpc::detail::jsonrpc_client_codec;
using redisrpc::detail::jsonrpc_error_code;
using redisrpc::detail::jsonrpc_server_codec;
using redisrpc::detail::reply_policy;

namespace {

const std::string rq = "q:rpc:ABCDEFGH"; // a reply list inside the default namespace
const std::string pre = rq + "\n";

const jsonrpc_server_codec& server() {
    static const jsonrpc_server_codec codec("q", message_limits{}, 60s);
    return codec;
}

// The methods of the specification's examples.
const redisrpc::dispatcher& methods() {
    static const redisrpc::dispatcher d = [] {
        redisrpc::dispatcher m;
        m.bind("subtract", [](int minuend, int subtrahend) { return minuend - subtrahend; }, {"minuend", "subtrahend"});
        m.bind("sum", [](int a, int b, int c) { return a + b + c; });
        m.bind("update", [](int, int, int, int, int) {});
        m.bind("notify_hello", [](int) {});
        m.bind("notify_sum", [](int, int, int) {});
        m.bind("get_data", [] { return json::array({"hello", 5}); });
        m.bind("rpc.secret", [] { return "must never run"; }); // reserved: never dispatched
        return m;
    }();
    return d;
}

decoded_job decode(std::string_view bytes) { return server().decode("q", bytes); }

// What server::process does: decode, run the calls, encode. The reply payload, if any.
std::optional<std::string> serve(std::string_view message, const jsonrpc_server_codec& codec = server()) {
    const decoded_job job = codec.decode("q", message);
    std::vector<call_outcome> outcomes;
    if (job.rejected || (job.calls.empty() && !job.problem.empty())) {
        if (!job.rejected || job.reply_key.empty()) return std::nullopt;
        outcomes.push_back(*job.rejected);
    } else {
        call_counters counters;
        redisrpc::detail::method_stats per_method(methods().names());
        for (const auto& call : job.calls) outcomes.push_back(execute_call(methods(), call, counters, per_method));
    }
    const auto replies = codec.encode(job, outcomes);
    EXPECT_LE(replies.size(), 1U);
    if (replies.empty()) return std::nullopt;
    EXPECT_EQ(replies[0].key, job.reply_key);
    EXPECT_EQ(replies[0].ttl, 60s);
    return replies[0].payload;
}

json serve_json(std::string_view message) {
    const auto payload = serve(message);
    EXPECT_TRUE(payload.has_value()) << message;
    return payload ? json::parse(*payload) : json();
}

void expect_error(const json& response, int code, const json& id, std::string_view message_part = "") {
    ASSERT_TRUE(response.is_object()) << response.dump();
    EXPECT_EQ(response.size(), 3U) << response.dump();
    EXPECT_EQ(response["jsonrpc"], "2.0");
    EXPECT_EQ(response["id"], id) << response.dump();
    ASSERT_TRUE(response.contains("error")) << response.dump();
    EXPECT_EQ(response["error"]["code"], code) << response.dump();
    EXPECT_TRUE(response["error"]["message"].is_string());
    EXPECT_NE(response["error"]["message"].get<std::string>().find(message_part), std::string::npos)
        << response.dump();
}

} // namespace

// =============================================================================================
// The specification's examples (jsonrpc.org/specification, section 7), with our prefix

TEST(JsonRpcSpecExamples, PositionalParameters) {
    EXPECT_EQ(serve(pre + R"({"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": 1})"),
              R"({"jsonrpc":"2.0","result":19,"id":1})");
    EXPECT_EQ(serve(pre + R"({"jsonrpc": "2.0", "method": "subtract", "params": [23, 42], "id": 2})"),
              R"({"jsonrpc":"2.0","result":-19,"id":2})");
}

TEST(JsonRpcSpecExamples, NamedParameters) {
    EXPECT_EQ(serve(pre + R"({"jsonrpc": "2.0", "method": "subtract", "params": {"subtrahend": 23, "minuend": 42}, "id": 3})"),
              R"({"jsonrpc":"2.0","result":19,"id":3})");
    EXPECT_EQ(serve(pre + R"({"jsonrpc": "2.0", "method": "subtract", "params": {"minuend": 42, "subtrahend": 23}, "id": 4})"),
              R"({"jsonrpc":"2.0","result":19,"id":4})");
}

TEST(JsonRpcSpecExamples, Notifications) {
    const auto job = decode(pre + R"({"jsonrpc": "2.0", "method": "update", "params": [1,2,3,4,5]})");
    ASSERT_EQ(job.calls.size(), 1U);
    EXPECT_FALSE(job.calls[0].wants_reply); // still run
    EXPECT_FALSE(serve(pre + R"({"jsonrpc": "2.0", "method": "update", "params": [1,2,3,4,5]})").has_value());
    EXPECT_FALSE(serve(pre + R"({"jsonrpc": "2.0", "method": "foobar"})").has_value()); // errors too
}

TEST(JsonRpcSpecExamples, NonExistentMethod) {
    EXPECT_EQ(serve(pre + R"({"jsonrpc": "2.0", "method": "foobar", "id": "1"})"),
              R"({"jsonrpc":"2.0","error":{"code":-32601,"message":"unknown method 'foobar'"},"id":"1"})");
}

TEST(JsonRpcSpecExamples, InvalidJson) {
    expect_error(serve_json(pre + R"({"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz])"), -32700, nullptr,
                 "invalid JSON");
}

TEST(JsonRpcSpecExamples, InvalidRequestObject) {
    EXPECT_EQ(serve(pre + R"({"jsonrpc": "2.0", "method": 1, "params": "bar"})"),
              R"({"jsonrpc":"2.0","error":{"code":-32600,"message":"method is not a string but number"},"id":null})");
}

TEST(JsonRpcSpecExamples, BatchWithInvalidJson) {
    const json r = serve_json(pre + R"([
  {"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},
  {"jsonrpc": "2.0", "method"
])");
    expect_error(r, -32700, nullptr, "invalid JSON"); // a single response, not an array
}

TEST(JsonRpcSpecExamples, EmptyArray) {
    EXPECT_EQ(serve(pre + "[]"), R"({"jsonrpc":"2.0","error":{"code":-32600,"message":"empty batch"},"id":null})");
}

TEST(JsonRpcSpecExamples, InvalidBatchButNotEmpty) {
    EXPECT_EQ(serve(pre + "[1]"),
              R"([{"jsonrpc":"2.0","error":{"code":-32600,"message":"request is not an object but number"},"id":null}])");
}

TEST(JsonRpcSpecExamples, InvalidBatch) {
    const json r = serve_json(pre + "[1,2,3]");
    ASSERT_TRUE(r.is_array());
    ASSERT_EQ(r.size(), 3U);
    for (const auto& e : r) expect_error(e, -32600, nullptr, "not an object");
}

TEST(JsonRpcSpecExamples, MixedBatch) {
    const json r = serve_json(pre + R"([
        {"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},
        {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]},
        {"jsonrpc": "2.0", "method": "subtract", "params": [42,23], "id": "2"},
        {"foo": "boo"},
        {"jsonrpc": "2.0", "method": "foo.get", "params": {"name": "myself"}, "id": "5"},
        {"jsonrpc": "2.0", "method": "get_data", "id": "9"}
    ])");
    ASSERT_TRUE(r.is_array());
    ASSERT_EQ(r.size(), 5U) << r.dump();
    EXPECT_EQ(r[0], json::parse(R"({"jsonrpc": "2.0", "result": 7, "id": "1"})"));
    EXPECT_EQ(r[1], json::parse(R"({"jsonrpc": "2.0", "result": 19, "id": "2"})"));
    expect_error(r[2], -32600, nullptr, "jsonrpc is missing");
    expect_error(r[3], -32601, "5", "foo.get");
    EXPECT_EQ(r[4], json::parse(R"({"jsonrpc": "2.0", "result": ["hello", 5], "id": "9"})"));
}

TEST(JsonRpcSpecExamples, AllNotificationBatch) {
    const std::string message = pre + R"([
        {"jsonrpc": "2.0", "method": "notify_sum", "params": [1,2,4]},
        {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]}
    ])";
    const auto job = decode(message);
    EXPECT_TRUE(job.batch);
    EXPECT_EQ(job.calls.size(), 2U); // both run
    EXPECT_FALSE(serve(message).has_value());
}

// =============================================================================================
// Request rules

TEST(JsonRpcServerDecode, IdsEchoedExactly) {
    EXPECT_EQ(serve(pre + R"({"jsonrpc":"2.0","method":"get_data","id":9007199254740993})"),
              R"({"jsonrpc":"2.0","result":["hello",5],"id":9007199254740993})");
    EXPECT_EQ(serve(pre + R"({"jsonrpc":"2.0","method":"get_data","id":-7})"),
              R"({"jsonrpc":"2.0","result":["hello",5],"id":-7})");
    EXPECT_EQ(serve(pre + R"({"jsonrpc":"2.0","method":"get_data","id":18446744073709551615})"),
              R"({"jsonrpc":"2.0","result":["hello",5],"id":18446744073709551615})");
    EXPECT_EQ(serve(pre + R"({"jsonrpc":"2.0","method":"get_data","id":1.5})"),
              R"({"jsonrpc":"2.0","result":["hello",5],"id":1.5})");
    EXPECT_EQ(serve(pre + R"({"jsonrpc":"2.0","method":"get_data","id":"caf\u00e9"})"),
              "{\"jsonrpc\":\"2.0\",\"result\":[\"hello\",5],\"id\":\"caf\xc3\xa9\"}");
    // id null is a request (answered), not a notification.
    EXPECT_EQ(serve(pre + R"({"jsonrpc":"2.0","method":"get_data","id":null})"),
              R"({"jsonrpc":"2.0","result":["hello",5],"id":null})");
}

TEST(JsonRpcServerDecode, InvalidRequestsAlwaysAnswered) {
    struct test_case {
        const char* request;
        const char* reason;
        json id;
    };
    const test_case cases[] = {
        {R"({"method":"sum","id":1})", "jsonrpc is missing", 1},
        {R"({"jsonrpc":"1.0","method":"sum","id":1})", "jsonrpc must be \"2.0\"", 1},
        {R"({"jsonrpc":2.0,"method":"sum","id":1})", "jsonrpc must be \"2.0\"", 1},
        {R"({"jsonrpc":"2.0 ","method":"sum","id":1})", "jsonrpc must be \"2.0\"", 1},
        {R"({"jsonrpc":"2.0","id":"a"})", "method is missing", "a"},
        {R"({"jsonrpc":"2.0","method":null,"id":"a"})", "method is not a string", "a"},
        {R"({"jsonrpc":"2.0","method":"sum","params":5,"id":1})", "params must be an array or an object, got number", 1},
        {R"({"jsonrpc":"2.0","method":"sum","params":null,"id":1})", "params must be an array or an object, got null", 1},
        {R"({"jsonrpc":"2.0","method":"sum","params":"1,2"})", "params must be", nullptr}, // no id: still answered
        {R"({"jsonrpc":"2.0","method":"sum","id":[1]})", "id must be a string, a number or null", nullptr},
        {R"({"jsonrpc":"2.0","method":"sum","id":{}})", "id must be", nullptr},
        {R"({"jsonrpc":"2.0","method":"sum","id":true})", "id must be", nullptr},
        {R"({"jsonrpc":"2.0","method":"sum","id":2,"deadline_ms":"soon"})", "deadline_ms must be", 2},
        {R"("sum")", "request is not an object but string", nullptr},
        {R"(null)", "request is not an object but null", nullptr},
    };
    for (const auto& c : cases) {
        const auto job = decode(pre + c.request);
        ASSERT_TRUE(job.rejected.has_value()) << c.request;
        EXPECT_EQ(job.reply_key, rq);
        EXPECT_NE(job.problem.find(c.reason), std::string::npos) << job.problem;
        expect_error(serve_json(pre + c.request), -32600, c.id, c.reason);
    }
}

TEST(JsonRpcServerDecode, ParamsByPositionAndByName) {
    const auto pos = decode(pre + R"({"jsonrpc":"2.0","method":"f","params":[1,{"a":2}],"id":1})");
    ASSERT_EQ(pos.calls.size(), 1U);
    EXPECT_EQ(pos.calls[0].args, json::parse(R"([1,{"a":2}])"));
    EXPECT_TRUE(pos.calls[0].kwargs.empty());
    const auto named = decode(pre + R"({"jsonrpc":"2.0","method":"f","params":{"0":1,"b":2},"id":1})");
    ASSERT_EQ(named.calls.size(), 1U);
    EXPECT_TRUE(named.calls[0].args.empty());
    EXPECT_EQ(named.calls[0].kwargs, (json{{"0", 1}, {"b", 2}})); // standard: names stay names
    const auto none = decode(pre + R"({"jsonrpc":"2.0","method":"f","id":1})");
    ASSERT_EQ(none.calls.size(), 1U);
    EXPECT_TRUE(none.calls[0].args.empty());
    EXPECT_TRUE(none.calls[0].kwargs.empty());
    expect_error(serve_json(pre + R"({"jsonrpc":"2.0","method":"subtract","params":{"minuend":1},"id":1})"), -32602, 1,
                 "subtract");
    expect_error(serve_json(pre + R"({"jsonrpc":"2.0","method":"subtract","params":["a",1],"id":1})"), -32602, 1,
                 "subtract: argument 1");
}

TEST(JsonRpcServerDecode, ExtensionsAndUnknownMembers) {
    const auto job = decode(pre + R"({"jsonrpc":"2.0","method":"f","id":1,"deadline_ms":1700000000123,"x":[1]})");
    ASSERT_EQ(job.calls.size(), 1U) << job.problem;
    EXPECT_EQ(job.calls[0].deadline_ms, 1700000000123LL);
    // A passed deadline: -32001, not run.
    expect_error(serve_json(pre + R"({"jsonrpc":"2.0","method":"get_data","id":1,"deadline_ms":1})"), -32001, 1,
                 "deadline passed");
}

TEST(JsonRpcServerDecode, ReservedRpcNamesNeverDispatched) {
    EXPECT_EQ(serve(pre + R"({"jsonrpc":"2.0","method":"rpc.secret","id":1})"),
              R"x({"jsonrpc":"2.0","error":{"code":-32601,"message":"method \"rpc.secret\" is reserved (rpc. prefix)"},"id":1})x");
    // As a notification: not run, not answered.
    const auto note = decode(pre + R"({"jsonrpc":"2.0","method":"rpc.secret"})");
    EXPECT_TRUE(note.calls.empty());
    EXPECT_FALSE(note.rejected.has_value());
    EXPECT_NE(note.problem.find("reserved"), std::string::npos);
    EXPECT_FALSE(serve(pre + R"({"jsonrpc":"2.0","method":"rpc.secret"})").has_value());
    // In a batch: an error in place; a notification is skipped.
    const json r = serve_json(pre + R"([{"jsonrpc":"2.0","method":"rpc.secret"},
        {"jsonrpc":"2.0","method":"rpc.secret","id":"a"},{"jsonrpc":"2.0","method":"get_data","id":"b"}])");
    ASSERT_EQ(r.size(), 2U) << r.dump();
    expect_error(r[0], -32601, "a", "reserved");
    EXPECT_EQ(r[1]["id"], "b");
    // "rpc" alone or "rpcx" are ordinary names.
    expect_error(serve_json(pre + R"({"jsonrpc":"2.0","method":"rpcx","id":1})"), -32601, 1, "unknown method");
}

TEST(JsonRpcServerDecode, BatchOrderAndLimits) {
    // Errors are interleaved at their positions; notifications leave no gap.
    const json r = serve_json(pre + R"([{"x":1},{"jsonrpc":"2.0","method":"get_data","id":1},
        {"jsonrpc":"2.0","method":"notify_hello","params":[1]},{"y":2},{"jsonrpc":"2.0","method":"get_data","id":2},
        3])");
    ASSERT_EQ(r.size(), 5U) << r.dump();
    expect_error(r[0], -32600, nullptr);
    EXPECT_EQ(r[1]["id"], 1);
    expect_error(r[2], -32600, nullptr);
    EXPECT_EQ(r[3]["id"], 2);
    expect_error(r[4], -32600, nullptr);

    std::string big = "[";
    for (int i = 0; i < 1001; ++i) big += (i ? "," : "") + std::string("1");
    big += "]";
    expect_error(serve_json(pre + big), -32600, nullptr, "exceeds the limit of 1000");
    const jsonrpc_server_codec small("q", {}, 60s, {}, 2);
    const auto job = small.decode("q", pre + "[1,2,3]");
    ASSERT_TRUE(job.rejected.has_value());
    EXPECT_FALSE(job.batch);
}

TEST(JsonRpcServerDecode, HostileBodiesAnsweredWithParseError) {
    expect_error(serve_json(pre + "hello"), -32700, nullptr, "unknown encoding");
    expect_error(serve_json(pre + "\x80\x04\x95\x1e\x00\x00\x00\x00\x00\x00\x00}\x94("s), -32700, nullptr,
                 "pickle is not accepted");
    expect_error(serve_json(pre + std::string(100000, '[') + std::string(100000, ']')), -32700, nullptr,
                 "nesting deeper than 64");
    expect_error(serve_json(pre + R"({"jsonrpc":"2.0","method":"f"})" + std::string(2 * 1024 * 1024, ' ')), -32700,
                 nullptr, "message too large");
    expect_error(serve_json(pre), -32700, nullptr, "empty message");
    expect_error(serve_json(pre + R"({"jsonrpc":"2.0","method":"a","method":"b","id":1})"), -32700, nullptr,
                 "duplicate key");
    expect_error(serve_json(pre + "{\"jsonrpc\":\"2.0\",\"method\":\"a\xff\",\"id\":1}"), -32700, nullptr, "UTF-8");
}

// =============================================================================================
// The reply-address prefix

TEST(JsonRpcReplyAddress, WithoutPrefixExecutedButNotAnswered) {
    for (const std::string& message : {R"({"jsonrpc":"2.0","method":"get_data","id":1})"s,
                                       " \n{\"jsonrpc\":\"2.0\",\"method\":\"get_data\",\"id\":1}"s,
                                       "\n{\"jsonrpc\":\"2.0\",\"method\":\"get_data\",\"id\":1}"s,
                                       R"([{"jsonrpc":"2.0","method":"get_data","id":1}])"s}) {
        const auto job = decode(message);
        EXPECT_EQ(job.calls.size(), 1U) << message;
        EXPECT_TRUE(job.reply_key.empty());
        EXPECT_NE(job.problem.find("no reply address"), std::string::npos) << job.problem;
        EXPECT_FALSE(serve(message).has_value());
    }
    // Unparseable and unprefixed: dropped with the reason.
    const auto bad = decode("{oops");
    ASSERT_TRUE(bad.rejected.has_value());
    EXPECT_TRUE(bad.reply_key.empty());
    EXPECT_NE(bad.problem.find("invalid JSON"), std::string::npos);
    // No newline at all: the whole message is the body.
    const auto plain = decode("hello");
    ASSERT_TRUE(plain.rejected.has_value());
    EXPECT_NE(plain.problem.find("unknown encoding"), std::string::npos) << plain.problem;
}

TEST(JsonRpcReplyAddress, PolicyRefusesForeignListsAndRunsNothing) {
    for (const std::string& name : {"other:rpc:X"s, "q"s, "q:rpc:"s, "q:rpcX"s, "session:1"s, "q:rpc:a\rb"s,
                                    "q:rpc:\x1b[2J"s, "q:rpc:\xff"s, "q:rpc:" + std::string(600, 'x')}) {
        const std::string message = name + "\n" + R"({"jsonrpc":"2.0","method":"get_data","id":1})";
        const auto job = decode(message);
        EXPECT_TRUE(job.calls.empty()) << name;
        ASSERT_TRUE(job.rejected.has_value()) << name;
        EXPECT_TRUE(job.reply_key.empty()) << name;
        EXPECT_LT(job.problem.size(), 500U);
        for (const char c : job.problem) EXPECT_GE(static_cast<unsigned char>(c), 0x20) << job.problem;
        EXPECT_TRUE(server().encode(job, {}).empty());
    }
    const auto job = decode("other:rpc:X\n{}");
    EXPECT_NE(job.problem.find("must start with \"q:rpc:\""), std::string::npos) << job.problem;
}

TEST(JsonRpcReplyAddress, AllowAnyAndCustomPrefix) {
    const jsonrpc_server_codec any("q", {}, 60s, reply_policy{.allow_any = true, .prefix = {}});
    EXPECT_EQ(serve("replies/42\n{\"jsonrpc\":\"2.0\",\"method\":\"get_data\",\"id\":1}", any),
              R"({"jsonrpc":"2.0","result":["hello",5],"id":1})");
    EXPECT_TRUE(any.decode("q", "q\n{\"jsonrpc\":\"2.0\",\"method\":\"get_data\",\"id\":1}").reply_key.empty());
    const jsonrpc_server_codec custom("q", {}, 60s, reply_policy{.allow_any = false, .prefix = "replies:"});
    EXPECT_EQ(custom.decode("q", "replies:7\n[]").reply_key, "replies:7");
    EXPECT_TRUE(custom.decode("q", pre + "[]").reply_key.empty());
}

TEST(JsonRpcReplyAddress, MsgpackBodyAnsweredInKind) {
    const json req = {{"jsonrpc", "2.0"}, {"method", "subtract"}, {"params", {42, 23}}, {"id", 1}};
    const auto payload = serve(pre + encode_body(req, encoding::msgpack));
    ASSERT_TRUE(payload.has_value());
    EXPECT_EQ(static_cast<unsigned char>((*payload)[0]), 0x83);
    EXPECT_EQ(json::from_msgpack(*payload), json::parse(R"({"jsonrpc":"2.0","result":19,"id":1})"));
    // A MessagePack batch: a MessagePack array back.
    const json batch = json::array({req, {{"jsonrpc", "2.0"}, {"method", "nope"}, {"id", "x"}}, 5});
    const auto answer = serve(pre + encode_body(batch, encoding::msgpack));
    ASSERT_TRUE(answer.has_value());
    EXPECT_EQ(static_cast<unsigned char>((*answer)[0]), 0x93);
    const json back = json::from_msgpack(*answer);
    ASSERT_EQ(back.size(), 3U);
    EXPECT_EQ(back[0]["result"], 19);
    expect_error(back[1], -32601, "x");
    expect_error(back[2], -32600, nullptr);
    // Unprefixed MessagePack: run, not answered.
    EXPECT_TRUE(decode(encode_body(req, encoding::msgpack)).reply_key.empty());
}

TEST(JsonRpcServerEncode, ErrorDataAndUnencodableResults) {
    const auto job = decode(pre + R"({"jsonrpc":"2.0","method":"f","id":7})");
    auto one = [&](const call_outcome& o) { return server().encode(job, std::span<const call_outcome>(&o, 1)).at(0).payload; };
    EXPECT_EQ(one(call_outcome::failure(error_code::handler_error, "std::domain_error: division by zero", {{"x", 1}})),
              R"({"jsonrpc":"2.0","error":{"code":-32000,"message":"std::domain_error: division by zero","data":{"x":1}},"id":7})");
    EXPECT_EQ(one(call_outcome::failure(error_code::internal_error, "")),
              R"({"jsonrpc":"2.0","error":{"code":-32603,"message":"Internal error"},"id":7})");
    const json bad = json::parse(one(call_outcome::success(json::array({"bad\xff"}))));
    expect_error(bad, -32603, 7, "result could not be encoded");
    EXPECT_EQ(json::parse(one(call_outcome::failure(error_code::handler_error, "x\xff")))["error"]["message"], "x\\xff");
    // Fewer outcomes than calls (a server bug) still answers every id.
    const auto b = decode(pre + R"([{"jsonrpc":"2.0","method":"f","id":1},{"jsonrpc":"2.0","method":"f","id":2}])");
    const call_outcome only = call_outcome::success(1);
    const json arr = json::parse(server().encode(b, std::span<const call_outcome>(&only, 1)).at(0).payload);
    ASSERT_EQ(arr.size(), 2U);
    expect_error(arr[1], -32603, 2);
}

TEST(JsonRpcErrorCodes, Mapping) {
    EXPECT_EQ(jsonrpc_error_code(error_code::parse_error), -32700);
    EXPECT_EQ(jsonrpc_error_code(error_code::invalid_request), -32600);
    EXPECT_EQ(jsonrpc_error_code(error_code::method_not_found), -32601);
    EXPECT_EQ(jsonrpc_error_code(error_code::invalid_params), -32602);
    EXPECT_EQ(jsonrpc_error_code(error_code::internal_error), -32603);
    EXPECT_EQ(jsonrpc_error_code(error_code::handler_error), -32000);
    EXPECT_EQ(jsonrpc_error_code(error_code::expired), -32001);
    for (const auto code : {error_code::parse_error, error_code::invalid_request, error_code::method_not_found,
                            error_code::invalid_params, error_code::internal_error, error_code::handler_error,
                            error_code::expired}) {
        EXPECT_EQ(error_code_from_jsonrpc(jsonrpc_error_code(code)), code);
    }
    EXPECT_EQ(error_code_from_jsonrpc(-32099), error_code::handler_error);
    EXPECT_EQ(error_code_from_jsonrpc(42), error_code::handler_error);
}

TEST(JsonRpcServerDecode, SurvivesRandomAndMutatedInput) {
    std::mt19937 rng(777); // fixed seed: reproducible
    const std::string body = R"([{"jsonrpc":"2.0","method":"sum","params":[1,2,{"b":[1.5,"x"]}],"id":"a"},)"
                             R"({"jsonrpc":"2.0","method":"n","params":{"k":null}},{"jsonrpc":"2.0","method":"s","id":3}])";
    const std::string valid = pre + body;
    const std::string packed = pre + encode_body(json::parse(body), encoding::msgpack);
    std::size_t calls = 0;
    for (int round = 0; round < 20000; ++round) {
        std::string bytes = (round % 2 == 0) ? valid : packed;
        const int edits = 1 + static_cast<int>(rng() % 4);
        for (int e = 0; e < edits; ++e) {
            const std::size_t pos = rng() % bytes.size();
            switch (rng() % 3) {
            case 0: bytes[pos] = static_cast<char>(rng() & 0xFF); break;
            case 1: bytes.erase(pos, 1 + rng() % 8); break;
            default: bytes.insert(pos, 1, static_cast<char>(rng() & 0xFF)); break;
            }
            if (bytes.empty()) bytes = "[";
        }
        decoded_job job;
        ASSERT_NO_THROW(job = decode(bytes));
        if (!job.reply_key.empty()) {
            ASSERT_EQ(job.reply_key.rfind("q:rpc:", 0), 0U);
            ASSERT_EQ(job.reply_key.find('\n'), std::string::npos);
        }
        if (job.rejected) {
            ASSERT_FALSE(job.problem.empty());
        }
        std::vector<call_outcome> outcomes(job.calls.size(), call_outcome::success(1));
        if (job.calls.empty() && job.rejected) outcomes.push_back(*job.rejected);
        std::vector<redisrpc::detail::outgoing_reply> replies;
        ASSERT_NO_THROW(replies = server().encode(job, outcomes));
        for (const auto& r : replies) {
            // Every answer is well-formed in the request's encoding.
            const json parsed = job.enc == encoding::msgpack ? json::from_msgpack(r.payload) : json::parse(r.payload);
            ASSERT_TRUE(parsed.is_object() || parsed.is_array());
        }
        calls += job.calls.size();
    }
    EXPECT_GT(calls, 0U);
}

// =============================================================================================
// Client

TEST(JsonRpcClientEncode, ExactBytes) {
    const jsonrpc_client_codec codec("q");
    call_request call;
    call.method = "subtract";
    call.args = json::array({42, 23});
    call.id = "c1";
    auto req = codec.encode(call, rq, encoding::json);
    EXPECT_EQ(req.queue, "q");
    EXPECT_EQ(req.reply_key, rq);
    EXPECT_FALSE(req.queue_ttl.has_value());
    EXPECT_EQ(req.payload, pre + R"({"jsonrpc":"2.0","method":"subtract","params":[42,23],"id":"c1"})");

    call.args = json::array();
    call.kwargs = {{"minuend", 42}, {"subtrahend", 23}};
    call.deadline_ms = 1700000000000;
    EXPECT_EQ(codec.encode(call, rq, encoding::json).payload,
              pre + R"({"jsonrpc":"2.0","method":"subtract","params":{"minuend":42,"subtrahend":23},"id":"c1",)"
                    R"("deadline_ms":1700000000000})");

    call_request bare;
    bare.method = "get_data"; // id null: still a request
    EXPECT_EQ(codec.encode(bare, rq, encoding::json).payload, pre + R"({"jsonrpc":"2.0","method":"get_data","id":null})");
    bare.wants_reply = false; // a notification: no id at all
    EXPECT_EQ(codec.encode(bare, rq, encoding::json).payload, pre + R"({"jsonrpc":"2.0","method":"get_data"})");
}

TEST(JsonRpcClientEncode, UsageErrors) {
    const jsonrpc_client_codec codec("q");
    call_request call;
    call.method = "f";
    call.args = json::array({1});
    call.kwargs = {{"b", 2}};
    EXPECT_THROW((void)codec.encode(call, rq, encoding::json), usage_error); // both kinds of params
    call.kwargs = json::object();
    for (const std::string& key : {""s, "{x"s, "[x"s, " x"s, "a\nb"s, std::string(513, 'a')}) {
        EXPECT_THROW((void)codec.encode(call, key, encoding::json), usage_error) << key;
    }
    call.method = "";
    EXPECT_THROW((void)codec.encode(call, rq, encoding::json), usage_error);
    call.method = "f\xff";
    EXPECT_THROW((void)codec.encode(call, rq, encoding::json), protocol_error);
}

TEST(JsonRpcClientEncode, RoundTripThroughServerInBothEncodings) {
    const jsonrpc_client_codec codec("q");
    call_request call;
    call.method = "div";
    call.args = json::array({1.5, -0.0, 9007199254740993LL, "\xf0\x9f\x98\x80", json::array({nullptr, true})});
    call.id = "abc";
    call.deadline_ms = 42;
    for (const auto enc : {encoding::json, encoding::msgpack}) {
        const auto req = codec.encode(call, rq, enc);
        const auto job = server().decode(req.queue, req.payload);
        ASSERT_EQ(job.calls.size(), 1U) << job.problem;
        EXPECT_TRUE(job.problem.empty()) << job.problem;
        EXPECT_EQ(job.enc, enc);
        EXPECT_EQ(job.reply_key, rq);
        EXPECT_EQ(job.calls[0].args, call.args);
        EXPECT_EQ(job.calls[0].id, "abc");
        EXPECT_EQ(job.calls[0].deadline_ms, 42);
        const call_outcome o = call_outcome::failure(error_code::invalid_params, "div: argument 1", {1});
        const auto back = codec.decode(server().encode(job, std::span<const call_outcome>(&o, 1)).at(0).payload);
        EXPECT_EQ(back.id, "abc");
        EXPECT_FALSE(back.outcome.ok);
        EXPECT_EQ(back.outcome.code, error_code::invalid_params);
        EXPECT_EQ(back.outcome.message, "div: argument 1");
        EXPECT_EQ(back.outcome.data, json::array({1}));
    }
}

TEST(JsonRpcClientDecode, Responses) {
    const jsonrpc_client_codec codec("q");
    const auto ok = codec.decode(R"({"jsonrpc": "2.0", "result": 19, "id": 1})");
    EXPECT_TRUE(ok.outcome.ok);
    EXPECT_EQ(ok.outcome.value, 19);
    EXPECT_EQ(ok.id, 1);
    EXPECT_TRUE(codec.decode(R"({"jsonrpc":"2.0","result":null,"id":"x"})").outcome.ok);
    const auto err = codec.decode(R"({"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found"}, "id": "1"})");
    EXPECT_FALSE(err.outcome.ok);
    EXPECT_EQ(err.outcome.code, error_code::method_not_found);
    EXPECT_EQ(err.outcome.message, "Method not found");
    EXPECT_TRUE(err.outcome.data.is_null());
    EXPECT_EQ(err.id, "1");
    const auto app = codec.decode(R"({"jsonrpc":"2.0","error":{"code":1234,"message":"nope","data":[1,"x"]},"id":null})");
    EXPECT_EQ(app.outcome.code, error_code::handler_error);
    EXPECT_EQ(app.outcome.data, json::parse(R"([1,"x"])"));
    EXPECT_EQ(codec.decode(R"({"jsonrpc":"2.0","error":{"code":-32099,"message":"x"},"id":1})").outcome.code,
              error_code::handler_error);
    EXPECT_EQ(codec.decode(R"({"jsonrpc":"2.0","error":{"code":-32001,"message":"late"},"id":1})").outcome.code,
              error_code::expired);
    EXPECT_TRUE(std::isnan(codec.decode(R"({"jsonrpc":"2.0","result":NaN,"id":1})").outcome.value.get<double>()));
}

TEST(JsonRpcClientDecode, MalformedResponsesThrow) {
    const jsonrpc_client_codec codec("q");
    for (const std::string& bad :
         {R"({})"s, R"({"jsonrpc":"2.0","id":1})"s, R"({"result":1,"id":1})"s, R"({"jsonrpc":"1.0","result":1})"s,
          R"([{"jsonrpc":"2.0","result":1,"id":1}])"s, R"({"jsonrpc":"2.0","error":"x","id":1})"s,
          R"({"jsonrpc":"2.0","error":{"message":"x"},"id":1})"s, R"({"jsonrpc":"2.0","error":{"code":1.5,"message":"x"}})"s,
          R"({"jsonrpc":"2.0","error":{"code":1},"id":1})"s, R"({"jsonrpc":"2.0","result":1,"id":[1]})"s, "5"s,
          "garbage"s, ""s, "\x80\x04\x95"s}) {
        EXPECT_THROW((void)codec.decode(bad), protocol_error) << bad;
    }
}
