#pragma once
// What every subcommand shares: the global options, exit codes, error reporting, output.

#include <redisrpc/error.hpp>
#include <redisrpc/options.hpp>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <exception>
#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>

namespace redisrpc::cli {

/// The process exit codes, documented in `redisrpc --help` and the README.
enum exit_code : int {
    exit_ok = 0,
    exit_remote_error = 1, ///< the server answered with an error (or another failure)
    exit_usage = 2,        ///< bad command line (CLI11's own errors, bad URL, bad argument)
    exit_timeout = 3,      ///< no answer before --timeout
    exit_connection = 4,   ///< Redis unreachable or refused the connection
    exit_protocol = 5,     ///< an answer that is not a reply of the dialect
};

/// Options before (or after) the subcommand, shared by all of them.
struct global_options {
    std::string url; ///< empty: $REDIS_URL, then redis://127.0.0.1:6379/0
    dialect wire = dialect::classic;
    std::chrono::milliseconds timeout = std::chrono::seconds(5);
    bool json = false;      ///< machine-readable output
    std::size_t shards = 1; ///< sub-queues of a sharded service (docs/cluster.md)
};

/// A subcommand's work, run after parsing; returns the exit code.
using command_runner = std::function<int()>;

/// Registers the subcommand on `app`; `selected` is set to its runner when it is parsed.
using command_registrar = void (*)(CLI::App& app, const global_options& global, command_runner& selected);

void register_call(CLI::App& app, const global_options& global, command_runner& selected);
void register_notify(CLI::App& app, const global_options& global, command_runner& selected);
void register_serve(CLI::App& app, const global_options& global, command_runner& selected);
void register_bench(CLI::App& app, const global_options& global, command_runner& selected);
void register_servers(CLI::App& app, const global_options& global, command_runner& selected);
void register_stats(CLI::App& app, const global_options& global, command_runner& selected);

[[nodiscard]] std::string_view dialect_name(dialect d) noexcept;
[[nodiscard]] std::string_view error_code_name(error_code c) noexcept;

/// The exit code and the machine-readable code name ("timeout", "method_not_found", ...) for an
/// exception thrown by the library.
struct failure {
    int exit = exit_remote_error;
    std::string code;
    std::string message;
    nlohmann::ordered_json extra = nlohmann::ordered_json::object(); ///< e.g. outcome_unknown, remote data
};
[[nodiscard]] failure classify(std::exception_ptr error);

/// Reports a failure: `(error) <message>` on stderr, or with --json a
/// `{"ok":false,"error":..,"code":..}` object on stdout. Returns the exit code.
int report_failure(const global_options& global, const failure& f);

/// JSON text that never throws on invalid UTF-8 (replaced by U+FFFD).
[[nodiscard]] std::string to_text(const nlohmann::json& j, int indent = -1);
/// The same for output objects whose members keep their insertion order ("ok" first).
[[nodiscard]] std::string to_text(const nlohmann::ordered_json& j, int indent = -1);

/// A positional argument "<queue>" for a subcommand, with the help text every command shares.
CLI::Option* add_queue_argument(CLI::App& sub, std::string& queue);

/// A CLI11 validator for durations (see parse_duration()).
[[nodiscard]] CLI::Validator duration_validator();

/// Client options from the global options.
[[nodiscard]] client_options make_client_options(const global_options& global);

} // namespace redisrpc::cli
