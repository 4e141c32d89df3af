// The classic redisrpc dialect: requests and responses as the Python, Ruby and PHP peers write
// them, our extensions, and hostile input.

#include "protocol/body.hpp"
#include "protocol/classic.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>

using namespace std::string_literals;
using namespace std::chrono_literals;
using redisrpc::encoding;
using redisrpc::error_code;
using redisrpc::message_limits;
using redisrpc::protocol_error;
using redisrpc::usage_error;
using redisrpc::detail::call_outcome;
using redisrpc::detail::call_request;
using redisrpc::detail::classic_client_codec;
using redisrpc::detail::classic_server_codec;
using redisrpc::detail::decoded_job;
using redisrpc::detail::encode_body;
using redisrpc::detail::error_code_from_name;
using redisrpc::detail::error_code_name;
using redisrpc::detail::json;
using redisrpc::detail::reply_policy;

namespace {

const classic_server_codec& server() {
    static const classic_server_codec codec("q", message_limits{}, 60s);
    return codec;
}

decoded_job decode(std::string_view bytes) { return server().decode("q", bytes); }

// A request accepted as exactly one call.
const call_request& only_call(const decoded_job& job) {
    EXPECT_EQ(job.calls.size(), 1U) << job.problem;
    EXPECT_FALSE(job.rejected.has_value()) << job.problem;
    EXPECT_TRUE(job.problem.empty()) << job.problem;
    static const call_request none;
    return job.calls.empty() ? none : job.calls.front();
}

// A request rejected with an error reply to `reply_key`.
void expect_rejected(const decoded_job& job, error_code code, std::string_view reason_part,
                     std::string_view reply_key) {
    EXPECT_TRUE(job.calls.empty());
    ASSERT_TRUE(job.rejected.has_value()) << job.problem;
    EXPECT_FALSE(job.rejected->ok);
    EXPECT_EQ(job.rejected->code, code) << job.problem;
    EXPECT_NE(job.problem.find(reason_part), std::string::npos) << job.problem;
    EXPECT_EQ(job.reply_key, reply_key) << job.problem;
}

std::string reply_payload(const decoded_job& job, const call_outcome& outcome) {
    const auto replies = server().encode(job, std::span<const call_outcome>(&outcome, 1));
    EXPECT_EQ(replies.size(), 1U);
    return replies.empty() ? std::string() : replies.front().payload;
}

std::string request(std::string_view function_call, std::string_view extra = "") {
    return "{\"function_call\":" + std::string(function_call) + ",\"response_queue\":\"q:rpc:ABCDEFGH\"" +
           std::string(extra) + "}";
}

} // namespace

// =============================================================================================
// Server decode: what the original clients send

TEST(ClassicServerDecode, PythonClientRequest) {
    const auto job = decode(R"({"function_call": {"name": "add", "args": [5]}, "response_queue": "q:rpc:NM9GEOS9"})");
    const auto& call = only_call(job);
    EXPECT_EQ(call.method, "add");
    EXPECT_EQ(call.args, json::array({5}));
    EXPECT_EQ(call.kwargs, json::object());
    EXPECT_TRUE(call.id.is_null());
    EXPECT_FALSE(call.deadline_ms.has_value());
    EXPECT_TRUE(call.wants_reply);
    EXPECT_EQ(job.reply_key, "q:rpc:NM9GEOS9");
    EXPECT_EQ(job.enc, encoding::json);
}

TEST(ClassicServerDecode, RubyClientRequest) {
    const auto job = decode(R"({"function_call":{"name":"add","args":[5]},"response_queue":"q:rpc:0PSZQL34"})");
    EXPECT_EQ(only_call(job).args, json::array({5}));
    EXPECT_EQ(job.reply_key, "q:rpc:0PSZQL34");
}

TEST(ClassicServerDecode, PhpClientRequest) {
    const auto job = decode(R"({"function_call":{"name":"add","args":[5]},"response_queue":"q:rpc:n4jbimo3"})");
    EXPECT_EQ(only_call(job).method, "add");
    EXPECT_EQ(job.reply_key, "q:rpc:n4jbimo3");
}

