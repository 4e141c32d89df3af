// The binding layer without any transport: bind functions and objects, call them with JSON.

#include <redisrpc/dispatcher.hpp>
#include <redisrpc/expose.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using json = nlohmann::json;
using redisrpc::argument_error;
using redisrpc::dispatcher;
using redisrpc::unknown_method_error;
using redisrpc::usage_error;

json args(std::string_view text) {
    return json::parse(text);
}
const json no_kwargs = json::object();

/// The message of the exception E that `f` throws ("" if none).
template <class E, class F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const E& e) {
        return e.what();
    }
    return "";
}

double add_free(double a, double b) {
    return a + b;
}

int add_noexcept(int a, int b) noexcept {
    return a + b;
}

class calculator {
public:
    void clr() { value_ = 0; }
    double add(double x) { return value_ += x; }
    double sub(double x) { return value_ -= x; }
    double mul(double x) { return value_ *= x; }
    double div(double x) {
        if (x == 0)
            throw std::domain_error("division by zero");
        return value_ /= x;
    }
    [[nodiscard]] double val() const { return value_; }

private:
    double value_ = 0;
};

struct qualified {
    int base = 10;
    int plain(int x) { return base + x; }
    [[nodiscard]] int constant(int x) const { return base * x; }
    int nothrow(int x) noexcept { return base - x; }
    [[nodiscard]] int const_nothrow(int x) const noexcept { return x - base; }
    int lvalue_only(int x) & { return base + 2 * x; }
    [[nodiscard]] int const_lvalue(int x) const& { return base + 3 * x; }
};

struct derived : qualified {
    derived() { base = 100; }
};

} // namespace

namespace geo {

struct point {
    double x = 0;
    double y = 0;
};

void to_json(json& j, const point& p) {
    j = json{{"x", p.x}, {"y", p.y}};
}
void from_json(const json& j, point& p) {
    j.at("x").get_to(p.x);
    j.at("y").get_to(p.y);
}

} // namespace geo

// ---- kinds of callables ----

TEST(DispatcherTest, FreeFunctionAndPointer) {
    dispatcher d;
    d.bind("add", add_free);
    d.bind("add_ptr", &add_free);
    d.bind("add_noexcept", add_noexcept);
    EXPECT_EQ(d.invoke("add", args("[1, 2.5]"), no_kwargs), json(3.5));
    EXPECT_EQ(d.invoke("add_ptr", args("[1, 2]"), no_kwargs), json(3.0));
    EXPECT_EQ(d.invoke("add_noexcept", args("[1, 2]"), no_kwargs), json(3));
}

TEST(DispatcherTest, Lambdas) {
    dispatcher d;
    int calls = 0;
    d.bind("hypot", [](double x, double y) { return std::hypot(x, y); });
    d.bind("count", [&calls] { return ++calls; });
    d.bind("counter", [n = 0]() mutable { return ++n; });
    d.bind("noexcept_lambda", [](int x) noexcept { return x * 2; });
    EXPECT_EQ(d.invoke("hypot", args("[3, 4]"), no_kwargs), json(5.0));
    EXPECT_EQ(d.invoke("count", args("[]"), no_kwargs), json(1));
    EXPECT_EQ(d.invoke("count", args("[]")), json(2));
    EXPECT_EQ(calls, 2);
    EXPECT_EQ(d.invoke("counter", args("[]")), json(1));
    EXPECT_EQ(d.invoke("counter", args("[]")), json(2));
    EXPECT_EQ(d.invoke("noexcept_lambda", args("[21]")), json(42));
}

TEST(DispatcherTest, StdFunctionAndFunctor) {
    struct scale {
        double factor;
        double operator()(double x) const { return factor * x; }
    };
    dispatcher d;
    std::function<std::string(const std::string&, int)> repeat = [](const std::string& s, int n) {
        std::string out;
        for (int i = 0; i < n; ++i)
            out += s;
        return out;
    };
    d.bind("repeat", repeat);
    d.bind("scale", scale{2.5});
    EXPECT_EQ(d.invoke("repeat", args(R"(["ab", 3])")), json("ababab"));
    EXPECT_EQ(d.invoke("scale", args("[2]")), json(5.0));
}

