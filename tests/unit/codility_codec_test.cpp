// The Codility redis-rpc dialect: calls and results as the Python and Go peers write them, our
// extensions, and hostile input.

#include "protocol/body.hpp"
#include "protocol/codility.hpp"
#include "util/random.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <set>
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
using redisrpc::detail::codility_client_codec;
using redisrpc::detail::codility_id_ok;
using redisrpc::detail::codility_server_codec;
using redisrpc::detail::codility_timestamp;
using redisrpc::detail::codility_timestamp_ok;
using redisrpc::detail::decoded_job;
using redisrpc::detail::encode_body;
using redisrpc::detail::json;

namespace {

// 2024-05-01T12:00:00.123456Z
std::chrono::system_clock::time_point fixed_time() {
    return std::chrono::system_clock::time_point(std::chrono::microseconds(1714564800123456LL));
}

const codility_server_codec& server() {
    static const codility_server_codec codec("redis_rpc", message_limits{}, fixed_time);
    return codec;
}

const codility_client_codec& client() {
    static const codility_client_codec codec("redis_rpc", message_limits{}, fixed_time);
    return codec;
}

const std::string uuid = "0f8fad5b-d9cb-469f-a165-70867728950e";

decoded_job decode(std::string_view bytes, std::string_view key = "redis_rpc:add:calls") {
    return server().decode(key, bytes);
}

std::string call_text(std::string_view kw, std::string_view extra = "") {
    return R"({"id":")" + uuid + R"(","ts":"2024-05-01T12:00:00.123456","kw":)" + std::string(kw) +
           std::string(extra) + "}";
}

const call_request& only_call(const decoded_job& job) {
    EXPECT_EQ(job.calls.size(), 1U) << job.problem;
    EXPECT_FALSE(job.rejected.has_value()) << job.problem;
    EXPECT_TRUE(job.problem.empty()) << job.problem;
    static const call_request none;
    return job.calls.empty() ? none : job.calls.front();
}

// Rejected and answered (reply_key set) or dropped (reply_key empty).
void expect_rejected(const decoded_job& job, error_code code, std::string_view reason_part, bool answered) {
    EXPECT_TRUE(job.calls.empty());
    ASSERT_TRUE(job.rejected.has_value()) << job.problem;
    EXPECT_EQ(job.rejected->code, code) << job.problem;
    EXPECT_NE(job.problem.find(reason_part), std::string::npos) << job.problem;
    if (answered) {
        EXPECT_EQ(job.reply_key, "redis_rpc:add:result:" + uuid) << job.problem;
    } else {
        EXPECT_EQ(job.reply_key, "") << job.problem;
        EXPECT_TRUE(server().encode(job, {}).empty());
    }
}

std::string reply_payload(const decoded_job& job, const call_outcome& outcome) {
    const auto replies = server().encode(job, std::span<const call_outcome>(&outcome, 1));
    EXPECT_EQ(replies.size(), 1U);
    return replies.empty() ? std::string() : replies.front().payload;
}

} // namespace

// =============================================================================================
// Keys

TEST(CodilityKeys, QueuePerFunctionAndHeartbeat) {
    const std::vector<std::string> methods{"add", "sub", "a:b"};
    EXPECT_EQ(server().queues(methods),
              (std::vector<std::string>{"redis_rpc:add:calls", "redis_rpc:sub:calls", "redis_rpc:a:b:calls"}));
    EXPECT_EQ(server().heartbeat_key("calc", "srv-1"), "redis_rpc:calc:srv-1:alive");
    EXPECT_TRUE(server().queues({}).empty());
}

TEST(CodilityKeys, TimestampFormat) {
    EXPECT_EQ(codility_timestamp(fixed_time()), "2024-05-01T12:00:00.123456Z");
    EXPECT_EQ(codility_timestamp(std::chrono::system_clock::time_point{}), "1970-01-01T00:00:00.000000Z");
    EXPECT_EQ(codility_timestamp(std::chrono::system_clock::time_point(std::chrono::microseconds(-1))),
              "1969-12-31T23:59:59.999999Z");
    EXPECT_TRUE(codility_timestamp_ok(codility_timestamp(std::chrono::system_clock::now())));
}

