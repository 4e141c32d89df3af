// JSON <-> C++ conversions: what is accepted, what is refused, and the exact error texts.

#include <redisrpc/convert.hpp>

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

namespace {

using json = nlohmann::json;
using redisrpc::argument_error;
using redisrpc::from_json_checked;
using redisrpc::to_json_value;

/// The message of the argument_error that converting `text` to T throws ("" if none).
template <class T>
std::string error_of(std::string_view text) {
    try {
        (void)from_json_checked<T>(json::parse(text));
    } catch (const argument_error& e) {
        return e.what();
    }
    return "";
}

template <class T>
T from(std::string_view text) {
    return from_json_checked<T>(json::parse(text));
}

} // namespace

namespace shapes {

struct point {
    int x = 0;
    int y = 0;
    friend bool operator==(const point&, const point&) = default;
};

void to_json(json& j, const point& p) {
    j = json{{"x", p.x}, {"y", p.y}};
}
void from_json(const json& j, point& p) {
    j.at("x").get_to(p.x);
    j.at("y").get_to(p.y);
}

} // namespace shapes

TEST(ConvertTest, TypeNames) {
    EXPECT_STREQ(redisrpc::json_type_name(json()), "null");
    EXPECT_STREQ(redisrpc::json_type_name(json(true)), "boolean");
    EXPECT_STREQ(redisrpc::json_type_name(json(1)), "number");
    EXPECT_STREQ(redisrpc::json_type_name(json(1u)), "number");
    EXPECT_STREQ(redisrpc::json_type_name(json(1.5)), "number");
    EXPECT_STREQ(redisrpc::json_type_name(json("s")), "string");
    EXPECT_STREQ(redisrpc::json_type_name(json::array()), "array");
    EXPECT_STREQ(redisrpc::json_type_name(json::object()), "object");
}

TEST(ConvertTest, BoolOnlyFromBoolean) {
    EXPECT_TRUE(from<bool>("true"));
    EXPECT_FALSE(from<bool>("false"));
    EXPECT_EQ(error_of<bool>("1"), "expected boolean, got number");
    EXPECT_EQ(error_of<bool>("\"true\""), "expected boolean, got string");
    EXPECT_EQ(error_of<bool>("null"), "expected boolean, got null");
}

TEST(ConvertTest, IntegersFromIntegers) {
    EXPECT_EQ(from<int>("5"), 5);
    EXPECT_EQ(from<int>("-5"), -5);
    EXPECT_EQ(from<std::int64_t>("9223372036854775807"), std::numeric_limits<std::int64_t>::max());
    EXPECT_EQ(from<std::int64_t>("-9223372036854775808"), std::numeric_limits<std::int64_t>::min());
    EXPECT_EQ(from<std::uint64_t>("18446744073709551615"), std::numeric_limits<std::uint64_t>::max());
    EXPECT_EQ(from<std::int8_t>("-128"), -128);
    EXPECT_EQ(from<std::uint8_t>("255"), 255);
    // Values built in C++ (number_integer even when positive) convert too.
    EXPECT_EQ(from_json_checked<unsigned>(json(7)), 7u);
    EXPECT_EQ(from_json_checked<int>(json(7u)), 7);
}

TEST(ConvertTest, IntegersFromIntegralFloats) {
    EXPECT_EQ(from<int>("5.0"), 5); // Python sends 5.0 for an int
    EXPECT_EQ(from<int>("-5.0"), -5);
    EXPECT_EQ(from<unsigned>("-0.0"), 0u);
    EXPECT_EQ(from<std::int64_t>("1e18"), 1000000000000000000);
    EXPECT_EQ(from<std::int64_t>("-9223372036854775808.0"), std::numeric_limits<std::int64_t>::min());
    EXPECT_EQ(error_of<int>("5.5"), "expected integer, got 5.5");
    EXPECT_EQ(error_of<unsigned>("0.25"), "expected integer, got 0.25");
}

TEST(ConvertTest, IntegerRangeNeverWraps) {
    EXPECT_EQ(error_of<unsigned>("-1"), "expected non-negative integer, got -1");
    EXPECT_EQ(error_of<std::uint64_t>("-1"), "expected non-negative integer, got -1");
    EXPECT_EQ(error_of<std::uint32_t>("-1.0"), "expected non-negative integer, got -1.0");
    EXPECT_EQ(error_of<std::uint32_t>("4294967296"), "4294967296 is out of range for uint32");
    EXPECT_EQ(error_of<std::int32_t>("2147483648"), "2147483648 is out of range for int32");
    EXPECT_EQ(error_of<std::int32_t>("-2147483649"), "-2147483649 is out of range for int32");
    EXPECT_EQ(error_of<std::int8_t>("128"), "128 is out of range for int8");
    EXPECT_EQ(error_of<std::int64_t>("9223372036854775808"), "9223372036854775808 is out of range for int64");
    // Beyond uint64 nlohmann parses a float: still out of range, never wrapped or saturated.
    EXPECT_EQ(error_of<std::uint64_t>("18446744073709551616"),
              "1.8446744073709552e+19 is out of range for uint64");
    EXPECT_EQ(error_of<std::int64_t>("9223372036854775808.0"),
              "9.223372036854776e+18 is out of range for int64");
    EXPECT_EQ(error_of<int>("1e300"), "1e+300 is out of range for int32");
}