TEST(DispatcherTest, MoveOnlyCallable) {
    dispatcher d;
    auto owned = std::make_unique<int>(7);
    d.bind("owned", [p = std::move(owned)] { return *p; });
    EXPECT_EQ(d.invoke("owned", args("[]")), json(7));
}

TEST(DispatcherTest, MemberFunctionsWithEveryQualifier) {
    qualified q;
    dispatcher d;
    d.bind("plain", &qualified::plain, &q);
    d.bind("constant", &qualified::constant, &q);
    d.bind("nothrow", &qualified::nothrow, &q);
    d.bind("const_nothrow", &qualified::const_nothrow, &q);
    d.bind("lvalue_only", &qualified::lvalue_only, &q);
    d.bind("const_lvalue", &qualified::const_lvalue, &q);
    EXPECT_EQ(d.invoke("plain", args("[1]")), json(11));
    EXPECT_EQ(d.invoke("constant", args("[2]")), json(20));
    EXPECT_EQ(d.invoke("nothrow", args("[3]")), json(7));
    EXPECT_EQ(d.invoke("const_nothrow", args("[13]")), json(3));
    EXPECT_EQ(d.invoke("lvalue_only", args("[1]")), json(12));
    EXPECT_EQ(d.invoke("const_lvalue", args("[1]")), json(13));
    q.base = 0; // bound by pointer: the dispatcher sees the live object
    EXPECT_EQ(d.invoke("plain", args("[1]")), json(1));
}

TEST(DispatcherTest, ConstObjectAndDerivedObject) {
    const qualified cq;
    derived dv;
    dispatcher d;
    d.bind("constant", &qualified::constant, &cq);
    d.bind("derived_plain", &qualified::plain, &dv);
    EXPECT_EQ(d.invoke("constant", args("[3]")), json(30));
    EXPECT_EQ(d.invoke("derived_plain", args("[1]")), json(101));
}

TEST(DispatcherTest, SharedPtrObjectIsKeptAlive) {
    auto calc = std::make_shared<calculator>();
    std::weak_ptr<calculator> weak = calc;
    {
        dispatcher d;
        d.bind("add", &calculator::add, calc);
        d.bind("val", &calculator::val, std::shared_ptr<const calculator>(calc));
        calc.reset();
        EXPECT_FALSE(weak.expired());
        EXPECT_EQ(d.invoke("add", args("[2]")), json(2.0));
        EXPECT_EQ(d.invoke("val", args("[]")), json(2.0));
    }
    EXPECT_TRUE(weak.expired());
}

TEST(DispatcherTest, ExposeCalculator) {
    calculator calc;
    dispatcher d;
    REDISRPC_EXPOSE(d, calc, clr, add, sub, mul, div, val);
    EXPECT_EQ(d.names(), (std::vector<std::string>{"add", "clr", "div", "mul", "sub", "val"}));
    EXPECT_EQ(d.invoke("clr", args("[]")), json(nullptr));
    EXPECT_EQ(d.invoke("add", args("[5]")), json(5.0));
    EXPECT_EQ(d.invoke("sub", args("[3]")), json(2.0));
    EXPECT_EQ(d.invoke("mul", args("[4]")), json(8.0));
    EXPECT_EQ(d.invoke("div", args("[2]")), json(4.0));
    EXPECT_EQ(d.invoke("val", args("[]")), json(4.0));
    EXPECT_DOUBLE_EQ(calc.val(), 4.0);
}

TEST(DispatcherTest, ExposeInsideIfAndWithReferenceToConst) {
    calculator calc;
    const calculator& view = calc;
    dispatcher d;
    if (d.size() == 0)
        REDISRPC_EXPOSE(d, calc, add);
    else
        FAIL();
    REDISRPC_EXPOSE(d, view, val);
    EXPECT_EQ(d.invoke("add", args("[1]")), json(1.0));
    EXPECT_EQ(d.invoke("val", args("[]")), json(1.0));
}

