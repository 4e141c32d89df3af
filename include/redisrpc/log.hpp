#pragma once
/// @file
/// The logging hook. By default messages of level info and above go to stderr.

#include <functional>
#include <string_view>

namespace redisrpc {

/// Severity of a log line, from least to most severe; `off` as the level disables logging.
enum class log_level { debug = 0, info = 1, warning = 2, error = 3, off = 4 };

/// Receives every log line at or above the configured level. Must be thread-safe.
using log_sink = std::function<void(log_level, std::string_view message)>;

/// Replaces the sink (nullptr restores the default stderr sink).
void set_log_sink(log_sink sink);
/// Lines below `level` are discarded before they are formatted.
void set_log_level(log_level level);
/// The current level (info unless set_log_level() changed it).
[[nodiscard]] log_level get_log_level() noexcept;
/// The level's name: "debug", "info", "warning", "error" or "off" ("?" for other values).
[[nodiscard]] std::string_view to_string(log_level level) noexcept;

} // namespace redisrpc
