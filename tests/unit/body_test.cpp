// Message bodies: encoding detection, strict JSON, MessagePack, limits, lenient NaN.

#include "protocol/body.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

using namespace std::string_literals;
using redisrpc::encoding;
using redisrpc::message_limits;
using redisrpc::protocol_error;
using redisrpc::detail::body_kind;
using redisrpc::detail::decode_body;
using redisrpc::detail::decode_body_lenient_nan;
using redisrpc::detail::encode_body;
using redisrpc::detail::is_valid_utf8;
using redisrpc::detail::json;
using redisrpc::detail::printable;
using redisrpc::detail::sniff_body;

namespace {

json decode(std::string_view bytes, message_limits limits = {}) {
    encoding enc = encoding::json;
    return decode_body(bytes, limits, enc);
}

// The protocol_error text for `bytes`, or "<accepted>".
std::string error_of(std::string_view bytes, message_limits limits = {}, bool lenient = false) {
    encoding enc = encoding::json;
    try {
        if (lenient) {
            (void)decode_body_lenient_nan(bytes, limits, enc);
        } else {
            (void)decode_body(bytes, limits, enc);
        }
    } catch (const protocol_error& ex) {
        return ex.what();
    }
    return "<accepted>";
}

bool contains(const std::string& haystack, std::string_view needle) {
    return haystack.find(needle) != std::string::npos;
}

std::string nested_arrays(std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

std::string bytes_of(std::initializer_list<unsigned> list) {
    std::string s;
    for (unsigned b : list) s += static_cast<char>(b);
    return s;
}

} // namespace

// ---------------------------------------------------------------------------------------------
// Detection

TEST(BodySniff, ClassifiesByFirstByte) {
    EXPECT_EQ(sniff_body("{}"), body_kind::json_text);
    EXPECT_EQ(sniff_body(" \r\n\t[1]"), body_kind::json_text);
    EXPECT_EQ(sniff_body("\"text\""), body_kind::json_text);
    EXPECT_EQ(sniff_body("-1"), body_kind::json_text);
    EXPECT_EQ(sniff_body("7"), body_kind::json_text);
    EXPECT_EQ(sniff_body("true"), body_kind::json_text);
    EXPECT_EQ(sniff_body("null"), body_kind::json_text);
    EXPECT_EQ(sniff_body(bytes_of({0x81, 0xa1, 'a', 0x01})), body_kind::msgpack);
    EXPECT_EQ(sniff_body(bytes_of({0x93})), body_kind::msgpack);
    EXPECT_EQ(sniff_body(bytes_of({0xdc, 0x00, 0x00})), body_kind::msgpack);
    EXPECT_EQ(sniff_body(bytes_of({0xdf, 0, 0, 0, 0})), body_kind::msgpack);
    EXPECT_EQ(sniff_body(bytes_of({0x80})), body_kind::msgpack); // empty map
    EXPECT_EQ(sniff_body("\x80\x04\x95"s), body_kind::pickle);
    EXPECT_EQ(sniff_body("\x80\x02}q"s), body_kind::pickle);
    EXPECT_EQ(sniff_body("<xml/>"), body_kind::unknown);
    EXPECT_EQ(sniff_body("\xef\xbb\xbf{}"), body_kind::unknown); // BOM is not skipped
    EXPECT_EQ(sniff_body(bytes_of({0xa3, 'a', 'b', 'c'})), body_kind::unknown); // msgpack scalar
    EXPECT_EQ(sniff_body(""), body_kind::empty);
    EXPECT_EQ(sniff_body("  \n"), body_kind::empty);
}

TEST(BodyDecode, ReportsDetectedEncoding) {
    encoding enc = encoding::msgpack;
    (void)decode_body("{\"a\":1}", {}, enc);
    EXPECT_EQ(enc, encoding::json);
    const std::string packed = encode_body(json{{"a", 1}}, encoding::msgpack);
    (void)decode_body(packed, {}, enc);
    EXPECT_EQ(enc, encoding::msgpack);
}

TEST(BodyDecode, RejectsEmptyAndUnknown) {
    EXPECT_EQ(error_of(""), "empty message");
    EXPECT_EQ(error_of(" \n "), "empty message");
    EXPECT_EQ(error_of("<xml/>"), "unknown encoding (first byte 0x3c)");
    EXPECT_EQ(error_of("\x00{}"s), "unknown encoding (first byte 0x00)");
}

TEST(BodyDecode, AcceptsAnyJsonValueAtTopLevel) {
    // Decision: any JSON value is decoded; dialects check the top-level shape themselves.
    EXPECT_EQ(decode("\"hello\""), json("hello"));
    EXPECT_EQ(decode(" 42 "), json(42));
    EXPECT_TRUE(decode("null").is_null());
}

// ---------------------------------------------------------------------------------------------
// What the original peers write

TEST(BodyDecode, PythonSpacedJsonWithEscapes) {
    // json.dumps: spaces after , and :, non-ASCII as \uXXXX, surrogate pairs above U+FFFF.
    const json j = decode(R"({"function_call": {"name": "add", "args": ["caf\u00e9", "\ud83d\ude00"]}, )"
                          R"("response_queue": "q:rpc:NM9GEOS9"})");
    EXPECT_EQ(j["function_call"]["args"][0], "caf\xc3\xa9");
    EXPECT_EQ(j["function_call"]["args"][1], "\xf0\x9f\x98\x80");
    EXPECT_EQ(j["response_queue"], "q:rpc:NM9GEOS9");
}

TEST(BodyDecode, RubyCompactRawUtf8) {
    const json j = decode("{\"function_call\":{\"name\":\"add\",\"args\":[\"caf\xc3\xa9\xf0\x9f\x98\x80\"]},"
                          "\"response_queue\":\"q:rpc:0PSZQL34\"}");
    EXPECT_EQ(j["function_call"]["args"][0], "caf\xc3\xa9\xf0\x9f\x98\x80");
}

TEST(BodyDecode, PhpEscapedSlashesAndObjectArgs) {
    const json j = decode(R"({"function_call":{"name":"add","args":{"0":1,"b":"a\/b"}},"response_queue":"q:rpc:n4jbimo3"})");
    EXPECT_EQ(j["function_call"]["args"]["b"], "a/b");
    EXPECT_EQ(j["function_call"]["args"]["0"], 1);
}

TEST(BodyDecode, NumbersAsEachPeerWritesThem) {
    const json j = decode("[1e-07, 1.0e-07, 1.0e-7, -0.0, 9007199254740993, 5, 5.0, 18446744073709551615]");
    EXPECT_EQ(j[0].get<double>(), 1e-7);
    EXPECT_EQ(j[1].get<double>(), 1e-7);
    EXPECT_EQ(j[2].get<double>(), 1e-7);
    ASSERT_TRUE(j[3].is_number_float());
    EXPECT_TRUE(std::signbit(j[3].get<double>()));
    ASSERT_TRUE(j[4].is_number_integer());
    EXPECT_EQ(j[4].get<std::int64_t>(), 9007199254740993LL); // 2^53+1, not rounded
    EXPECT_TRUE(j[5].is_number_integer());
    EXPECT_TRUE(j[6].is_number_float());
    EXPECT_EQ(j[7].get<std::uint64_t>(), 18446744073709551615ULL);
}

// ---------------------------------------------------------------------------------------------
// Strictness

TEST(BodyDecode, RejectsDuplicateKeys) {
    EXPECT_TRUE(contains(error_of(R"({"a":1,"a":2})"), "duplicate key \"a\""));
    EXPECT_TRUE(contains(error_of(R"({"x":{"b":1,"c":2,"b":3}})"), "duplicate key \"b\""));
    // Same key in different objects is fine.
    EXPECT_EQ(error_of(R"({"a":{"a":1},"b":{"a":2}})"), "<accepted>");
}

TEST(BodyDecode, RejectsInvalidUtf8) {
    EXPECT_TRUE(contains(error_of("[\"\xff\"]"), "invalid JSON"));
    EXPECT_TRUE(contains(error_of("[\"\xc0\xaf\"]"), "invalid JSON"));           // overlong '/'
    EXPECT_TRUE(contains(error_of("[\"\xed\xa0\x80\"]"), "invalid JSON"));       // encoded surrogate
    EXPECT_TRUE(contains(error_of("[\"\xf4\x90\x80\x80\"]"), "invalid JSON"));   // > U+10FFFF
    EXPECT_TRUE(contains(error_of("[\"caf\xc3\"]"), "invalid JSON"));            // truncated
    EXPECT_TRUE(contains(error_of(R"(["\ud83d"])"), "invalid JSON"));             // lone surrogate
    EXPECT_TRUE(contains(error_of("{\"\xff\":1}"), "invalid JSON"));             // in a key
}

TEST(BodyDecode, RejectsTrailingBytes) {
    EXPECT_TRUE(contains(error_of(R"({"a":1} x)"), "invalid JSON"));
    EXPECT_TRUE(contains(error_of(R"({"a":1}{"b":2})"), "invalid JSON"));
    EXPECT_TRUE(contains(error_of("{\"a\":1}\0"s), "invalid JSON"));
    // nlohmann's lexer alone would stop at the NUL and accept these.
    EXPECT_EQ(error_of("{\"a\":1}\0garbage"s), "invalid JSON: NUL byte at offset 7");
    EXPECT_EQ(error_of("[\"a\0b\"]"s), "invalid JSON: NUL byte at offset 3");
    EXPECT_EQ(error_of("{\"a\":1}\r\n"), "<accepted>");
}

TEST(BodyDecode, RejectsNonJsonLiterals) {
    EXPECT_TRUE(contains(error_of("[NaN]"), "invalid JSON"));
    EXPECT_TRUE(contains(error_of("[Infinity]"), "invalid JSON"));
    EXPECT_TRUE(contains(error_of("{'a':1}"), "invalid JSON"));
    EXPECT_TRUE(contains(error_of("[1,]"), "invalid JSON"));
    EXPECT_TRUE(contains(error_of("[01]"), "invalid JSON"));
    EXPECT_TRUE(contains(error_of("[1 /* c */]"), "invalid JSON"));
}

TEST(BodyDecode, ErrorMessagesAreLogSafe) {
    const std::string message = error_of("{\"a\":\x01\x1b[31m}");
    EXPECT_TRUE(contains(message, "invalid JSON"));
    for (const char c : message) EXPECT_GE(static_cast<unsigned char>(c), 0x20) << message;
    EXPECT_LT(message.size(), 300U);
}

TEST(BodyDecode, RejectsPickleWithoutInterpretingIt) {
    // pickle.dumps({'function_call': ...}, protocol=4) starts like this.
    const std::string pickle = "\x80\x04\x95\x1e\x00\x00\x00\x00\x00\x00\x00}\x94(\x8c\rfunction_call\x94}\x94u."s;
    encoding enc = encoding::json;
    try {
        (void)decode_body(pickle, {}, enc);
        FAIL() << "pickle accepted";
    } catch (const protocol_error& ex) {
        EXPECT_STREQ(ex.what(), "pickle is not accepted");
    }
    EXPECT_EQ(error_of("\x80\x02}q\x00."s), "pickle is not accepted");
    EXPECT_EQ(error_of("\x80\x05\x95"s), "pickle is not accepted");
}

// ---------------------------------------------------------------------------------------------
// Limits

TEST(BodyLimits, DepthLimitIsExact) {
    message_limits limits;
    limits.max_depth = 64;
    EXPECT_EQ(error_of(nested_arrays(64), limits), "<accepted>");
    EXPECT_EQ(error_of(nested_arrays(65), limits), "nesting deeper than 64");
    std::string objects;
    for (int i = 0; i < 65; ++i) objects += "{\"a\":";
    objects += "1" + std::string(65, '}');
    EXPECT_EQ(error_of(objects, limits), "nesting deeper than 64");
    limits.max_depth = 2;
    EXPECT_EQ(error_of("[[1]]", limits), "<accepted>");
    EXPECT_EQ(error_of("[{\"a\":[]}]", limits), "nesting deeper than 2");
}

TEST(BodyLimits, HugeDepthRejectedFastWithoutBuildingIt) {
    message_limits limits;
    limits.max_bytes = 4 * 1024 * 1024;
    const std::string deep = nested_arrays(100000);
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(error_of(deep, limits), "nesting deeper than 64");
    std::string deep_objects;
    for (int i = 0; i < 100000; ++i) deep_objects += "{\"a\":";
    EXPECT_EQ(error_of(deep_objects, limits), "nesting deeper than 64");
    const std::string deep_msgpack(100000, '\x91'); // [[[[...
    EXPECT_EQ(error_of(deep_msgpack, limits), "nesting deeper than 64");
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

TEST(BodyLimits, SizeCheckedBeforeParsing) {
    // 2 MiB of garbage: the answer is about the size, so it was never parsed.
    const std::string big = "{" + std::string(2 * 1024 * 1024, 'x');
    EXPECT_EQ(error_of(big), "message too large (2097153 bytes, limit 1048576)");
    message_limits limits;
    limits.max_bytes = 7;
    EXPECT_EQ(error_of("[1,2,3]", limits), "<accepted>"); // exactly the limit
    EXPECT_EQ(error_of("[1,2,34]", limits), "message too large (8 bytes, limit 7)");
}

// ---------------------------------------------------------------------------------------------
// MessagePack

TEST(BodyMsgpack, RoundTripsEveryValueKind) {
    const json value = {
        {"function_call", {{"name", "add"}, {"args", {1, -2, 2.5, -0.0, true, nullptr, "caf\xc3\xa9\xf0\x9f\x98\x80"}}}},
        {"big", 18446744073709551615ULL},
        {"neg", -9007199254740993LL},
        {"nested", {{"a", json::array({json::array(), json::object()})}}},
        {"long", std::string(70000, 'z')},
    };
    const std::string packed = encode_body(value, encoding::msgpack);
    const auto reference = json::to_msgpack(value);
    EXPECT_EQ(packed, std::string(reference.begin(), reference.end()));
    encoding enc = encoding::json;
    const json back = decode_body(packed, {}, enc);
    EXPECT_EQ(enc, encoding::msgpack);
    EXPECT_EQ(back, value);
    EXPECT_TRUE(std::signbit(back["function_call"]["args"][3].get<double>()));
    EXPECT_EQ(back["big"].get<std::uint64_t>(), 18446744073709551615ULL);
}

TEST(BodyMsgpack, RejectsTrailingAndTruncatedBytes) {
    std::string packed = encode_body(json{{"a", 1}}, encoding::msgpack);
    EXPECT_EQ(error_of(packed), "<accepted>");
    EXPECT_TRUE(contains(error_of(packed + "\x01"), "invalid MessagePack"));
    EXPECT_TRUE(contains(error_of(packed.substr(0, packed.size() - 1)), "invalid MessagePack"));
    // An array32 claiming 4 billion elements: fails at end of input, allocates nothing big.
    EXPECT_TRUE(contains(error_of(bytes_of({0xdd, 0xff, 0xff, 0xff, 0xff, 0x01})), "invalid MessagePack"));
    // A str32 claiming 4 GiB.
    EXPECT_TRUE(contains(error_of(bytes_of({0x91, 0xdb, 0xff, 0xff, 0xff, 0xff, 'a'})), "invalid MessagePack"));
}

TEST(BodyMsgpack, RejectsBinExtNonStringKeysAndBadUtf8) {
    EXPECT_EQ(error_of(bytes_of({0x91, 0xc4, 0x01, 'A'})), "invalid MessagePack: bin/ext values are not accepted");
    EXPECT_EQ(error_of(bytes_of({0x91, 0xd4, 0x01, 0x00})), "invalid MessagePack: bin/ext values are not accepted");
    EXPECT_TRUE(contains(error_of(bytes_of({0x81, 0x01, 0x02})), "invalid MessagePack"));
    EXPECT_EQ(error_of(bytes_of({0x91, 0xa1, 0xff})), "invalid MessagePack: string is not valid UTF-8");
    EXPECT_EQ(error_of(bytes_of({0x81, 0xa1, 0xff, 0x01})), "invalid MessagePack: key is not valid UTF-8");
    EXPECT_EQ(error_of(bytes_of({0x82, 0xa1, 'a', 0x01, 0xa1, 'a', 0x02})), "duplicate key \"a\"");
}

TEST(BodyMsgpack, EncodeRefusesInvalidUtf8) {
    EXPECT_THROW((void)encode_body(json::array({"ok", "\xff"}), encoding::msgpack), protocol_error);
    EXPECT_THROW((void)encode_body(json{{"\xff", 1}}, encoding::msgpack), protocol_error);
    EXPECT_THROW((void)encode_body(json::binary({1, 2}), encoding::msgpack), protocol_error);
}

// ---------------------------------------------------------------------------------------------
// Lenient NaN (responses only)

TEST(BodyLenientNan, MapsBareNonFiniteTokensToDoubles) {
    const std::string text =
        R"({"res": NaN, "b": [Infinity, -Infinity, null, 1], "s": "NaN \"Infinity\" -Infinity", "n": null})";
    EXPECT_TRUE(contains(error_of(text), "invalid JSON")); // strict decode refuses it
    encoding enc = encoding::msgpack;
    const json j = decode_body_lenient_nan(text, {}, enc);
    EXPECT_EQ(enc, encoding::json);
    ASSERT_TRUE(j["res"].is_number_float());
    EXPECT_TRUE(std::isnan(j["res"].get<double>()));
    EXPECT_EQ(j["b"][0].get<double>(), std::numeric_limits<double>::infinity());
    EXPECT_EQ(j["b"][1].get<double>(), -std::numeric_limits<double>::infinity());
    EXPECT_TRUE(j["b"][2].is_null());
    EXPECT_EQ(j["b"][3], 1);
    EXPECT_EQ(j["s"], "NaN \"Infinity\" -Infinity");
    EXPECT_TRUE(j["n"].is_null());
}