namespace {
struct wide {
    int m01() { return 1; }
    int m02() { return 2; }
    int m03() { return 3; }
    int m04() { return 4; }
    int m05() { return 5; }
    int m06() { return 6; }
    int m07() { return 7; }
    int m08() { return 8; }
    int m09() { return 9; }
    int m10() { return 10; }
    int m11() { return 11; }
    int m12() { return 12; }
    int m13() { return 13; }
    int m14() { return 14; }
    int m15() { return 15; }
    int m16() { return 16; }
    int m17() { return 17; }
    int m18() { return 18; }
    int m19() { return 19; }
    int m20() { return 20; }
    int m21() { return 21; }
    int m22() { return 22; }
    int m23() { return 23; }
    int m24() { return 24; }
    int m25() { return 25; }
    int m26() { return 26; }
    int m27() { return 27; }
    int m28() { return 28; }
    int m29() { return 29; }
    int m30() { return 30; }
    int m31() { return 31; }
    int m32() { return 32; }
};
} // namespace

TEST(DispatcherTest, ExposeThirtyTwoMethods) {
    wide w;
    dispatcher d;
    REDISRPC_EXPOSE(d, w, m01, m02, m03, m04, m05, m06, m07, m08, m09, m10, m11, m12, m13, m14, m15, m16, m17,
                    m18, m19, m20, m21, m22, m23, m24, m25, m26, m27, m28, m29, m30, m31, m32);
    ASSERT_EQ(d.size(), 32u);
    EXPECT_EQ(d.invoke("m01", args("[]")), json(1));
    EXPECT_EQ(d.invoke("m32", args("[]")), json(32));
}

// ---- argument and result types ----

TEST(DispatcherTest, UserStructAsArgumentAndResult) {
    dispatcher d;
    d.bind("mid", [](const geo::point& a, const geo::point& b) {
        return geo::point{(a.x + b.x) / 2, (a.y + b.y) / 2};
    });
    EXPECT_EQ(d.invoke("mid", args(R"([{"x": 0, "y": 0}, {"x": 2, "y": 4}])")),
              args(R"({"x": 1.0, "y": 2.0})"));
    EXPECT_EQ(
        error_of<argument_error>([&] { (void)d.invoke("mid", args(R"([{"x": 0}, {"x": 2, "y": 4}])")); }),
        "mid: argument 1: key 'y' not found");
}

TEST(DispatcherTest, ParameterKinds) {
    dispatcher d;
    d.bind("by_ref", [](std::string& s) {
        s += "!";
        return s;
    });
    d.bind("by_rvalue", [](std::string&& s) { return std::move(s) + "?"; });
    d.bind("view", [](std::string_view s) { return s.size(); });
    d.bind("vec", [](const std::vector<int>& v) {
        int sum = 0;
        for (int x : v)
            sum += x;
        return sum;
    });
    d.bind("raw", [](const json& j) { return j.size(); });
    EXPECT_EQ(d.invoke("by_ref", args(R"(["a"])")), json("a!"));
    EXPECT_EQ(d.invoke("by_rvalue", args(R"(["a"])")), json("a?"));
    EXPECT_EQ(d.invoke("view", args(R"(["abc"])")), json(3));
    EXPECT_EQ(d.invoke("vec", args("[[1, 2, 3]]")), json(6));
    EXPECT_EQ(d.invoke("raw", args(R"([{"a": 1, "b": 2}])")), json(2));
    EXPECT_EQ(error_of<argument_error>([&] { (void)d.invoke("vec", args("[[1, null]]")); }),
              "vec: argument 1: element 1: expected integer, got null");
}

TEST(DispatcherTest, VoidReturnIsNull) {
    dispatcher d;
    int seen = 0;
    d.bind("set", [&seen](int v) { seen = v; });
    EXPECT_EQ(d.invoke("set", args("[9]")), json(nullptr));
    EXPECT_EQ(seen, 9);
}

TEST(DispatcherTest, OptionalResults) {
    dispatcher d;
    d.bind("maybe", [](bool b) { return b ? std::optional<int>(1) : std::nullopt; });
    EXPECT_EQ(d.invoke("maybe", args("[true]")), json(1));
    EXPECT_EQ(d.invoke("maybe", args("[false]")), json(nullptr));
}