TEST(ClassicServerDecode, ArgsAbsentEmptyOrNull) {
    for (const char* fc : {R"({"name":"clr"})", R"({"name":"clr","args":[]})", R"({"name":"clr","args":null})",
                           R"({"name":"clr","args":null,"kwargs":null})", R"({"name":"clr","kwargs":{}})"}) {
        const auto job = decode(request(fc));
        const auto& call = only_call(job);
        EXPECT_EQ(call.method, "clr") << fc;
        EXPECT_EQ(call.args, json::array()) << fc;
        EXPECT_EQ(call.kwargs, json::object()) << fc;
    }
}

TEST(ClassicServerDecode, PythonKwargs) {
    const auto job = decode(R"({"function_call": {"name": "div", "args": [1], "kwargs": {"b": 4}}, )"
                            R"("response_queue": "q:rpc:ABCDEFGH"})");
    const auto& call = only_call(job);
    EXPECT_EQ(call.args, json::array({1}));
    EXPECT_EQ(call.kwargs, (json{{"b", 4}}));
}

TEST(ClassicServerDecode, RubyTrailingKeywordObjectStaysInArgs) {
    // The binder decides whether a trailing object is a keyword hash.
    const auto job = decode(R"({"function_call":{"name":"div","args":[1,{"b":4}]},"response_queue":"q:rpc:ABCDEFGH"})");
    const auto& call = only_call(job);
    EXPECT_EQ(call.args, json::parse(R"([1,{"b":4}])"));
    EXPECT_TRUE(call.kwargs.empty());
}

TEST(ClassicServerDecode, PhpNamedArgumentsObject) {
    const auto job = decode(request(R"({"name":"div","args":{"0":1,"b":2}})"));
    const auto& call = only_call(job);
    EXPECT_EQ(call.args, json::array({1}));
    EXPECT_EQ(call.kwargs, (json{{"b", 2}}));

    // Numeric keys only: positional, in numeric (not lexicographic) order.
    std::string many = R"({"name":"sum","args":{)";
    for (int i = 0; i < 12; ++i) many += (i ? "," : "") + ("\"" + std::to_string(i) + "\":" + std::to_string(i * 10));
    many += "}}";
    const auto job2 = decode(request(many));
    json expected = json::array();
    for (int i = 0; i < 12; ++i) expected.push_back(i * 10);
    EXPECT_EQ(only_call(job2).args, expected);
    EXPECT_TRUE(only_call(job2).kwargs.empty());

    // Named only.
    const auto job3 = decode(request(R"({"name":"div","args":{"a":1,"b":2}})"));
    EXPECT_EQ(only_call(job3).args, json::array());
    EXPECT_EQ(only_call(job3).kwargs, (json{{"a", 1}, {"b", 2}}));
}

TEST(ClassicServerDecode, PhpArgsObjectWithGapsOrClashesRejected) {
    expect_rejected(decode(request(R"({"name":"f","args":{"1":5}})")), error_code::invalid_request,
                    "positional keys", "q:rpc:ABCDEFGH");
    expect_rejected(decode(request(R"({"name":"f","args":{"0":5,"2":6}})")), error_code::invalid_request,
                    "positional keys", "q:rpc:ABCDEFGH");
    expect_rejected(decode(request(R"({"name":"f","args":{"0":5,"b":1},"kwargs":{"b":2}})")),
                    error_code::invalid_request, "\"b\" given twice", "q:rpc:ABCDEFGH");
}

TEST(ClassicServerDecode, UnicodeFromEachPeer) {
    // Python: \u escapes with surrogate pairs; Ruby: raw UTF-8; PHP: \u escapes and \/.
    const auto py = decode(R"({"function_call": {"name": "echo", "args": ["caf\u00e9 \ud83d\ude00"]}, )"
                           R"("response_queue": "q:rpc:ABCDEFGH"})");
    const auto rb = decode(request("{\"name\":\"echo\",\"args\":[\"caf\xc3\xa9 \xf0\x9f\x98\x80\"]}"));
    const auto php = decode(request(R"({"name":"echo","args":["caf\u00e9 \ud83d\ude00","a\/b"]})"));
    EXPECT_EQ(only_call(py).args[0], "caf\xc3\xa9 \xf0\x9f\x98\x80");
    EXPECT_EQ(only_call(rb).args[0], "caf\xc3\xa9 \xf0\x9f\x98\x80");
    EXPECT_EQ(only_call(php).args[0], "caf\xc3\xa9 \xf0\x9f\x98\x80");
    EXPECT_EQ(only_call(php).args[1], "a/b");
    // Non-ASCII method names are fine.
    EXPECT_EQ(only_call(decode(request(R"({"name":"r\u00e9sum\u00e9"})"))).method, "r\xc3\xa9sum\xc3\xa9");
}