TEST(BodyLenientNan, StillStrictOtherwise) {
    EXPECT_EQ(error_of("NaN", {}, true), "<accepted>");
    EXPECT_TRUE(contains(error_of("[nan]", {}, true), "invalid JSON"));
    EXPECT_TRUE(contains(error_of("[NaNx]", {}, true), "invalid JSON"));
    EXPECT_TRUE(contains(error_of("{NaN: 1}", {}, true), "invalid JSON"));
    EXPECT_TRUE(contains(error_of(R"({"a":NaN,"a":1})", {}, true), "duplicate key"));
    EXPECT_EQ(error_of(nested_arrays(65), {}, true), "nesting deeper than 64");
}

// ---------------------------------------------------------------------------------------------
// Encoding

TEST(BodyEncode, CompactJsonWithRawUtf8) {
    const json value = {{"return_value", json::array({1, 2.5, 5.0, 1e-7, -0.0, "caf\xc3\xa9", "a/b"})}};
    EXPECT_EQ(encode_body(value, encoding::json),
              "{\"return_value\":[1,2.5,5.0,1e-07,-0.0,\"caf\xc3\xa9\",\"a/b\"]}");
    EXPECT_EQ(encode_body(json(std::nan("")), encoding::json), "null");
    EXPECT_EQ(encode_body(json(9007199254740993LL), encoding::json), "9007199254740993");
}

