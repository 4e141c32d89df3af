#pragma once
// Turning command-line words into call arguments and durations.

#include <nlohmann/json.hpp>

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace redisrpc::cli {

/// A word as a JSON value: the word itself when it is valid JSON (`5`, `true`, `"x"`, `[1,2]`,
/// `{"a":1}`, `null`), else the word as a string (`hello` -> "hello").
[[nodiscard]] nlohmann::json parse_value(std::string_view word);

/// Positional and keyword arguments of a call.
struct call_arguments {
    nlohmann::json args = nlohmann::json::array();    ///< positional, in order
    nlohmann::json kwargs = nlohmann::json::object(); ///< by name
};

/// True when `word` has the form `name=value` with `name` an identifier
/// ([A-Za-z_][A-Za-z0-9_]*): a keyword argument. `"a=b"` (quoted JSON) or `1=2` are not.
[[nodiscard]] bool is_keyword(std::string_view word);

/// Splits words into positional arguments (parse_value() of each) and keyword arguments
/// (`name=value`, value through parse_value()). Order does not matter between the two kinds.
/// @throws redisrpc::usage_error when a keyword is given twice.
[[nodiscard]] call_arguments parse_call_arguments(std::span<const std::string> words);

/// `250ms`, `2s`, `1.5s`, `1m`, `500us`; a bare number means seconds (redisrpc::parse_duration).
/// nullopt when the text is not a positive duration of at most one day.
[[nodiscard]] std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

/// A duration for humans: `250ms`, `2s`, `1.5s`.
[[nodiscard]] std::string format_duration(std::chrono::milliseconds d);

} // namespace redisrpc::cli