TEST(ClassicServerDecode, NumbersFromEachPeer) {
    const auto job = decode(request(R"({"name":"f","args":[1e-07,1.0e-07,1.0e-7,-0.0,9007199254740993,5]})"));
    const auto& args = only_call(job).args;
    ASSERT_EQ(args.size(), 6U);
    EXPECT_EQ(args[0].get<double>(), 1e-7);
    EXPECT_EQ(args[1].get<double>(), 1e-7);
    EXPECT_EQ(args[2].get<double>(), 1e-7);
    EXPECT_TRUE(std::signbit(args[3].get<double>()));
    EXPECT_EQ(args[4].get<std::int64_t>(), 9007199254740993LL);
    EXPECT_TRUE(args[5].is_number_integer());
}

TEST(ClassicServerDecode, UnknownFieldsIgnored) {
    const auto job = decode(R"({"version":3,"function_call":{"name":"add","args":[5],"meta":{"x":[1]}},)"
                            R"("response_queue":"q:rpc:ABCDEFGH","ts":"2024-01-01T00:00:00"})");
    EXPECT_EQ(only_call(job).method, "add");
}

// =============================================================================================
// Server decode: extension fields

TEST(ClassicServerDecode, IdAndDeadlineExtensions) {
    const auto job = decode(request(R"({"name":"add","args":[5]})", R"(,"id":"c1-42","deadline_ms":1700000000123)"));
    const auto& call = only_call(job);
    EXPECT_EQ(call.id, "c1-42");
    ASSERT_TRUE(call.deadline_ms.has_value());
    EXPECT_EQ(*call.deadline_ms, 1700000000123LL);

    EXPECT_EQ(only_call(decode(request(R"({"name":"add"})", R"(,"id":17)"))).id, 17);
    EXPECT_TRUE(only_call(decode(request(R"({"name":"add"})", R"(,"id":null,"deadline_ms":null)"))).id.is_null());
    EXPECT_EQ(*only_call(decode(request(R"({"name":"add"})", R"(,"deadline_ms":-5)"))).deadline_ms, -5);
}

TEST(ClassicServerDecode, BadExtensionFieldsRejected) {
    for (const char* extra : {R"(,"id":1.5)", R"(,"id":true)", R"(,"id":[1])", R"(,"id":{})"}) {
        expect_rejected(decode(request(R"({"name":"add"})", extra)), error_code::invalid_request,
                        "id must be", "q:rpc:ABCDEFGH");
    }
    for (const char* extra : {R"(,"deadline_ms":"1700000000000")", R"(,"deadline_ms":1.7e12)",
                              R"(,"deadline_ms":18446744073709551615)", R"(,"deadline_ms":false)"}) {
        expect_rejected(decode(request(R"({"name":"add"})", extra)), error_code::invalid_request,
                        "deadline_ms must be", "q:rpc:ABCDEFGH");
    }
}

// =============================================================================================
// Server decode: rejections

TEST(ClassicServerDecode, UnparseableBytesDroppedWithReason) {
    expect_rejected(decode("hello"), error_code::parse_error, "unknown encoding", "");
    expect_rejected(decode("{\"function_call\":"), error_code::parse_error, "invalid JSON", "");
    expect_rejected(decode("\x80\x04\x95\x1e\x00\x00\x00\x00\x00\x00\x00}\x94("s), error_code::parse_error,
                    "pickle is not accepted", "");
    expect_rejected(decode(std::string(100000, '[') + std::string(100000, ']')), error_code::parse_error,
                    "nesting deeper than 64", "");
    expect_rejected(decode(request(R"({"name":"add"})") + std::string(2 * 1024 * 1024, ' ')),
                    error_code::parse_error, "message too large", "");
    EXPECT_EQ(decode("").problem, "empty message");
}