TEST(CodilityKeys, TimestampsAccepted) {
    for (const char* ts : {"2024-05-01T12:00:00.123456", "2024-05-01T12:00:00", "2024-05-01T12:00:00Z",
                           "2024-05-01T12:00:00+02:00", "2024-05-01T12:00:00.999999999-07:00",
                           "2024-05-01T12:00:00.5+0200", "2024-05-01 12:00:00.1", "2024-05-01t12:00:00z"}) {
        EXPECT_TRUE(codility_timestamp_ok(ts)) << ts;
    }
    for (const char* ts : {"", "2024-05-01", "2024-05-01T12:00", "2024-05-01T12:00:00.", "2024-05-01T12:00:00.1234567890",
                           "2024-05-01T12:00:00+2", "2024-05-01T12:00:00 UTC", "1714564800", "2024-5-1T12:00:00",
                           "2024-05-01T12:00:00+02:00x", "2024-05-01X12:00:00"}) {
        EXPECT_FALSE(codility_timestamp_ok(ts)) << ts;
    }
}

TEST(CodilityKeys, IdsAndUuid4) {
    EXPECT_TRUE(codility_id_ok(uuid));
    EXPECT_TRUE(codility_id_ok("A.b_c:1-2"));
    EXPECT_TRUE(codility_id_ok(std::string(128, 'a')));
    for (const std::string& bad : {""s, std::string(129, 'a'), "a b"s, "a/b"s, "a\nb"s, "*"s, "{x}"s, "\xc3\xa9"s}) {
        EXPECT_FALSE(codility_id_ok(bad)) << bad;
    }
    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i) {
        const std::string id = redisrpc::detail::random_uuid4();
        ASSERT_EQ(id.size(), 36U);
        EXPECT_EQ(id[8], '-');
        EXPECT_EQ(id[13], '-');
        EXPECT_EQ(id[18], '-');
        EXPECT_EQ(id[23], '-');
        EXPECT_EQ(id[14], '4') << id;                                     // version
        EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos) << id; // variant
        EXPECT_EQ(id.find_first_not_of("0123456789abcdef-"), std::string::npos) << id;
        EXPECT_TRUE(codility_id_ok(id));
        seen.insert(id);
    }
    EXPECT_EQ(seen.size(), 1000U);
}

// =============================================================================================
// Server decode: what the original clients send

TEST(CodilityServerDecode, PythonClientCall) {
    // json.dumps with default separators; ts from datetime.now().isoformat().
    const auto job = decode(R"({"id": ")" + uuid + R"(", "ts": "2024-05-01T12:00:00.123456", "kw": {"number": 5}})");
    const auto& call = only_call(job);
    EXPECT_EQ(call.method, "add");
    EXPECT_EQ(call.args, json::array());
    EXPECT_EQ(call.kwargs, (json{{"number", 5}}));
    EXPECT_EQ(call.id, uuid);
    EXPECT_TRUE(call.wants_reply);
    EXPECT_FALSE(call.deadline_ms.has_value());
    EXPECT_EQ(job.reply_key, "redis_rpc:add:result:" + uuid);
    EXPECT_EQ(job.enc, encoding::json);
}

TEST(CodilityServerDecode, GoClientCall) {
    const auto job = decode(R"({"id":")" + uuid + R"(","kw":{"a":"x","n":1.5},"ts":"2024-05-01T14:00:00+02:00"})",
                            "redis_rpc:concat:calls");
    const auto& call = only_call(job);
    EXPECT_EQ(call.method, "concat");
    EXPECT_EQ(call.kwargs, (json{{"a", "x"}, {"n", 1.5}}));
    EXPECT_EQ(job.reply_key, "redis_rpc:concat:result:" + uuid);
    // Go's nil map marshals as null.
    EXPECT_TRUE(only_call(decode(R"({"id":")" + uuid + R"(","kw":null,"ts":"2024-05-01T12:00:00Z"})")).kwargs.empty());
}

