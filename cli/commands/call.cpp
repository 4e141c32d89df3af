// redisrpc call <queue> <method> [args...]: one call, its result printed as JSON.

#include "args.hpp"
#include "common.hpp"

#include <redisrpc/client.hpp>

#include <iostream>
#include <memory>
#include <vector>

namespace redisrpc::cli {

namespace {

constexpr const char* arguments_help = R"(Arguments:
  Each argument is a JSON value: 5, 2.5, true, null, "text", [1,2], {"a":1}.
  A word that is not valid JSON is taken as a string: hello is the same as '"hello"'
  (so 'hello' and '"hello"' both send the string hello, while 5 sends a number and '"5"' a string).
  name=value is a keyword argument; the value follows the same rules (x=3, name=bob, opts='{"a":1}').
  Options go before the arguments. From the first argument on, every word is an argument, taken
  verbatim ([1,2] stays one array, a later --json is the string "--json"). A first argument that
  starts with '-' and is not a number would be read as an option: quote it as JSON, '"-x"'.

Output:
  The result as JSON on stdout; an error as '(error) <text>' on stderr.
  With --json: {"ok":true,"result":R,"code":"ok"} or
  {"ok":false,"error":"<text>","code":"<category>","exit_code":N} on stdout.)";

struct call_settings {
    std::string queue;
    std::string method;
    std::vector<std::string> words;
    bool raw = false;
};

} // namespace

void register_call(CLI::App& app, const global_options& global, command_runner& selected) {
    auto s = std::make_shared<call_settings>();
    CLI::App* sub = app.add_subcommand(
        "call", "call <queue> <method> [args...]: call a method, print its result as JSON");
    sub->footer(arguments_help);
    add_queue_argument(*sub, s->queue);
    sub->add_option("method", s->method, "method name")->required();
    sub->add_flag("--raw", s->raw, "print a string result without JSON quotes (like redis-cli --raw)");
    // Everything after the last positional (queue, method) is an argument, taken verbatim: CLI11
    // would split a JSON array such as [1,2] into elements, and read -x or --json as options.
    sub->prefix_command();
    sub->callback([s, sub, &global, &selected] {
        s->words = sub->remaining();
        selected = [s, &global] {
            const auto a = parse_call_arguments(s->words);
            client c{global.url, s->queue, make_client_options(global)};
            const nlohmann::json result = c.call_json(s->method, a.args, a.kwargs);
            if (global.json) {
                std::cout << to_text(nlohmann::ordered_json{{"ok", true}, {"result", result}, {"code", "ok"}})
                          << std::endl;
            } else if (s->raw && result.is_string()) {
                std::cout << result.get_ref<const std::string&>() << std::endl;
            } else {
                std::cout << to_text(result) << std::endl;
            }
            return static_cast<int>(exit_ok);
        };
    });
}

} // namespace redisrpc::cli