TEST(ClassicServerDecode, NoReplyAddressMeansDropped) {
    expect_rejected(decode("[1,2]"), error_code::invalid_request, "not an object", "");
    expect_rejected(decode(R"({"function_call":{"name":"add"}})"), error_code::invalid_request,
                    "response_queue is missing", "");
    expect_rejected(decode(R"({"function_call":{"name":"add"},"response_queue":5})"), error_code::invalid_request,
                    "response_queue is not a string", "");
    expect_rejected(decode(R"({"function_call":{"name":"add"},"response_queue":null})"),
                    error_code::invalid_request, "response_queue is not a string", "");
    // Nothing to send for a dropped message.
    const auto job = decode("[1,2]");
    EXPECT_TRUE(server().encode(job, {}).empty());
}

TEST(ClassicServerDecode, ShapeErrorsAnswered) {
    const std::string rq = "q:rpc:ABCDEFGH";
    expect_rejected(decode(R"({"response_queue":"q:rpc:ABCDEFGH"})"), error_code::invalid_request,
                    "function_call is missing", rq);
    expect_rejected(decode(request(R"("add")")), error_code::invalid_request, "function_call is not an object", rq);
    expect_rejected(decode(request(R"({"args":[1]})")), error_code::invalid_request, "name is missing", rq);
    expect_rejected(decode(request(R"({"name":""})")), error_code::invalid_request, "name is empty", rq);
    expect_rejected(decode(request(R"({"name":5})")), error_code::invalid_request, "name is not a string", rq);
    expect_rejected(decode(request(R"({"name":null})")), error_code::invalid_request, "name is not a string", rq);
    expect_rejected(decode(request(R"({"name":"add","args":"5"})")), error_code::invalid_request,
                    "args must be an array, got string", rq);
    expect_rejected(decode(request(R"({"name":"add","args":5})")), error_code::invalid_request,
                    "args must be an array, got number", rq);
    expect_rejected(decode(request(R"({"name":"add","kwargs":[1]})")), error_code::invalid_request,
                    "kwargs must be an object, got array", rq);
    expect_rejected(decode(request(R"({"name":"add","kwargs":"b=1"})")), error_code::invalid_request,
                    "kwargs must be an object", rq);
}

TEST(ClassicServerDecode, ControlCharactersInNameRejectedAndEscaped) {
    const auto nul = decode(request(R"({"name":"add\u0000rm -rf"})"));
    expect_rejected(nul, error_code::invalid_request, "control characters", "q:rpc:ABCDEFGH");
    EXPECT_NE(nul.problem.find("add\\x00rm -rf"), std::string::npos) << nul.problem;
    for (const char* name : {R"("a\nb")", R"("\u0007")", R"("x\u007f")", R"("\u0085")", R"("\u009b31m")"}) {
        expect_rejected(decode(request(std::string(R"({"name":)") + name + "}")), error_code::invalid_request,
                        "control characters", "q:rpc:ABCDEFGH");
    }
}