TEST(CodilityServerDecode, MissingKwMeansNoArgumentsAndExtrasIgnored) {
    const auto job = decode(R"({"id":")" + uuid + R"("})");
    EXPECT_TRUE(only_call(job).kwargs.empty());
    EXPECT_TRUE(only_call(job).args.empty());
    const auto extra = decode(call_text(R"({"x":[1,{"y":null}]})", R"(,"verbose":false,"client":"py","v":2)"));
    EXPECT_EQ(only_call(extra).kwargs, json::parse(R"({"x":[1,{"y":null}]})"));
    EXPECT_TRUE(only_call(decode(R"({"id":")" + uuid + R"(","ts":null,"kw":{}})")).args.empty());
}

TEST(CodilityServerDecode, FunctionNameFromKey) {
    EXPECT_EQ(only_call(decode(call_text("{}"), "redis_rpc:ns:fn:calls")).method, "ns:fn");
    EXPECT_EQ(decode(call_text("{}"), "redis_rpc:ns:fn:calls").reply_key, "redis_rpc:ns:fn:result:" + uuid);
    for (const char* key : {"other:add:calls", "redis_rpc:add:results", "redis_rpc::calls", "redis_rpc:calls",
                            "redis_rpcX:add:calls", ""}) {
        const auto job = decode(call_text("{}"), key);
        ASSERT_TRUE(job.rejected.has_value()) << key;
        EXPECT_EQ(job.rejected->code, error_code::internal_error);
        EXPECT_TRUE(job.reply_key.empty()) << key;
        EXPECT_NE(job.problem.find("is not a call queue"), std::string::npos) << job.problem;
    }
}

TEST(CodilityServerDecode, PositionalExtension) {
    const auto job = decode(call_text(R"({"0":1,"b":2})"));
    EXPECT_EQ(only_call(job).args, json::array({1}));
    EXPECT_EQ(only_call(job).kwargs, (json{{"b", 2}}));

    std::string many = "{";
    for (int i = 0; i < 12; ++i) many += (i ? "," : "") + ("\"" + std::to_string(i) + "\":" + std::to_string(i * 10));
    many += "}";
    json expected = json::array();
    for (int i = 0; i < 12; ++i) expected.push_back(i * 10);
    EXPECT_EQ(only_call(decode(call_text(many))).args, expected); // numeric, not lexicographic order
    EXPECT_TRUE(only_call(decode(call_text(many))).kwargs.empty());

    // Not positions: "01", "-1", "1.0", "1e0", " 1" stay keyword names.
    const auto names = decode(call_text(R"({"01":1,"-1":2,"1.0":3,"1e0":4," 1":5})"));
    EXPECT_TRUE(only_call(names).args.empty());
    EXPECT_EQ(only_call(names).kwargs.size(), 5U);

    expect_rejected(decode(call_text(R"({"1":5})")), error_code::invalid_request, "positional keys", true);
    expect_rejected(decode(call_text(R"({"0":5,"2":6})")), error_code::invalid_request, "positional keys", true);
}

TEST(CodilityServerDecode, DeadlineExtension) {
    const auto job = decode(call_text("{}", R"(,"deadline_ms":1700000000123)"));
    ASSERT_TRUE(only_call(job).deadline_ms.has_value());
    EXPECT_EQ(*only_call(job).deadline_ms, 1700000000123LL);
    EXPECT_FALSE(only_call(decode(call_text("{}", R"(,"deadline_ms":null)"))).deadline_ms.has_value());
    for (const char* extra : {R"(,"deadline_ms":"1")", R"(,"deadline_ms":1.5)", R"(,"deadline_ms":18446744073709551615)"}) {
        expect_rejected(decode(call_text("{}", extra)), error_code::invalid_request, "deadline_ms must be", true);
    }
}

// =============================================================================================
// Server decode: rejections