TEST(DispatcherTest, IntegerConversions) {
    dispatcher d;
    d.bind("u", [](unsigned x) { return x; });
    d.bind("i64", [](std::int64_t x) { return x; });
    d.bind("i", [](int x) { return x; });
    EXPECT_EQ(d.invoke("i", args("[5.0]")), json(5));
    EXPECT_EQ(error_of<argument_error>([&] { (void)d.invoke("i", args("[5.5]")); }),
              "i: argument 1: expected integer, got 5.5");
    EXPECT_EQ(error_of<argument_error>([&] { (void)d.invoke("u", args("[-1]")); }),
              "u: argument 1: expected non-negative integer, got -1");
    EXPECT_EQ(error_of<argument_error>([&] { (void)d.invoke("i64", args("[9223372036854775808]")); }),
              "i64: argument 1: 9223372036854775808 is out of range for int64");
}

// ---- optional parameters and keyword arguments ----

TEST(DispatcherTest, TrailingOptionalsMayBeOmitted) {
    dispatcher d;
    d.bind("greet",
           [](const std::string& name, std::optional<std::string> greeting, std::optional<int> times) {
               std::string out;
               for (int i = 0; i < times.value_or(1); ++i)
                   out += greeting.value_or("hello") + " " + name + ";";
               return out;
           });
    EXPECT_EQ(d.invoke("greet", args(R"(["bob"])")), json("hello bob;"));
    EXPECT_EQ(d.invoke("greet", args(R"(["bob", "hi"])")), json("hi bob;"));
    EXPECT_EQ(d.invoke("greet", args(R"(["bob", null, 2])")), json("hello bob;hello bob;"));
    EXPECT_EQ(error_of<argument_error>([&] { (void)d.invoke("greet", args("[]")); }),
              "greet: expected 1 to 3 arguments, got 0");
    EXPECT_EQ(error_of<argument_error>([&] { (void)d.invoke("greet", args(R"(["a", "b", 1, 2])")); }),
              "greet: expected 1 to 3 arguments, got 4");
}

TEST(DispatcherTest, OptionalBeforeRequiredMustBeGivenPositionally) {
    dispatcher d;
    d.bind("f", [](std::optional<int> a, int b) { return a.value_or(-1) + b; }, {"a", "b"});
    EXPECT_EQ(d.invoke("f", args("[null, 1]")), json(0));
    EXPECT_EQ(error_of<argument_error>([&] { (void)d.invoke("f", args("[1]")); }),
              "f: expected 2 arguments, got 1");
    // By keyword it may be left out.
    EXPECT_EQ(d.invoke("f", args("[]"), args(R"({"b": 5})")), json(4));
}

TEST(DispatcherTest, KeywordArguments) {
    dispatcher d;
    d.bind("div", [](double a, double b) { return a / b; }, {"a", "b"});
    EXPECT_EQ(d.invoke("div", args("[]"), args(R"({"a": 1, "b": 4})")), json(0.25));
    EXPECT_EQ(d.invoke("div", args("[]"), args(R"({"b": 4, "a": 1})")), json(0.25));
    EXPECT_EQ(d.invoke("div", args("[1]"), args(R"({"b": 4})")), json(0.25));
    EXPECT_EQ(d.invoke("div", args("[1, 4]"), json(nullptr)), json(0.25)); // null kwargs = none
    EXPECT_EQ(
        error_of<argument_error>([&] { (void)d.invoke("div", args("[]"), args(R"({"a": 1, "c": 4})")); }),
        "div: unknown keyword argument 'c'");
    EXPECT_EQ(
        error_of<argument_error>([&] { (void)d.invoke("div", args("[1]"), args(R"({"a": 1, "b": 4})")); }),
        "div: argument 1 ('a') given both positionally and by keyword");
    EXPECT_EQ(error_of<argument_error>([&] { (void)d.invoke("div", args("[]"), args(R"({"a": 1})")); }),
              "div: missing argument 2 ('b')");
    EXPECT_EQ(
        error_of<argument_error>([&] { (void)d.invoke("div", args("[]"), args(R"({"a": 1, "b": "x"})")); }),
        "div: argument 2: expected number, got string");
    EXPECT_EQ(
        error_of<argument_error>([&] { (void)d.invoke("div", args("[1, 2, 3]"), args(R"({"a": 1})")); }),
        "div: expected 2 arguments, got 3");
}

TEST(DispatcherTest, KeywordsNeedNames) {
    dispatcher d;
    d.bind("div", [](double a, double b) { return a / b; });
    EXPECT_EQ(
        error_of<argument_error>([&] { (void)d.invoke("div", args("[]"), args(R"({"a": 1, "b": 4})")); }),
        "div: keyword arguments need parameter names (bind with names)");
}