TEST(ClassicServerDecode, ProblemTextIsShortAndLogSafe) {
    const std::string hostile = R"({"name":")" + std::string(20000, 'A') + R"(\u001b[2J\r\n"})";
    const auto job = decode(request(hostile));
    ASSERT_TRUE(job.rejected.has_value());
    EXPECT_LT(job.problem.size(), 500U);
    for (const char c : job.problem) EXPECT_GE(static_cast<unsigned char>(c), 0x20) << job.problem;
    const auto bad_queue = decode("{\"function_call\":{\"name\":\"a\"},\"response_queue\":\"\xe2\x80\xae\\n" +
                                  std::string(5000, 'x') + "\"}");
    EXPECT_LT(bad_queue.problem.size(), 500U);
    EXPECT_EQ(bad_queue.problem.find("\xe2\x80\xae"), std::string::npos);
    EXPECT_NE(bad_queue.problem.find("\\u202e\\n"), std::string::npos) << bad_queue.problem;
}

// =============================================================================================
// Reply-address policy

TEST(ClassicReplyPolicy, DefaultRequiresQueuePrefix) {
    for (const char* rq : {"other:rpc:ABCDEFGH", "q:rpc:", "q", "q:rpcX", "Q:rpc:ABC", "", "session:user:1"}) {
        const auto job = decode(std::string(R"({"function_call":{"name":"add"},"response_queue":")") + rq + "\"}");
        expect_rejected(job, error_code::invalid_request, "not allowed", "");
        EXPECT_TRUE(server().encode(job, {}).empty()) << rq; // never answered to that key
    }
}

TEST(ClassicReplyPolicy, AllowAnyStillRefusesTheRequestQueue) {
    const classic_server_codec any("q", {}, 60s, reply_policy{.allow_any = true, .prefix = {}});
    const auto ok = any.decode("q", R"({"function_call":{"name":"add"},"response_queue":"replies/42"})");
    EXPECT_EQ(ok.calls.size(), 1U);
    EXPECT_EQ(ok.reply_key, "replies/42");
    const auto self = any.decode("q", R"({"function_call":{"name":"add"},"response_queue":"q"})");
    expect_rejected(self, error_code::invalid_request, "not allowed", "");
    const auto empty = any.decode("q", R"({"function_call":{"name":"add"},"response_queue":""})");
    expect_rejected(empty, error_code::invalid_request, "not allowed", "");
}

TEST(ClassicReplyPolicy, CustomPrefix) {
    const classic_server_codec custom("q", {}, 60s, reply_policy{.allow_any = false, .prefix = "replies:"});
    EXPECT_EQ(custom.decode("q", R"({"function_call":{"name":"a"},"response_queue":"replies:7"})").calls.size(), 1U);
    expect_rejected(custom.decode("q", R"({"function_call":{"name":"a"},"response_queue":"q:rpc:ABCDEFGH"})"),
                    error_code::invalid_request, "must start with \"replies:\"", "");
}

// =============================================================================================
// Server encode

TEST(ClassicServerEncode, SuccessLikeTheOriginals) {
    const auto job = decode(request(R"({"name":"add","args":[5]})"));
    EXPECT_EQ(reply_payload(job, call_outcome::success(5.0)), R"({"return_value":5.0})");
    EXPECT_EQ(reply_payload(job, call_outcome::success(nullptr)), R"({"return_value":null})");
    const auto replies = server().encode(job, std::vector<call_outcome>{call_outcome::success(1)});
    ASSERT_EQ(replies.size(), 1U);
    EXPECT_EQ(replies[0].key, "q:rpc:ABCDEFGH");
    EXPECT_EQ(replies[0].ttl, 60s);
}

TEST(ClassicServerEncode, ReplyTtlFromConstructor) {
    const classic_server_codec codec("q", {}, 5s);
    const auto job = codec.decode("q", request(R"({"name":"a"})"));
    const auto replies = codec.encode(job, std::vector<call_outcome>{call_outcome::success(1)});
    ASSERT_EQ(replies.size(), 1U);
    EXPECT_EQ(replies[0].ttl, 5s);
}

TEST(ClassicServerEncode, ErrorsWithOptionalErrorCode) {
    const auto job = decode(request(R"({"name":"add","args":[5]})"));
    // A handler's exception looks exactly like the original servers' answer.
    EXPECT_EQ(reply_payload(job, call_outcome::failure(error_code::handler_error, "ValueError(1234)")),
              R"x({"exception":"ValueError(1234)"})x");
    EXPECT_EQ(reply_payload(job, call_outcome::failure(error_code::method_not_found, "no method \"foo\"")),
              R"({"exception":"no method \"foo\"","error_code":"method_not_found"})");
    EXPECT_EQ(reply_payload(job, call_outcome::failure(error_code::invalid_params, "add: argument 1: expected number, got string")),
              R"({"exception":"add: argument 1: expected number, got string","error_code":"invalid_params"})");
}

TEST(ClassicServerEncode, EchoesId) {
    const auto job = decode(request(R"({"name":"add","args":[5]})", R"(,"id":"c1-9")"));
    EXPECT_EQ(reply_payload(job, call_outcome::success(6)), R"({"return_value":6,"id":"c1-9"})");
    const auto job2 = decode(request(R"({"name":"add","args":[5]})", R"(,"id":12345678901234)"));
    EXPECT_EQ(reply_payload(job2, call_outcome::failure(error_code::expired, "deadline passed")),
              R"({"exception":"deadline passed","error_code":"expired","id":12345678901234})");
}

TEST(ClassicServerEncode, RejectionAnsweredWithIdEcho) {
    const auto job = decode(R"({"id":7,"response_queue":"q:rpc:ABCDEFGH","function_call":{"name":""}})");
    ASSERT_TRUE(job.rejected.has_value());
    const auto replies = server().encode(job, {});
    ASSERT_EQ(replies.size(), 1U);
    EXPECT_EQ(replies[0].key, "q:rpc:ABCDEFGH");
    EXPECT_EQ(replies[0].payload, R"({"exception":"function_call.name is empty","error_code":"invalid_request","id":7})");
}