TEST(CodilityServerDecode, UnusableIdMeansDropped) {
    expect_rejected(decode(R"({"ts":"2024-05-01T12:00:00","kw":{}})"), error_code::invalid_request, "id is missing",
                    false);
    for (const char* id : {"5", "null", "[1]", "{}", "true"}) {
        expect_rejected(decode(std::string(R"({"id":)") + id + R"(,"kw":{}})"), error_code::invalid_request,
                        "id is not a string", false);
    }
    for (const std::string& id : {""s, "a b"s, "../x"s, std::string(129, 'a'), "x*"s, R"(a\nb)"s, R"(\u00e9)"s}) {
        expect_rejected(decode(R"({"id":")" + id + R"(","kw":{}})"), error_code::invalid_request,
                        "[A-Za-z0-9._:-]", false);
    }
}

TEST(CodilityServerDecode, ShapeErrorsAnswered) {
    expect_rejected(decode(call_text("[1,2]")), error_code::invalid_request, "kw must be an object, got array", true);
    expect_rejected(decode(call_text(R"("a=1")")), error_code::invalid_request, "kw must be an object, got string",
                    true);
    expect_rejected(decode(call_text("5")), error_code::invalid_request, "kw must be an object, got number", true);
    for (const char* ts : {R"("yesterday")", "1714564800", R"("2024-05-01")", "[]"}) {
        expect_rejected(decode(R"({"id":")" + uuid + R"(","ts":)" + ts + R"(,"kw":{}})"), error_code::invalid_request,
                        "ts is not an ISO-8601 date-time", true);
    }
}

TEST(CodilityServerDecode, HostileBytesDroppedWithReason) {
    expect_rejected(decode("hello"), error_code::parse_error, "unknown encoding", false);
    expect_rejected(decode("{\"id\":"), error_code::parse_error, "invalid JSON", false);
    expect_rejected(decode("\x80\x04\x95\x1e\x00\x00\x00\x00\x00\x00\x00}\x94("s), error_code::parse_error,
                    "pickle is not accepted", false);
    expect_rejected(decode(std::string(100000, '[') + std::string(100000, ']')), error_code::parse_error,
                    "nesting deeper than 64", false);
    expect_rejected(decode(call_text("{}") + std::string(2 * 1024 * 1024, ' ')), error_code::parse_error,
                    "message too large", false);
    expect_rejected(decode("[1,2]"), error_code::invalid_request, "call is not an object", false);
    expect_rejected(decode(R"("x")"), error_code::invalid_request, "call is not an object", false);
    expect_rejected(decode(R"({"id":"a","id":"b"})"), error_code::parse_error, "duplicate key", false);
    EXPECT_EQ(decode("").problem, "empty message");
}

TEST(CodilityServerDecode, ProblemTextIsShortAndLogSafe) {
    const auto job = decode(R"({"id":")" + std::string(20000, 'A') + R"(\u001b[2J\r\n"})");
    ASSERT_TRUE(job.rejected.has_value());
    EXPECT_LT(job.problem.size(), 500U);
    for (const char c : job.problem) EXPECT_GE(static_cast<unsigned char>(c), 0x20) << job.problem;
    const auto key = decode(call_text("{}"), "evil\x1b[2J:" + std::string(5000, 'k'));
    EXPECT_LT(key.problem.size(), 500U);
    EXPECT_EQ(key.problem.find('\x1b'), std::string::npos);
}

TEST(CodilityServerDecode, SurvivesRandomAndMutatedInput) {
    std::mt19937 rng(4242); // fixed seed: reproducible
    const std::string valid = call_text(R"({"0":5,"b":[1.5,"x",{"c":null}]})", R"(,"deadline_ms":1)");
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
        ASSERT_EQ(job.calls.size() == 1, !job.rejected.has_value()) << job.problem;
        ASSERT_EQ(job.problem.empty(), !job.rejected.has_value());
        if (!job.reply_key.empty()) {
            ASSERT_EQ(job.reply_key.rfind("redis_rpc:add:result:", 0), 0U);
            ASSERT_TRUE(codility_id_ok(job.reply_key.substr(21)));
        }
        std::vector<redisrpc::detail::outgoing_reply> replies;
        ASSERT_NO_THROW(replies = server().encode(job, {}));
        accepted += job.calls.size();
    }
    EXPECT_GT(accepted, 0U);
}