TEST(BodyEncode, InvalidUtf8ThrowsProtocolError) {
    try {
        (void)encode_body(json{{"exception", "bad \xff byte"}}, encoding::json);
        FAIL() << "no exception";
    } catch (const protocol_error& ex) {
        EXPECT_TRUE(contains(ex.what(), "cannot encode")) << ex.what();
    }
}

TEST(BodyEncode, AppendBodyAppends) {
    std::string out = "prefix:";
    redisrpc::detail::append_body(out, json::array({1}), encoding::json);
    EXPECT_EQ(out, "prefix:[1]");
}

// ---------------------------------------------------------------------------------------------
// Helpers

TEST(BodyUtf8, Validator) {
    EXPECT_TRUE(is_valid_utf8(""));
    EXPECT_TRUE(is_valid_utf8("plain ascii text, longer than eight bytes"));
    EXPECT_TRUE(is_valid_utf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf"));
    EXPECT_FALSE(is_valid_utf8("abcdefgh\xff"));
    EXPECT_FALSE(is_valid_utf8("\xc0\x80"));         // overlong NUL
    EXPECT_FALSE(is_valid_utf8("\xe0\x80\xaf"));     // overlong
    EXPECT_FALSE(is_valid_utf8("\xed\xbf\xbf"));     // surrogate
    EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80")); // > U+10FFFF
    EXPECT_FALSE(is_valid_utf8("\xe2\x82"));         // truncated
    EXPECT_FALSE(is_valid_utf8("\x80"));             // lone continuation
}

TEST(BodyPrintable, EscapesAndTruncates) {
    EXPECT_EQ(printable("plain"), "plain");
    EXPECT_EQ(printable("a\nb\tc\rd\x01\x7f"), "a\\nb\\tc\\rd\\x01\\x7f");
    EXPECT_EQ(printable("back\\slash"), "back\\\\slash");
    EXPECT_EQ(printable("caf\xc3\xa9"), "caf\xc3\xa9");
    EXPECT_EQ(printable("bad\xff"), "bad\\xff");
    EXPECT_EQ(printable("\xe2\x80\xae" "evil"), "\\u202eevil"); // RIGHT-TO-LEFT OVERRIDE
    EXPECT_EQ(printable("\xc2\x85"), "\\u0085");                // NEL
    EXPECT_EQ(printable(std::string(500, 'a'), 10), "aaaaaaaaaa...(500 bytes)");
    EXPECT_EQ(printable(std::string("\0", 1)), "\\x00");
}

// append_body writes JSON without nlohmann's serializer for most values: the bytes must be
// exactly what json::dump() writes, and the errors the same.
TEST(BodyEncodeJson, SameBytesAsNlohmannDump) {
    const std::vector<json> values{
        nullptr,
        true,
        false,
        0,
        -1,
        42,
        std::int64_t{-9223372036854775807LL - 1},
        std::uint64_t{18446744073709551615ULL},
        0.0,
        -0.0,
        5.0,
        0.1,
        -2.5e-300,
        1e300,
        123456789.125,
        std::numeric_limits<double>::max(),
        std::numeric_limits<double>::denorm_min(),
        "",
        "plain text",
        "quote\" backslash\\ tab\t nl\n ctl\x01 del\x7f",
        "unicode é € 😀",
        json::array(),
        json::object(),
        json::parse(R"([1,2.5,"x",[null,{"b":1,"a":[true]}],{"k\"ey":"v","é":-0.0}])")};
    for (const auto& v : values) {
        EXPECT_EQ(encode_body(v, encoding::json), v.dump()) << v.dump();
    }
    // Non-finite doubles become null, as nlohmann writes them.
    EXPECT_EQ(encode_body(json(std::nan("")), encoding::json), "null");
    EXPECT_EQ(encode_body(json::array({-INFINITY, 1}), encoding::json), "[null,1]");
}