TEST(ClassicServerEncode, UnencodableResultBecomesInternalError) {
    const auto job = decode(request(R"({"name":"a"})"));
    const std::string payload = reply_payload(job, call_outcome::success(json::array({"ok", "bad\xff"})));
    const json reply = json::parse(payload);
    EXPECT_EQ(reply["error_code"], "internal_error");
    EXPECT_NE(reply["exception"].get<std::string>().find("UTF-8"), std::string::npos);
    // An exception text with raw bytes is escaped, not dropped.
    const std::string text = reply_payload(job, call_outcome::failure(error_code::handler_error, "bad \xff byte"));
    EXPECT_EQ(json::parse(text)["exception"], "bad \\xff byte");
}

TEST(ClassicServerEncode, MsgpackRequestGetsMsgpackReply) {
    const json req = {{"function_call", {{"name", "add"}, {"args", {5}}}},
                      {"response_queue", "q:rpc:ABCDEFGH"},
                      {"id", 3}};
    const auto job = decode(encode_body(req, encoding::msgpack));
    EXPECT_EQ(job.enc, encoding::msgpack);
    EXPECT_EQ(only_call(job).args, json::array({5}));
    const std::string payload = reply_payload(job, call_outcome::success(10.5));
    EXPECT_EQ(static_cast<unsigned char>(payload[0]), 0x82); // a MessagePack map of 2
    EXPECT_EQ(json::from_msgpack(payload), (json{{"return_value", 10.5}, {"id", 3}}));
    const auto response = classic_client_codec("q").decode(payload);
    EXPECT_TRUE(response.outcome.ok);
    EXPECT_EQ(response.outcome.value, 10.5);
    EXPECT_EQ(response.id, 3);
}

TEST(ClassicServerEncode, QueuesIsTheOneRequestQueue) {
    const std::vector<std::string> methods{"add", "sub"};
    EXPECT_EQ(server().queues(methods), std::vector<std::string>{"q"});
}

// =============================================================================================
// Server decode never throws

TEST(ClassicServerDecode, SurvivesRandomAndMutatedInput) {
    std::mt19937 rng(12345); // fixed seed: reproducible
    const std::string valid = R"({"function_call":{"name":"add","args":[5,{"b":[1.5,"x"]}],"kwargs":{"c":null}},)"
                              R"("response_queue":"q:rpc:ABCDEFGH","id":"i","deadline_ms":1})";
    const std::string packed = encode_body(json::parse(valid), encoding::msgpack);
    std::size_t accepted = 0;
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
            if (bytes.empty()) bytes = "{";
        }
        decoded_job job;
        ASSERT_NO_THROW(job = decode(bytes));
        // Exactly one of: a call, or a rejection with a reason.
        ASSERT_EQ(job.calls.size() == 1, !job.rejected.has_value()) << job.problem;
        ASSERT_EQ(job.problem.empty(), !job.rejected.has_value());
        if (!job.reply_key.empty()) {
            ASSERT_EQ(job.reply_key.rfind("q:rpc:", 0), 0U);
        }
        accepted += job.calls.size();
    }
    EXPECT_GT(accepted, 0U); // some mutations (e.g. inside strings) stay valid
}

// =============================================================================================
// Client encode

TEST(ClassicClientEncode, ExactBytes) {
    const classic_client_codec codec("q");
    call_request call;
    call.method = "add";
    call.args = json::array({5});
    const auto req = codec.encode(call, "q:rpc:ABCDEFGH", encoding::json);
    EXPECT_EQ(req.queue, "q");
    EXPECT_EQ(req.reply_key, "q:rpc:ABCDEFGH");
    EXPECT_EQ(req.payload, R"({"function_call":{"name":"add","args":[5]},"response_queue":"q:rpc:ABCDEFGH"})");
    EXPECT_FALSE(req.queue_ttl.has_value());

    call_request bare;
    bare.method = "clr";
    EXPECT_EQ(codec.encode(bare, "q:rpc:X", encoding::json).payload,
              R"({"function_call":{"name":"clr"},"response_queue":"q:rpc:X"})");

    call_request full;
    full.method = "div";
    full.args = json::array({1, "caf\xc3\xa9"});
    full.kwargs = {{"b", 4}};
    full.id = "c1-1";
    full.deadline_ms = 1700000000000;
    EXPECT_EQ(codec.encode(full, "q:rpc:X", encoding::json).payload,
              "{\"function_call\":{\"name\":\"div\",\"args\":[1,\"caf\xc3\xa9\"],\"kwargs\":{\"b\":4}},"
              "\"response_queue\":\"q:rpc:X\",\"id\":\"c1-1\",\"deadline_ms\":1700000000000}");
}