TEST(DispatcherTest, MemberFunctionWithNames) {
    calculator calc;
    dispatcher d;
    d.bind("add", &calculator::add, &calc, {"x"});
    EXPECT_EQ(d.invoke("add", args("[]"), args(R"({"x": 2})")), json(2.0));
    auto shared = std::make_shared<calculator>();
    d.bind("add2", &calculator::add, shared, {"x"});
    EXPECT_EQ(d.invoke("add2", args("[]"), args(R"({"x": 3})")), json(3.0));
}

TEST(DispatcherTest, RubyTrailingKeywordHash) {
    dispatcher d;
    d.bind("div", [](double a, double b) { return a / b; }, {"a", "b"});
    d.bind("opt", [](int a, std::optional<int> b) { return a * 10 + b.value_or(0); }, {"a", "b"});
    d.bind("raw", [](int a, const json& options) { return json{a, options}; }, {"a", "options"});
    // div(a: 1, b: 4): required parameters would be missing.
    EXPECT_EQ(d.invoke("div", args(R"([{"a": 1, "b": 4}])")), json(0.25));
    // div(1, b: 4): a number parameter cannot take the hash.
    EXPECT_EQ(d.invoke("div", args(R"([1, {"b": 4}])")), json(0.25));
    // opt(1, b: 2) and opt(a: 1).
    EXPECT_EQ(d.invoke("opt", args(R"([1, {"b": 2}])")), json(12));
    EXPECT_EQ(d.invoke("opt", args(R"([{"a": 1}])")), json(10));
    // More elements than parameters.
    EXPECT_EQ(d.invoke("opt", args(R"([1, 2, {}])")), json(12));
    // A parameter that takes objects keeps the object as its argument.
    EXPECT_EQ(d.invoke("raw", args(R"([1, {"a": 2}])")), args(R"([1, {"a": 2}])"));
    EXPECT_EQ(d.invoke("raw", args(R"([1, {"options": 2}])")), args(R"([1, {"options": 2}])"));
    // Keys that are not parameter names: not keywords, so an ordinary type error.
    EXPECT_EQ(error_of<argument_error>([&] { (void)d.invoke("div", args(R"([1, {"c": 4}])")); }),
              "div: argument 2: expected number, got object");
    // Keyword hash naming an argument already given positionally.
    EXPECT_EQ(error_of<argument_error>([&] { (void)d.invoke("div", args(R"([1, {"a": 4}])")); }),
              "div: argument 1 ('a') given both positionally and by keyword");
    // Without parameter names there is no keyword interpretation.
    dispatcher unnamed;
    unnamed.bind("div", [](double a, double b) { return a / b; });
    EXPECT_EQ(error_of<argument_error>([&] { (void)unnamed.invoke("div", args(R"([{"a": 1, "b": 4}])")); }),
              "div: expected 2 arguments, got 1");
}

// ---- errors ----

TEST(DispatcherTest, ArityErrors) {
    dispatcher d;
    d.bind("add", [](double a, double b) { return a + b; });
    d.bind("one", [](int a) { return a; });
    d.bind("none", [] { return 0; });
    EXPECT_EQ(error_of<argument_error>([&] { (void)d.invoke("add", args("[1, 2, 3]")); }),
              "add: expected 2 arguments, got 3");
    EXPECT_EQ(error_of<argument_error>([&] { (void)d.invoke("add", args("[1]")); }),
              "add: expected 2 arguments, got 1");
    EXPECT_EQ(error_of<argument_error>([&] { (void)d.invoke("one", args("[]")); }),
              "one: expected 1 argument, got 0");
    EXPECT_EQ(error_of<argument_error>([&] { (void)d.invoke("none", args("[1]")); }),
              "none: expected 0 arguments, got 1");
}