// =============================================================================================
// Server encode

TEST(CodilityServerEncode, ResultsLikeTheOriginals) {
    const auto job = decode(call_text(R"({"number":5})"));
    EXPECT_EQ(reply_payload(job, call_outcome::success(5.0)), R"({"ts":"2024-05-01T12:00:00.123456Z","res":5.0})");
    EXPECT_EQ(reply_payload(job, call_outcome::success(nullptr)), R"({"ts":"2024-05-01T12:00:00.123456Z","res":null})");
    EXPECT_EQ(reply_payload(job, call_outcome::failure(error_code::handler_error, "std::domain_error: division by zero")),
              R"({"ts":"2024-05-01T12:00:00.123456Z","err":"std::domain_error: division by zero"})");
    const auto replies = server().encode(job, std::vector<call_outcome>{call_outcome::success(1)});
    ASSERT_EQ(replies.size(), 1U);
    EXPECT_EQ(replies[0].key, "redis_rpc:add:result:" + uuid);
    EXPECT_EQ(replies[0].ttl, 120s);
}

TEST(CodilityServerEncode, OtherErrorsCarryKindAndCode) {
    const auto job = decode(call_text("{}"));
    EXPECT_EQ(reply_payload(job, call_outcome::failure(error_code::invalid_params, "add: missing argument 1")),
              R"({"ts":"2024-05-01T12:00:00.123456Z","err":"InvalidParams: add: missing argument 1",)"
              R"("error_code":"invalid_params"})");
    EXPECT_EQ(reply_payload(job, call_outcome::failure(error_code::expired, "add: deadline passed")),
              R"({"ts":"2024-05-01T12:00:00.123456Z","err":"Expired: add: deadline passed","error_code":"expired"})");
}

TEST(CodilityServerEncode, RejectionAnswered) {
    const auto job = decode(call_text("[1]"));
    ASSERT_TRUE(job.rejected.has_value());
    const auto replies = server().encode(job, {});
    ASSERT_EQ(replies.size(), 1U);
    EXPECT_EQ(replies[0].key, "redis_rpc:add:result:" + uuid);
    EXPECT_EQ(replies[0].payload, R"({"ts":"2024-05-01T12:00:00.123456Z","err":"InvalidRequest: kw must be an )"
                                  R"(object, got array","error_code":"invalid_request"})");
}

TEST(CodilityServerEncode, UnencodableResultBecomesInternalError) {
    const auto job = decode(call_text("{}"));
    const json reply = json::parse(reply_payload(job, call_outcome::success(json::array({"ok", "bad\xff"}))));
    EXPECT_EQ(reply["error_code"], "internal_error");
    EXPECT_NE(reply["err"].get<std::string>().find("InternalError: result could not be encoded"), std::string::npos);
    EXPECT_EQ(json::parse(reply_payload(job, call_outcome::failure(error_code::handler_error, "bad \xff")))["err"],
              "bad \\xff");
}

TEST(CodilityServerEncode, MsgpackCallGetsMsgpackResult) {
    const json req = {{"id", uuid}, {"ts", "2024-05-01T12:00:00"}, {"kw", {{"number", 5}}}};
    const auto job = decode(encode_body(req, encoding::msgpack));
    EXPECT_EQ(job.enc, encoding::msgpack);
    EXPECT_EQ(only_call(job).kwargs, (json{{"number", 5}}));
    const std::string payload = reply_payload(job, call_outcome::success(10.5));
    EXPECT_EQ(static_cast<unsigned char>(payload[0]), 0x82);
    EXPECT_EQ(json::from_msgpack(payload), (json{{"ts", "2024-05-01T12:00:00.123456Z"}, {"res", 10.5}}));
    EXPECT_EQ(client().decode(payload).outcome.value, 10.5);
}

// =============================================================================================
// Client encode