TEST(ClassicClientEncode, QueueFromReplyKeyWhenNotGiven) {
    const classic_client_codec codec{message_limits{}};
    call_request call;
    call.method = "add";
    EXPECT_EQ(codec.encode(call, "calc:rpc:ABC", encoding::json).queue, "calc");
    EXPECT_EQ(codec.encode(call, "a:rpc:b:rpc:ABC", encoding::json).queue, "a:rpc:b");
    EXPECT_THROW((void)codec.encode(call, "replies", encoding::json), usage_error);
    EXPECT_THROW((void)codec.encode(call, ":rpc:ABC", encoding::json), usage_error);
}

TEST(ClassicClientEncode, RejectsMistypedArguments) {
    const classic_client_codec codec("q");
    call_request call;
    call.method = "add";
    call.args = json{{"a", 1}};
    EXPECT_THROW((void)codec.encode(call, "q:rpc:X", encoding::json), usage_error);
    call.args = json::array();
    call.kwargs = json::array({1});
    EXPECT_THROW((void)codec.encode(call, "q:rpc:X", encoding::json), usage_error);
    call.kwargs = json::object();
    call.method = "bad\xff";
    EXPECT_THROW((void)codec.encode(call, "q:rpc:X", encoding::json), protocol_error);
}

TEST(ClassicClientEncode, RoundTripThroughServerInBothEncodings) {
    const classic_client_codec codec("q");
    call_request call;
    call.method = "div";
    call.args = json::array({1.5, -0.0, 9007199254740993LL, "\xf0\x9f\x98\x80", json::array({nullptr, true})});
    call.kwargs = {{"b", {{"x", 1}}}};
    call.id = 99;
    call.deadline_ms = 42;
    for (const auto enc : {encoding::json, encoding::msgpack}) {
        const auto req = codec.encode(call, "q:rpc:ROUNDTRP", enc);
        if (enc == encoding::msgpack) {
            EXPECT_EQ(static_cast<unsigned char>(req.payload[0]), 0x84); // fixmap of 4
        }
        const auto job = server().decode(req.queue, req.payload);
        const auto& got = only_call(job);
        EXPECT_EQ(job.enc, enc);
        EXPECT_EQ(job.reply_key, "q:rpc:ROUNDTRP");
        EXPECT_EQ(got.method, call.method);
        EXPECT_EQ(got.args, call.args);
        EXPECT_EQ(got.kwargs, call.kwargs);
        EXPECT_EQ(got.id, call.id);
        EXPECT_EQ(got.deadline_ms, call.deadline_ms);
    }
}

// =============================================================================================
// Client decode: what the original servers answer

TEST(ClassicClientDecode, SuccessFromEachServer) {
    const classic_client_codec codec("q");
    const auto py = codec.decode(R"({"return_value": 5.0})");
    EXPECT_TRUE(py.outcome.ok);
    EXPECT_TRUE(py.outcome.value.is_number_float());
    EXPECT_EQ(py.outcome.value, 5.0);
    EXPECT_TRUE(py.id.is_null());
    EXPECT_EQ(codec.decode(R"({"return_value":5.0})").outcome.value, 5.0);
    const auto php = codec.decode(R"({"return_value":5})");
    EXPECT_TRUE(php.outcome.ok);
    EXPECT_EQ(php.outcome.value, 5);
    EXPECT_TRUE(codec.decode(R"({"return_value": null})").outcome.ok);
    EXPECT_EQ(codec.decode(R"({"return_value":"a\/b \u00e9"})").outcome.value, "a/b \xc3\xa9");
}

