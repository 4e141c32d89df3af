#pragma once
/// @file
/// Conversions between nlohmann::json and C++ values, with precise error texts.
///
/// Used on both sides: the dispatcher converts handler arguments with from_json_checked() and
/// results with to_json_value(); the client does the reverse for typed results and arguments.
///
/// Conversion rules of from_json_checked<T>():
///
/// | T | accepted JSON |
/// |---|---|
/// | `nlohmann::json` | anything (copied as is) |
/// | `bool` | `true` / `false` only |
/// | integral types | integers in range; floats with an exactly integral value in range (5.0 → 5) |
/// | floating-point types | any number (range-checked for narrower types such as `float`) |
/// | `std::string` | strings only |
/// | `std::string_view` | strings only; the view points into the JSON value, which must outlive it |
/// | `std::optional<U>` | `null` → `std::nullopt`, anything else as U |
/// | `std::vector<U>` | arrays |
/// | `std::array<U, N>`, `std::pair`, `std::tuple` | arrays of exactly that many elements |
/// | `std::map<std::string, U>`, `std::unordered_map<std::string, U>` | objects |
/// | anything else | whatever its ADL `from_json` accepts |
///
/// Errors are thrown as redisrpc::argument_error with texts such as `expected number, got string`,
/// `expected integer, got 5.5`, `expected non-negative integer, got -1`,
/// `4294967296 is out of range for uint32`, `element 2: expected number, got null` (element
/// indices are 0-based, as in the JSON array) or `key 'x': expected string, got boolean`.
/// Callers add their own context in front ("add: argument 1: ...").

#include <redisrpc/error.hpp>

#include <nlohmann/json.hpp>

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