TEST(ConvertTest, IntegerFromNonNumber) {
    EXPECT_EQ(error_of<int>("\"5\""), "expected integer, got string");
    EXPECT_EQ(error_of<int>("true"), "expected integer, got boolean");
    EXPECT_EQ(error_of<long>("null"), "expected integer, got null");
    EXPECT_EQ(error_of<int>("[]"), "expected integer, got array");
    EXPECT_EQ(error_of<int>("{}"), "expected integer, got object");
}

TEST(ConvertTest, Floating) {
    EXPECT_DOUBLE_EQ(from<double>("1.5"), 1.5);
    EXPECT_DOUBLE_EQ(from<double>("5"), 5.0);
    EXPECT_DOUBLE_EQ(from<double>("-5"), -5.0);
    EXPECT_DOUBLE_EQ(from<double>("18446744073709551615"), 18446744073709551615.0);
    EXPECT_FLOAT_EQ(from<float>("0.5"), 0.5f);
    EXPECT_EQ(error_of<float>("1e300"), "1e+300 is out of range for float");
    EXPECT_EQ(error_of<double>("\"1.5\""), "expected number, got string");
    EXPECT_EQ(error_of<double>("null"), "expected number, got null");
}

TEST(ConvertTest, Strings) {
    EXPECT_EQ(from<std::string>("\"h\\u00e9\""), "h\xc3\xa9");
    EXPECT_EQ(error_of<std::string>("5"), "expected string, got number");
    EXPECT_EQ(error_of<std::string>("null"), "expected string, got null");
    const json j = "view";
    EXPECT_EQ(from_json_checked<std::string_view>(j), "view");
    EXPECT_EQ(error_of<std::string_view>("[]"), "expected string, got array");
}

TEST(ConvertTest, Optional) {
    EXPECT_EQ(from<std::optional<int>>("null"), std::nullopt);
    EXPECT_EQ(from<std::optional<int>>("3"), 3);
    EXPECT_EQ(error_of<std::optional<int>>("\"3\""), "expected integer, got string");
    EXPECT_EQ(from<std::optional<std::optional<int>>>("null"), std::nullopt);
}

TEST(ConvertTest, Vector) {
    EXPECT_EQ(from<std::vector<int>>("[1, 2, 3.0]"), (std::vector<int>{1, 2, 3}));
    EXPECT_EQ(from<std::vector<bool>>("[true, false]"), (std::vector<bool>{true, false}));
    EXPECT_EQ(from<std::vector<std::optional<int>>>("[1, null]"),
              (std::vector<std::optional<int>>{1, std::nullopt}));
    EXPECT_EQ(error_of<std::vector<double>>("[1, 2, null]"), "element 2: expected number, got null");
    EXPECT_EQ(error_of<std::vector<std::vector<int>>>("[[1], [2, \"x\"]]"),
              "element 1: element 1: expected integer, got string");
    EXPECT_EQ(error_of<std::vector<int>>("{}"), "expected array, got object");
}

TEST(ConvertTest, ArrayPairTuple) {
    EXPECT_EQ((from<std::array<int, 3>>("[1, 2, 3]")), (std::array<int, 3>{1, 2, 3}));
    EXPECT_EQ((error_of<std::array<int, 3>>("[1, 2]")), "expected array of 3 elements, got 2");
    EXPECT_EQ((error_of<std::array<int, 1>>("[1, 2]")), "expected array of 1 element, got 2");
    EXPECT_EQ((from<std::pair<std::string, int>>("[\"a\", 1]")), (std::pair<std::string, int>{"a", 1}));
    EXPECT_EQ((error_of<std::pair<std::string, int>>("[\"a\", \"b\"]")),
              "element 1: expected integer, got string");
    EXPECT_EQ((from<std::tuple<int, bool, std::string>>("[1, true, \"x\"]")),
              (std::tuple<int, bool, std::string>{1, true, "x"}));
    // The first bad element is the one reported.
    EXPECT_EQ((error_of<std::tuple<int, int, int>>("[1, null, \"x\"]")),
              "element 1: expected integer, got null");
    EXPECT_EQ((error_of<std::tuple<int>>("5")), "expected array, got number");
}