TEST(DispatcherTest, TypeErrorsNameTheArgument) {
    dispatcher d;
    d.bind("add", [](double a, double b) { return a + b; });
    d.bind("flag", [](int, bool b) { return b; });
    EXPECT_EQ(error_of<argument_error>([&] { (void)d.invoke("add", args(R"(["1", 2])")); }),
              "add: argument 1: expected number, got string");
    EXPECT_EQ(error_of<argument_error>([&] { (void)d.invoke("add", args(R"([1, null])")); }),
              "add: argument 2: expected number, got null");
    // Both wrong: the first one is reported.
    EXPECT_EQ(error_of<argument_error>([&] { (void)d.invoke("add", args(R"([[], {}])")); }),
              "add: argument 1: expected number, got array");
    EXPECT_EQ(error_of<argument_error>([&] { (void)d.invoke("flag", args("[1, 1]")); }),
              "flag: argument 2: expected boolean, got number");
}

TEST(DispatcherTest, MalformedArgumentContainers) {
    dispatcher d;
    d.bind("f", [](int a) { return a; });
    EXPECT_EQ(error_of<argument_error>([&] { (void)d.invoke("f", args(R"({"a": 1})")); }),
              "f: positional arguments must be an array, got object");
    EXPECT_EQ(error_of<argument_error>([&] { (void)d.invoke("f", args("[1]"), args("[]")); }),
              "f: keyword arguments must be an object, got array");
}

TEST(DispatcherTest, ManyParameters) {
    dispatcher d;
    d.bind("sum10",
           [](int a, int b, int c, int e, int f, int g, int h, int i, int j, std::optional<int> k) {
               return a + b + c + e + f + g + h + i + j + k.value_or(100);
           },
           {"a", "b", "c", "e", "f", "g", "h", "i", "j", "k"});
    EXPECT_EQ(d.invoke("sum10", args("[1, 1, 1, 1, 1, 1, 1, 1, 1, 1]")), json(10));
    EXPECT_EQ(d.invoke("sum10", args("[1, 1, 1, 1, 1, 1, 1, 1, 1]")), json(109));
    EXPECT_EQ(d.invoke("sum10", args("[1, 1, 1, 1, 1, 1, 1, 1]"), args(R"({"j": 2, "k": 0})")), json(10));
    EXPECT_EQ(error_of<argument_error>(
                  [&] { (void)d.invoke("sum10", args("[1, 1, 1, 1, 1, 1, 1, 1, 1, \"x\"]")); }),
              "sum10: argument 10: expected integer, got string");
}

TEST(DispatcherTest, UnknownMethodsMatchExactly) {
    dispatcher d;
    d.bind("add", [](double a, double b) { return a + b; });
    EXPECT_TRUE(d.contains("add"));
    EXPECT_FALSE(d.contains("ADD"));
    EXPECT_FALSE(d.contains("ad"));
    EXPECT_FALSE(d.contains("add "));
    EXPECT_FALSE(d.contains(std::string_view("add\0", 4)));
    EXPECT_EQ(error_of<unknown_method_error>([&] { (void)d.invoke("ADD", args("[1, 2]")); }),
              "unknown method 'ADD'");
    EXPECT_EQ(error_of<unknown_method_error>(
                  [&] { (void)d.invoke(std::string_view("add\0x", 5), args("[1, 2]")); }),
              "unknown method 'add\\x00x'");
    try {
        (void)d.invoke(std::string_view("add\0x", 5), args("[1, 2]"));
        FAIL();
    } catch (const unknown_method_error& e) {
        EXPECT_EQ(e.method(), std::string_view("add\0x", 5));
    }
    // An unknown method is reported before anything about its arguments.
    EXPECT_THROW((void)d.invoke("nope", json(5), json(5)), unknown_method_error);
    EXPECT_THROW((void)d.invoke("", args("[]")), unknown_method_error);
}

TEST(DispatcherTest, HandlerExceptionsPropagateUnchanged) {
    calculator calc;
    dispatcher d;
    d.bind("div", &calculator::div, &calc);
    d.bind("throws_arg", []() -> int { throw argument_error("custom"); });
    EXPECT_THROW((void)d.invoke("div", args("[0]")), std::domain_error);
    EXPECT_EQ(error_of<argument_error>([&] { (void)d.invoke("throws_arg", args("[]")); }), "custom");
}