namespace redisrpc {

/// The JSON type name used in error messages: null, boolean, number, string, array, object
/// (and binary for MessagePack/CBOR byte strings).
[[nodiscard]] const char* json_type_name(const nlohmann::json& j) noexcept;

namespace detail {

/// `text` made safe for an error message or a log line: control characters, bytes that are not
/// well-formed UTF-8, C1 controls, line separators and bidi overrides are escaped, and anything
/// beyond about `max_bytes` input bytes is cut and marked. (Defined with the message-body code.)
[[nodiscard]] std::string printable(std::string_view text, std::size_t max_bytes = 128);

// ---- error helpers (defined in src/dispatch/convert.cpp: cold paths stay out of templates) ----

/// Throws argument_error("expected <what>, got <json type name>").
[[noreturn]] void throw_expected(const char* what, const nlohmann::json& j);
/// Throws argument_error("expected <what>, got <j as JSON text>"), e.g. "expected integer, got 5.5".
[[noreturn]] void throw_expected_value(const char* what, const nlohmann::json& j);
/// Throws argument_error("<j as JSON text> is out of range for <int|uint><bits>").
[[noreturn]] void throw_out_of_range(const nlohmann::json& j, bool is_signed, int bits);
/// Throws argument_error("<j as JSON text> is out of range for <type_name>").
[[noreturn]] void throw_out_of_range(const nlohmann::json& j, const char* type_name);
/// Throws argument_error("expected array of <n> elements, got <m>").
[[noreturn]] void throw_wrong_size(std::size_t expected, std::size_t got);
/// Rethrows argument_error("element <index>: <inner>").
[[noreturn]] void throw_in_element(std::size_t index, const argument_error& inner);
/// Rethrows argument_error("key '<key>': <inner>").
[[noreturn]] void throw_in_key(const std::string& key, const argument_error& inner);
/// Rethrows a nlohmann exception as argument_error, without the "[json.exception...]" prefix.
[[noreturn]] void throw_from_nlohmann(const nlohmann::json::exception& e);

// ---- type classification ----

template <class T, template <class...> class Template>
inline constexpr bool is_specialization_v = false;
template <template <class...> class Template, class... Args>
inline constexpr bool is_specialization_v<Template<Args...>, Template> = true;

template <class T>
inline constexpr bool is_std_array_v = false;
template <class T, std::size_t N>
inline constexpr bool is_std_array_v<std::array<T, N>> = true;

template <class T>
inline constexpr bool is_optional_v = is_specialization_v<T, std::optional>;

template <class T>
inline constexpr bool is_string_map_v = false;
template <class V, class Cmp, class Alloc>
inline constexpr bool is_string_map_v<std::map<std::string, V, Cmp, Alloc>> = true;
template <class V, class Hash, class Eq, class Alloc>
inline constexpr bool is_string_map_v<std::unordered_map<std::string, V, Hash, Eq, Alloc>> = true;

template <class T>
inline constexpr bool is_tuple_like_v =
    is_specialization_v<T, std::pair> || is_specialization_v<T, std::tuple>;

/// True when T is converted by a JSON object rather than some other JSON type, or might be (user
/// types via ADL). The dispatcher uses it to tell a Ruby trailing keyword hash from an argument.
template <class T>
constexpr bool may_accept_object() noexcept {
    using U = std::remove_cvref_t<T>;
    if constexpr (is_optional_v<U>) {
        return may_accept_object<typename U::value_type>();
    } else if constexpr (std::is_arithmetic_v<U> || std::is_same_v<U, std::string> ||
                         std::is_same_v<U, std::string_view> || is_std_array_v<U> || is_tuple_like_v<U> ||
                         is_specialization_v<U, std::vector>) {
        return false;
    } else {
        return true; // nlohmann::json, string maps, user types
    }
}

template <class T>
concept json_gettable = requires(const nlohmann::json& j) {
    j.template get<T>();
};

template <class T>
concept json_constructible = std::is_constructible_v<nlohmann::json, T>;

template <class T>
T integer_from_json(const nlohmann::json& j) {
    // char types have no std::in_range; use the standard integer type of the same size and sign.
    using S = std::conditional_t<std::is_signed_v<T>, std::make_signed_t<T>, std::make_unsigned_t<T>>;
    constexpr int bits = std::numeric_limits<S>::digits + (std::is_signed_v<S> ? 1 : 0);
    // Unsigned first: nlohmann's get_ptr<number_integer_t*> also answers for unsigned values.
    if (const auto* u = j.get_ptr<const nlohmann::json::number_unsigned_t*>()) {
        if (!std::in_range<S>(*u))
            throw_out_of_range(j, std::is_signed_v<S>, bits);
        return static_cast<T>(*u);
    }
    if (const auto* i = j.get_ptr<const nlohmann::json::number_integer_t*>()) {
        if constexpr (std::is_unsigned_v<S>) {
            if (*i < 0)
                throw_expected_value("non-negative integer", j);
        }
        if (!std::in_range<S>(*i))
            throw_out_of_range(j, std::is_signed_v<S>, bits);
        return static_cast<T>(*i);
    }
    if (const auto* f = j.get_ptr<const nlohmann::json::number_float_t*>()) {
        const double d = *f;
        if (!(std::trunc(d) == d))
            throw_expected_value("integer", j); // also NaN
        if constexpr (std::is_unsigned_v<S>) {
            if (d < 0)
                throw_expected_value("non-negative integer", j);
        }
        // [min, 2^digits) is exactly representable as double at both ends for every integer type.
        constexpr double upper = static_cast<double>(std::numeric_limits<S>::max() / 2 + 1) * 2.0;
        constexpr double lower = static_cast<double>(std::numeric_limits<S>::min());
        if (!(d >= lower && d < upper))
            throw_out_of_range(j, std::is_signed_v<S>, bits);
        return static_cast<T>(d);
    }
    throw_expected("integer", j);
}

template <class T>
T floating_from_json(const nlohmann::json& j) {
    if (const auto* f = j.get_ptr<const nlohmann::json::number_float_t*>()) {
        if constexpr (std::numeric_limits<T>::max() < std::numeric_limits<double>::max()) {
            if (std::isfinite(*f) && std::fabs(*f) > static_cast<double>(std::numeric_limits<T>::max()))
                throw_out_of_range(j, "float");
        }
        return static_cast<T>(*f);
    }
    // Unsigned first: nlohmann's get_ptr<number_integer_t*> also answers for unsigned values.
    if (const auto* u = j.get_ptr<const nlohmann::json::number_unsigned_t*>())
        return static_cast<T>(*u);
    if (const auto* i = j.get_ptr<const nlohmann::json::number_integer_t*>())
        return static_cast<T>(*i);
    throw_expected("number", j);
}

} // namespace detail

/// Converts `j` to T following the table in this file's description.
/// @throws argument_error with a precise, context-free message ("expected number, got string").
template <class T>
[[nodiscard]] T from_json_checked(const nlohmann::json& j) {
    static_assert(!std::is_reference_v<T> && !std::is_const_v<T>,
                  "from_json_checked: T must be a plain value type");
    if constexpr (std::is_same_v<T, nlohmann::json>) {
        return j;
    } else if constexpr (std::is_same_v<T, bool>) {
        if (const auto* b = j.get_ptr<const nlohmann::json::boolean_t*>())
            return *b;
        detail::throw_expected("boolean", j);
    } else if constexpr (std::is_integral_v<T>) {
        return detail::integer_from_json<T>(j);
    } else if constexpr (std::is_floating_point_v<T>) {
        return detail::floating_from_json<T>(j);
    } else if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, std::string_view>) {
        if (const auto* s = j.get_ptr<const nlohmann::json::string_t*>())
            return T(*s);
        detail::throw_expected("string", j);
    } else if constexpr (detail::is_optional_v<T>) {
        if (j.is_null())
            return std::nullopt;
        return T(from_json_checked<typename T::value_type>(j));
    } else if constexpr (detail::is_specialization_v<T, std::vector>) {
        if (!j.is_array())
            detail::throw_expected("array", j);
        T out;
        out.reserve(j.size());
        std::size_t index = 0;
        for (const auto& element : j) {
            try {
                out.push_back(from_json_checked<typename T::value_type>(element));
            } catch (const argument_error& e) {
                detail::throw_in_element(index, e);
            }
            ++index;
        }
        return out;
    } else if constexpr (detail::is_std_array_v<T> || detail::is_tuple_like_v<T>) {
        if (!j.is_array())
            detail::throw_expected("array", j);
        constexpr std::size_t n = std::tuple_size_v<T>;
        if (j.size() != n)
            detail::throw_wrong_size(n, j.size());
        auto element = [&j]<std::size_t I>(std::integral_constant<std::size_t, I>) {
            try {
                return from_json_checked<std::tuple_element_t<I, T>>(j[I]);
            } catch (const argument_error& e) {
                detail::throw_in_element(I, e);
            }
        };
        // Braced initialisation converts the elements in order, so the first bad one is reported.
        return [&]<std::size_t... I>(std::index_sequence<I...>) {
            return T{element(std::integral_constant<std::size_t, I>{})...};
        }
        (std::make_index_sequence<n>{});
    } else if constexpr (detail::is_string_map_v<T>) {
        if (!j.is_object())
            detail::throw_expected("object", j);
        T out;
        for (const auto& [key, value] : j.items()) {
            try {
                out.emplace(key, from_json_checked<typename T::mapped_type>(value));
            } catch (const argument_error& e) {
                detail::throw_in_key(key, e);
            }
        }
        return out;
    } else if constexpr (detail::json_gettable<T>) {
        try {
            return j.template get<T>();
        } catch (const nlohmann::json::exception& e) {
            detail::throw_from_nlohmann(e);
        }
    } else {
        static_assert(detail::json_gettable<T>,
                      "from_json_checked: no conversion from JSON for this type; provide "
                      "`void from_json(const nlohmann::json&, T&)` in T's namespace");
    }
}

