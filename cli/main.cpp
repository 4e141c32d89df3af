// redisrpc: call, serve, benchmark and inspect redisrpc services from the shell.

#include "args.hpp"
#include "common.hpp"

#include <redisrpc/version.hpp>

#include <CLI/CLI.hpp>

#include <iostream>
#include <map>
#include <string>

namespace {

constexpr const char* exit_codes_help = R"(Exit codes:
  0  success
  1  remote error: the method threw, does not exist or rejected its arguments
  2  usage error: bad command line, option, URL or argument
  3  timeout: no answer before --timeout (nothing is retried)
  4  connection error: Redis unreachable, or it refused the connection
  5  protocol error: an answer that is not a reply of the dialect

Run 'redisrpc <command> --help' for the options of a command.)";

void add_global_options(CLI::App& app, redisrpc::cli::global_options& global, std::string& timeout_text) {
    using namespace redisrpc::cli;
    // No envname("REDIS_URL") here: the library falls back to $REDIS_URL for an empty URL, and an
    // environment default on both the app and a subcommand would override an explicit --url.
    app.add_option("-u,--url", global.url,
                   "Redis URL, e.g. redis://[user[:password]@]host[:port][/db], unix:///path.sock, "
                   "redis+cluster://host:port,host:port or redis+sentinel://host:port,host:port/master "
                   "(default: $REDIS_URL, then redis://127.0.0.1:6379/0)");
    const std::map<std::string, redisrpc::dialect> dialects{{"classic", redisrpc::dialect::classic},
                                                            {"codility", redisrpc::dialect::codility},
                                                            {"jsonrpc", redisrpc::dialect::jsonrpc}};
    app.add_option("-d,--dialect", global.wire,
                   "wire format: classic (original redisrpc), codility or jsonrpc")
        ->transform(CLI::CheckedTransformer(dialects, CLI::ignore_case).description(""))
        ->type_name("classic|codility|jsonrpc")
        ->default_str("classic");
    app.add_option("-t,--timeout", timeout_text,
                   "deadline of each call, e.g. 500ms, 2s, 1m (bare number: seconds)")
        ->check(duration_validator())
        ->capture_default_str();
    app.add_flag("--json", global.json, "print results and errors as JSON objects on stdout");
    app.add_option("--shards", global.shards,
                   "spread the service over N sub-queues (Redis Cluster: one per master; docs/cluster.md)")
        ->check(CLI::Range(std::size_t{1}, std::size_t{16384}))
        ->capture_default_str();
}

} // namespace

int main(int argc, char** argv) {
    using namespace redisrpc::cli;

    CLI::App app{"redisrpc " REDISRPC_VERSION_STRING
                 ": call, serve, benchmark and inspect RPC services over Redis lists",
                 "redisrpc"};
    app.footer(exit_codes_help);
    app.require_subcommand(1);
    app.set_version_flag("--version", REDISRPC_VERSION_STRING);

    global_options global;
    std::string timeout_text = "5s";
    add_global_options(app, global, timeout_text);

    command_runner selected;
    register_call(app, global, selected);
    register_notify(app, global, selected);
    register_serve(app, global, selected);
    register_bench(app, global, selected);
    register_servers(app, global, selected);
    register_stats(app, global, selected);
    // The global options are accepted after the subcommand too (`redisrpc call --json q m`). Not
    // through CLI11's fallthrough, which would also hand the call arguments up to this app.
    for (CLI::App* sub : app.get_subcommands({}))
        add_global_options(*sub, global, timeout_text);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int rc = app.exit(e);
        return rc == 0 ? exit_ok : exit_usage;
    }
    global.timeout = parse_duration(timeout_text).value_or(global.timeout);
    if (!selected)
        return exit_usage;
    try {
        return selected();
    } catch (...) {
        return report_failure(global, classify(std::current_exception()));
    }
}