TEST(ConvertTest, StringMaps) {
    EXPECT_EQ((from<std::map<std::string, int>>(R"({"a": 1, "b": 2})")),
              (std::map<std::string, int>{{"a", 1}, {"b", 2}}));
    EXPECT_EQ((from<std::unordered_map<std::string, double>>(R"({"a": 1})")),
              (std::unordered_map<std::string, double>{{"a", 1.0}}));
    EXPECT_EQ((error_of<std::map<std::string, int>>(R"({"a": 1, "b": "x"})")),
              "key 'b': expected integer, got string");
    EXPECT_EQ((error_of<std::map<std::string, int>>("[]")), "expected object, got array");
    // Keys are escaped in messages (the escaping rule is detail::printable's).
    EXPECT_EQ((error_of<std::map<std::string, int>>(R"({"a\u0000b": "x"})")),
              "key 'a\\x00b': expected integer, got string");
}

TEST(ConvertTest, JsonPassesThrough) {
    const json j = json::parse(R"({"a": [1, null]})");
    EXPECT_EQ(from_json_checked<json>(j), j);
}

TEST(ConvertTest, UserTypesViaAdl) {
    EXPECT_EQ(from<shapes::point>(R"({"x": 1, "y": 2})"), (shapes::point{1, 2}));
    EXPECT_EQ(from<std::vector<shapes::point>>(R"([{"x": 1, "y": 2}])"),
              (std::vector<shapes::point>{{1, 2}}));
    // nlohmann's own errors become argument_error, without the "[json.exception...]" prefix.
    EXPECT_EQ(error_of<shapes::point>(R"({"x": 1})"), "key 'y' not found");
    EXPECT_EQ(error_of<shapes::point>(R"({"x": 1, "y": "2"})"), "type must be number, but is string");
    EXPECT_EQ(error_of<std::vector<shapes::point>>(R"([{"x": 1, "y": 2}, 3])"),
              "element 1: cannot use at() with number");
}

TEST(ConvertTest, ToJsonValue) {
    EXPECT_EQ(to_json_value(5), json(5));
    EXPECT_EQ(to_json_value(std::string("s")), json("s"));
    EXPECT_EQ(to_json_value(std::string_view("sv")), json("sv"));
    EXPECT_EQ(to_json_value("lit"), json("lit"));
    EXPECT_EQ(to_json_value(std::optional<int>()), json(nullptr));
    EXPECT_EQ(to_json_value(std::optional<int>(4)), json(4));
    const std::optional<std::string> o = "x";
    EXPECT_EQ(to_json_value(o), json("x"));
    EXPECT_EQ(to_json_value(std::vector<std::optional<int>>{1, std::nullopt}), json::parse("[1, null]"));
    EXPECT_EQ(to_json_value(std::vector<bool>{true, false}), json::parse("[true, false]"));
    EXPECT_EQ(to_json_value(std::array<int, 2>{1, 2}), json::parse("[1, 2]"));
    EXPECT_EQ(to_json_value(std::make_pair(std::string("a"), std::optional<double>())),
              json::parse(R"(["a", null])"));
    EXPECT_EQ(to_json_value(std::make_tuple(1, true, "x")), json::parse(R"([1, true, "x"])"));
    EXPECT_EQ(to_json_value(std::map<std::string, std::optional<int>>{{"a", 1}, {"b", std::nullopt}}),
              json::parse(R"({"a": 1, "b": null})"));
    EXPECT_EQ(to_json_value(shapes::point{3, 4}), json::parse(R"({"x": 3, "y": 4})"));
    EXPECT_EQ(to_json_value(std::vector<shapes::point>{{3, 4}}), json::parse(R"([{"x": 3, "y": 4}])"));
    EXPECT_EQ(to_json_value(json::parse("[1]")), json::parse("[1]"));
    EXPECT_EQ(to_json_value(nullptr), json(nullptr));
}

TEST(ConvertTest, ToJsonValueMovesFromRvalues) {
    std::vector<std::string> v{std::string(100, 'a')};
    const json j = to_json_value(std::move(v));
    EXPECT_EQ(j[0].get_ref<const std::string&>().size(), 100u);
    EXPECT_TRUE(v[0].empty()); // NOLINT(bugprone-use-after-move): moved-from element, as intended
}

TEST(ConvertTest, RoundTrip) {
    const std::map<std::string, std::vector<std::optional<double>>> value{{"k", {1.5, std::nullopt}}};
    EXPECT_EQ(
        (from_json_checked<std::map<std::string, std::vector<std::optional<double>>>>(to_json_value(value))),
        value);
}