/// Converts a C++ value to JSON: `std::optional` becomes null or its value (also inside vectors,
/// arrays, tuples and string maps), everything else goes through nlohmann (ADL `to_json` for user
/// types). A `void` result is the caller's business (the dispatcher answers null).
template <class T>
[[nodiscard]] nlohmann::json to_json_value(T&& v) {
    using U = std::remove_cvref_t<T>;
    // Moves elements out of containers passed as rvalues, copies otherwise.
    constexpr bool movable = !std::is_lvalue_reference_v<T> && !std::is_const_v<std::remove_reference_t<T>>;
    auto pass = [](auto& x) -> decltype(auto) {
        if constexpr (movable)
            return std::move(x);
        else
            return static_cast<const std::remove_cvref_t<decltype(x)>&>(x);
    };
    if constexpr (std::is_same_v<U, nlohmann::json>) {
        return std::forward<T>(v);
    } else if constexpr (detail::is_optional_v<U>) {
        if (!v.has_value())
            return nullptr;
        return to_json_value(pass(*v));
    } else if constexpr (std::is_same_v<U, std::vector<bool>>) {
        nlohmann::json out = nlohmann::json::array();
        for (bool b : v)
            out.push_back(b);
        return out;
    } else if constexpr (detail::is_specialization_v<U, std::vector> || detail::is_std_array_v<U>) {
        nlohmann::json out = nlohmann::json::array();
        out.get_ref<nlohmann::json::array_t&>().reserve(v.size());
        for (auto& element : v)
            out.push_back(to_json_value(pass(element)));
        return out;
    } else if constexpr (detail::is_tuple_like_v<U>) {
        nlohmann::json out = nlohmann::json::array();
        std::apply([&](auto&... element) { (out.push_back(to_json_value(pass(element))), ...); }, v);
        return out;
    } else if constexpr (detail::is_string_map_v<U>) {
        nlohmann::json out = nlohmann::json::object();
        for (auto& [key, value] : v)
            out.emplace(key, to_json_value(pass(value)));
        return out;
    } else if constexpr (detail::json_constructible<T>) {
        return nlohmann::json(std::forward<T>(v));
    } else {
        static_assert(detail::json_constructible<T>,
                      "to_json_value: no conversion to JSON for this type; provide "
                      "`void to_json(nlohmann::json&, const T&)` in T's namespace");
    }
}

} // namespace redisrpc