TEST(ClassicClientDecode, ExceptionsFromEachServer) {
    const classic_client_codec codec("q");
    const auto py = codec.decode(R"x({"exception": "ValueError(1234)"})x");
    EXPECT_FALSE(py.outcome.ok);
    EXPECT_EQ(py.outcome.code, error_code::handler_error);
    EXPECT_EQ(py.outcome.message, "ValueError(1234)");
    EXPECT_TRUE(py.outcome.data.is_null());

    EXPECT_EQ(codec.decode(R"x({"exception": "AttributeError(\"'Calc' object has no attribute 'foo'\")"})x").outcome.message,
              "AttributeError(\"'Calc' object has no attribute 'foo'\")");
    EXPECT_EQ(codec.decode(R"({"exception":"method \"foo\" does not exist"})").outcome.message,
              "method \"foo\" does not exist");

    const auto rb = codec.decode(R"({"exception":"divided by 0","backtrace":["calc.rb:9:in `/'","server.rb:20"]})");
    EXPECT_FALSE(rb.outcome.ok);
    EXPECT_EQ(rb.outcome.message, "divided by 0");
    EXPECT_EQ(rb.outcome.data, json::parse(R"(["calc.rb:9:in `/'","server.rb:20"])"));

    // Not a string: kept as its JSON text.
    EXPECT_EQ(codec.decode(R"({"exception":{"type":"E"}})").outcome.message, R"({"type":"E"})");
}

TEST(ClassicClientDecode, NullExceptionIsSuccess) {
    const classic_client_codec codec("q");
    const auto r = codec.decode(R"({"exception": null, "return_value": 3})");
    EXPECT_TRUE(r.outcome.ok);
    EXPECT_EQ(r.outcome.value, 3);
    // Exception wins when both are set.
    EXPECT_FALSE(codec.decode(R"({"exception":"x","return_value":3})").outcome.ok);
}

TEST(ClassicClientDecode, OurExtensions) {
    const classic_client_codec codec("q");
    const auto r = codec.decode(R"({"exception":"no method \"foo\"","error_code":"method_not_found","id":"c1-3"})");
    EXPECT_EQ(r.outcome.code, error_code::method_not_found);
    EXPECT_EQ(r.id, "c1-3");
    EXPECT_EQ(codec.decode(R"({"exception":"x","error_code":"made_up"})").outcome.code, error_code::handler_error);
    EXPECT_EQ(codec.decode(R"({"exception":"x","error_code":"none"})").outcome.code, error_code::handler_error);
    EXPECT_EQ(codec.decode(R"({"exception":"x","error_code":7})").outcome.code, error_code::handler_error);
    EXPECT_EQ(codec.decode(R"({"return_value":1,"id":5})").id, 5);
}

TEST(ClassicClientDecode, PythonNanAccepted) {
    const classic_client_codec codec("q");
    const auto r = codec.decode(R"({"return_value": NaN})");
    ASSERT_TRUE(r.outcome.ok);
    EXPECT_TRUE(std::isnan(r.outcome.value.get<double>()));
    EXPECT_EQ(codec.decode(R"({"return_value": [-Infinity]})").outcome.value[0].get<double>(),
              -std::numeric_limits<double>::infinity());
}

TEST(ClassicClientDecode, MalformedResponsesThrow) {
    const classic_client_codec codec("q");
    for (const std::string& bad : {R"({})"s, R"({"exception": null})"s, R"({"result": 1})"s, R"([1])"s, "\"x\""s,
                                  "garbage"s, ""s, R"({"return_value":1} trailing)"s, R"({"return_value":1,"return_value":2})"s,
                                  "\x80\x04\x95"s}) {
        EXPECT_THROW((void)codec.decode(bad), protocol_error) << bad;
    }
    try {
        (void)codec.decode("{}");
    } catch (const protocol_error& ex) {
        EXPECT_STREQ(ex.what(), "bad response: neither return_value nor exception");
    }
    message_limits small;
    small.max_bytes = 10;
    EXPECT_THROW((void)classic_client_codec("q", small).decode(R"({"return_value":12345})"), protocol_error);
}

// =============================================================================================
// error_code names

TEST(ClassicErrorCodes, NamesRoundTrip) {
    for (const auto code : {error_code::none, error_code::parse_error, error_code::invalid_request,
                            error_code::method_not_found, error_code::invalid_params, error_code::internal_error,
                            error_code::handler_error, error_code::expired}) {
        const auto back = error_code_from_name(error_code_name(code));
        ASSERT_TRUE(back.has_value());
        EXPECT_EQ(*back, code);
    }
    EXPECT_EQ(error_code_name(error_code::invalid_params), "invalid_params");
    EXPECT_FALSE(error_code_from_name("METHOD_NOT_FOUND").has_value());
}