TEST(DispatcherTest, DescribeException) {
    EXPECT_EQ(redisrpc::describe_exception(std::domain_error("division by zero")),
              "std::domain_error: division by zero");
    EXPECT_EQ(redisrpc::describe_exception(std::runtime_error("x")), "std::runtime_error: x");
    EXPECT_EQ(redisrpc::describe_exception(argument_error("y")), "redisrpc::argument_error: y");
    try {
        (void)json(1).at("k");
    } catch (const std::exception& e) {
        EXPECT_EQ(
            redisrpc::describe_exception(e),
            "nlohmann::detail::type_error: [json.exception.type_error.304] cannot use at() with number");
    }
    const std::exception& base = std::out_of_range("z"); // dynamic type, not static
    EXPECT_EQ(redisrpc::describe_exception(base), "std::out_of_range: z");
    calculator calc;
    dispatcher d;
    d.bind("div", &calculator::div, &calc);
    try {
        (void)d.invoke("div", args("[0]"));
        FAIL();
    } catch (const std::exception& e) {
        EXPECT_EQ(redisrpc::describe_exception(e), "std::domain_error: division by zero");
    }
}

TEST(DispatcherTest, DescribeCurrentException) {
    try {
        throw std::logic_error("bad");
    } catch (...) {
        EXPECT_EQ(redisrpc::describe_current_exception(), "std::logic_error: bad");
    }
    try {
        throw 42;
    } catch (...) {
        EXPECT_EQ(redisrpc::describe_current_exception(), "unknown exception of type int");
    }
    EXPECT_EQ(redisrpc::describe_current_exception(), "no exception");
}

// ---- binding rules ----

TEST(DispatcherTest, BindingMistakes) {
    dispatcher d;
    d.bind("f", [] {});
    EXPECT_EQ(error_of<usage_error>([&] { d.bind("f", [] {}); }), "bind: 'f' is already bound");
    EXPECT_EQ(error_of<usage_error>([&] { d.bind("", [] {}); }), "bind: method name must not be empty");
    EXPECT_EQ(error_of<usage_error>([&] { d.bind("g", [](int, int) {}, {"a"}); }),
              "bind: g: 1 parameter names for 2 parameters");
    EXPECT_EQ(error_of<usage_error>([&] {
                  d.bind("g", [](int, int) {}, {"a", "a"});
              }),
              "bind: g: parameter name 'a' is used twice");
    EXPECT_EQ(error_of<usage_error>([&] {
                  d.bind("g", [](int, int) {}, {"a", ""});
              }),
              "bind: g: parameter name 2 is empty");
    double (*null_fn)(double, double) = nullptr;
    EXPECT_EQ(error_of<usage_error>([&] { d.bind("g", null_fn); }), "bind: g: null function");
    EXPECT_EQ(error_of<usage_error>([&] { d.bind("g", std::function<void()>()); }), "bind: g: null function");
    calculator* null_calc = nullptr;
    EXPECT_EQ(error_of<usage_error>([&] { d.bind("g", &calculator::add, null_calc); }),
              "bind: g: null object");
    EXPECT_EQ(error_of<usage_error>([&] { d.bind("g", &calculator::add, std::shared_ptr<calculator>()); }),
              "bind: g: null object");
    EXPECT_FALSE(d.contains("g"));
    EXPECT_EQ(d.names(), std::vector<std::string>{"f"});
}

TEST(DispatcherTest, NamesAreSorted) {
    dispatcher d;
    for (const char* n : {"zeta", "Alpha", "alpha", "beta"})
        d.bind(n, [] {});
    EXPECT_EQ(d.names(), (std::vector<std::string>{"Alpha", "alpha", "beta", "zeta"}));
    EXPECT_EQ(d.size(), 4u);
}

TEST(DispatcherTest, DispatcherIsMovable) {
    dispatcher a;
    a.bind("f", [] { return 1; });
    dispatcher b = std::move(a);
    EXPECT_EQ(b.invoke("f", args("[]")), json(1));
}

TEST(DispatcherTest, ConcurrentInvoke) {
    dispatcher d;
    std::atomic<int> total{0};
    d.bind("add", [&total](int x) { return total += x; });
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&d] {
            const json one = args("[1]");
            for (int i = 0; i < 1000; ++i)
                (void)d.invoke("add", one, no_kwargs);
        });
    }
    for (auto& t : threads)
        t.join();
    EXPECT_EQ(total.load(), 4000);
}
