#pragma once
// Command-line options shared by the calculator server and client.

#include <redisrpc/options.hpp>

#include <CLI/CLI.hpp>

#include <map>
#include <string>

struct example_options {
    std::string url;            // empty: REDIS_URL, then redis://127.0.0.1:6379/0
    std::string queue = "calc"; // request list (or prefix for the codility dialect)
    redisrpc::dialect dialect = redisrpc::dialect::classic;
};

inline void add_example_options(CLI::App& app, example_options& o) {
    app.add_option("--url", o.url, "Redis URL (default: $REDIS_URL or redis://127.0.0.1:6379/0)");
    app.add_option("--queue", o.queue, "request list, or key prefix for --dialect codility")->capture_default_str();
    const std::map<std::string, redisrpc::dialect> dialects{{"classic", redisrpc::dialect::classic},
                                                            {"codility", redisrpc::dialect::codility},
                                                            {"jsonrpc", redisrpc::dialect::jsonrpc}};
    app.add_option("--dialect", o.dialect, "wire format: classic, codility or jsonrpc")
        ->transform(CLI::CheckedTransformer(dialects, CLI::ignore_case))
        ->default_str("classic");
}