TEST(BodyEncodeJson, InvalidUtf8IsRefusedAtAnyDepth) {
    EXPECT_THROW((void)encode_body(json("\xff"), encoding::json), protocol_error);
    EXPECT_THROW((void)encode_body(json::array({1, json::object({{"k", "a\xc3"}})}), encoding::json),
                 protocol_error);
    EXPECT_THROW((void)encode_body(json::object({{"\xfe", 1}}), encoding::json), protocol_error);
}

// decode_body reads common documents with its own scanner and hands everything else to
// nlohmann's parser: both must build the same value (same number types too, which MessagePack
// shows), and refusals must keep the full parser's messages.
TEST(BodyDecodeJson, FastPathBuildsWhatNlohmannBuilds) {
    const std::vector<std::string> docs{
        R"({"function_call":{"name":"add","args":[5.0]},"response_queue":"q:rpc:abc","id":"Xy12","deadline_ms":1714564810123})",
        R"({"return_value":6.0,"id":"Xy12"})",
        R"( { "a" : [ 1 , -2 , 0 , -0 , 3.25 , -1e-3 , 2E+10 , true , false , null , "" ] , "b" : { } , "c" : [ ] } )",
        R"(["é € 😀", {"ключ": "значение"}])",
        R"([18446744073709551615, -9223372036854775808, 123456789012345678901234567890, 5e-400])",
        R"({"s":"with \"escape\" and \\ and \u00e9"})",
        "\"plain\"",
        "42",
        "-7",
        "0.5",
        "true",
        "null",
        "[[[[1]]]]",
    };
    for (const auto& doc : docs) {
        const json expected = json::parse(doc);
        EXPECT_EQ(json::to_msgpack(decode(doc)), json::to_msgpack(expected)) << doc;
        encoding enc = encoding::msgpack;
        EXPECT_EQ(json::to_msgpack(decode_body_lenient_nan(doc, {}, enc)), json::to_msgpack(expected)) << doc;
        EXPECT_EQ(enc, encoding::json);
    }
}

TEST(BodyDecodeJson, FastPathLeavesRefusalsToTheFullParser) {
    const std::vector<std::pair<std::string, std::string>> bad{
        {R"({"a":1,"a":2})", "duplicate key"}, {"{\"a\":\"x\ty\"}", "invalid JSON"},
        {"{\"a\":\"\xff\"}", "invalid JSON"},  {R"({"a":01})", "invalid JSON"},
        {R"({"a":1.})", "invalid JSON"},       {R"({"a":1} x)", "invalid JSON"},
        {R"({"a":tru})", "invalid JSON"},      {R"([1,])", "invalid JSON"},
        {"{\"a\":1}\0x"s, "NUL byte"},         {"[[[[1]]]]", "nesting deeper than 3"},
        {"[1e400]", "number overflow"},
    };
    for (const auto& [doc, what] : bad) {
        try {
            (void)decode(doc, message_limits{1024, 3});
            ADD_FAILURE() << "accepted: " << doc;
        } catch (const protocol_error& e) {
            EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << doc << " -> " << e.what();
        }
    }
}