TEST(CodilityClientEncode, ExactBytes) {
    call_request call;
    call.method = "add";
    call.kwargs = {{"number", 5}};
    call.id = uuid;
    const auto req = client().encode(call, "ignored:rpc:X", encoding::json);
    EXPECT_EQ(req.queue, "redis_rpc:add:calls");
    EXPECT_EQ(req.reply_key, "redis_rpc:add:result:" + uuid);
    ASSERT_TRUE(req.queue_ttl.has_value());
    EXPECT_EQ(*req.queue_ttl, 120s);
    EXPECT_EQ(req.payload, R"({"id":")" + uuid + R"(","ts":"2024-05-01T12:00:00.123456Z","kw":{"number":5}})");

    call_request bare;
    bare.method = "val";
    bare.id = "c1";
    EXPECT_EQ(client().encode(bare, "", encoding::json).payload,
              R"({"id":"c1","ts":"2024-05-01T12:00:00.123456Z","kw":{}})");

    call_request full;
    full.method = "div";
    full.args = json::array({1, "caf\xc3\xa9"});
    full.kwargs = {{"b", 4}};
    full.id = uuid;
    full.deadline_ms = 1700000000000;
    EXPECT_EQ(client().encode(full, "", encoding::json).payload,
              R"({"id":")" + uuid + "\",\"ts\":\"2024-05-01T12:00:00.123456Z\",\"kw\":{\"0\":1,\"1\":\"caf\xc3\xa9\","
              "\"b\":4},\"deadline_ms\":1700000000000}");
}

TEST(CodilityClientEncode, UsageErrors) {
    call_request call;
    call.method = "add";
    EXPECT_THROW((void)client().encode(call, "", encoding::json), usage_error); // no id
    call.id = 5;
    EXPECT_THROW((void)client().encode(call, "", encoding::json), usage_error);
    call.id = "has space";
    EXPECT_THROW((void)client().encode(call, "", encoding::json), usage_error);
    call.id = uuid;
    call.args = json::array({1});
    call.kwargs = {{"0", 2}};
    EXPECT_THROW((void)client().encode(call, "", encoding::json), usage_error); // "0" is a position
    call.kwargs = json::object();
    call.method = "";
    EXPECT_THROW((void)client().encode(call, "", encoding::json), usage_error);
    call.method = "add";
    call.args = json{{"a", 1}};
    EXPECT_THROW((void)client().encode(call, "", encoding::json), usage_error);
    call.args = json::array({"bad\xff"});
    EXPECT_THROW((void)client().encode(call, "", encoding::json), protocol_error);
}

TEST(CodilityClientEncode, RoundTripThroughServerInBothEncodings) {
    call_request call;
    call.method = "div";
    call.args = json::array({1.5, -0.0, 9007199254740993LL, "\xf0\x9f\x98\x80"});
    call.kwargs = {{"b", {{"x", 1}}}};
    call.id = uuid;
    call.deadline_ms = 42;
    for (const auto enc : {encoding::json, encoding::msgpack}) {
        const auto req = client().encode(call, "", enc);
        const auto job = server().decode(req.queue, req.payload);
        const auto& got = only_call(job);
        EXPECT_EQ(job.enc, enc);
        EXPECT_EQ(job.reply_key, req.reply_key);
        EXPECT_EQ(got.method, "div");
        EXPECT_EQ(got.args, call.args);
        EXPECT_EQ(got.kwargs, call.kwargs);
        EXPECT_EQ(got.id, uuid);
        EXPECT_EQ(got.deadline_ms, call.deadline_ms);
        const auto back = client().decode(reply_payload(job, call_outcome::success(json::array({1, "x"}))));
        EXPECT_TRUE(back.outcome.ok);
        EXPECT_EQ(back.outcome.value, json::array({1, "x"}));
    }
}

// =============================================================================================
// Client decode

TEST(CodilityClientDecode, PythonServerResults) {
    const auto ok = client().decode(R"({"ts": "2024-05-01T12:00:00.123456", "res": 5.0, "verbose": false})");
    ASSERT_TRUE(ok.outcome.ok);
    EXPECT_EQ(ok.outcome.value, 5.0);
    EXPECT_TRUE(ok.id.is_null());

    const auto err = client().decode(
        R"({"ts": "2024-05-01T12:00:00.5", "err": "ZeroDivisionError: float division by zero", )"
        R"("err_traceback": "  File \"calc.py\", line 9, in div\nZeroDivisionError: float division by zero\n", )"
        R"("verbose": false})");
    ASSERT_FALSE(err.outcome.ok);
    EXPECT_EQ(err.outcome.code, error_code::handler_error);
    EXPECT_EQ(err.outcome.message, "ZeroDivisionError: float division by zero");
    EXPECT_NE(err.outcome.data.get<std::string>().find("line 9"), std::string::npos);

    const auto nan = client().decode(R"({"ts": "2024-05-01T12:00:00", "res": NaN})");
    ASSERT_TRUE(nan.outcome.ok);
    EXPECT_TRUE(std::isnan(nan.outcome.value.get<double>()));
    EXPECT_TRUE(std::isinf(client().decode(R"({"res": [Infinity]})").outcome.value[0].get<double>()));
}

TEST(CodilityClientDecode, GoServerResults) {
    EXPECT_EQ(client().decode(R"({"ts":"2024-05-01T14:00:00+02:00","res":{"a":[1]}})").outcome.value,
              json::parse(R"({"a":[1]})"));
    const auto err = client().decode(R"({"ts":"2024-05-01T14:00:00+02:00","err":"other error"})");
    EXPECT_FALSE(err.outcome.ok);
    EXPECT_EQ(err.outcome.message, "other error");
}

TEST(CodilityClientDecode, FalsyErrIsNoErrorLikeThePythonClient) {
    for (const char* r : {R"({"err":null,"res":3})", R"({"err":"","res":3})", R"({"err":false,"res":3})"}) {
        const auto d = client().decode(r);
        EXPECT_TRUE(d.outcome.ok) << r;
        EXPECT_EQ(d.outcome.value, 3) << r;
    }
    const auto obj = client().decode(R"({"err":{"type":"E"}})");
    EXPECT_FALSE(obj.outcome.ok);
    EXPECT_EQ(obj.outcome.message, R"({"type":"E"})");
}

TEST(CodilityClientDecode, OurErrorCodesAndKindStripped) {
    const auto d = client().decode(R"({"ts":"x","err":"InvalidParams: add: missing argument 1","error_code":"invalid_params"})");
    EXPECT_EQ(d.outcome.code, error_code::invalid_params);
    EXPECT_EQ(d.outcome.message, "add: missing argument 1");
    EXPECT_EQ(client().decode(R"({"err":"Expired: x","error_code":"expired"})").outcome.message, "x");
    // Kind only stripped when it matches the code.
    EXPECT_EQ(client().decode(R"({"err":"Expired: x","error_code":"invalid_params"})").outcome.message, "Expired: x");
    EXPECT_EQ(client().decode(R"({"err":"InvalidParams: x"})").outcome.message, "InvalidParams: x");
    EXPECT_EQ(client().decode(R"({"err":"x","error_code":"made_up"})").outcome.code, error_code::handler_error);
    EXPECT_EQ(client().decode(R"({"err":"x","error_code":"none"})").outcome.code, error_code::handler_error);
}

TEST(CodilityClientDecode, MalformedResultsThrow) {
    for (const std::string& bad : {R"({})"s, R"({"ts":"x"})"s, R"({"err":null})"s, R"([1])"s, "\"x\""s, "garbage"s,
                                  ""s, R"({"res":1} x)"s, R"({"res":1,"res":2})"s, "\x80\x04\x95"s}) {
        EXPECT_THROW((void)client().decode(bad), protocol_error) << bad;
    }
    message_limits small;
    small.max_bytes = 10;
    EXPECT_THROW((void)codility_client_codec("p", small).decode(R"({"res":12345})"), protocol_error);
}
