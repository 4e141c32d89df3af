// Starting, probing and stopping a private redis-server.

#include "support/redis_server.hpp"

#include "redis/connection.hpp"

#include <redisrpc/error.hpp>
#include <redisrpc/options.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <stdexcept>
#include <system_error>

namespace redisrpc::test {

namespace {

using namespace std::chrono_literals;

constexpr auto startup_limit = 10s;
constexpr auto stop_limit = 5s;
constexpr int port_attempts = 8;
// sun_path holds 107 characters; leave room for "/redis.sock".
constexpr std::size_t max_dir_length = 90;

std::string redis_binary() {
    const char* env = std::getenv("REDISRPC_REDIS_SERVER");
    return env != nullptr && *env != '\0' ? env : "redis-server";
}

// A port that was free a moment ago. Another process may take it before redis-server binds
// it: start() notices ("Address already in use") and tries another.

temp_dir make_server_dir() {
    temp_dir dir("redisrpc-redis-");
    if (dir.path().string().size() <= max_dir_length) {
        return dir;
    }
    // A long $TMPDIR would make the socket path too long for sun_path.
    return temp_dir::adopt(make_temp_dir("redisrpc-redis-", "/tmp"));
}

std::string find_password(const std::vector<std::string>& args) {
    std::string password;
    for (std::size_t i = 0; i + 1 < args.size(); ++i) {
        if (args[i] == "--requirepass") {
            password = args[i + 1];
        }
    }
    return password;
}

} // namespace

std::uint16_t pick_free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        throw std::system_error(errno, std::generic_category(), "socket");
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        const int err = errno;
        ::close(fd);
        throw std::system_error(err, std::generic_category(), "cannot find a free port");
    }
    ::close(fd);
    return ntohs(addr.sin_port);
}

redis_server::redis_server(config cfg)
    : config_(std::move(cfg)), dir_(make_server_dir()), password_(find_password(config_.extra_args)) {
    if (!config_.tcp && !config_.unix_socket) {
        throw std::invalid_argument("redis_server: enable tcp, unix_socket or both");
    }
    start(true);
}

redis_server::~redis_server() {
    stop();
}

std::string redis_server::url() const {
    return config_.unix_socket ? unix_url() : tcp_url();
}

std::string redis_server::tcp_url() const {
    if (!config_.tcp) {
        throw std::logic_error("redis_server: TCP is disabled");
    }
    return "redis://127.0.0.1:" + std::to_string(port_);
}

std::string redis_server::unix_url() const {
    if (!config_.unix_socket) {
        throw std::logic_error("redis_server: the unix socket is disabled");
    }
    return "unix://" + socket_path();
}

std::uint16_t redis_server::port() const {
    return config_.tcp ? port_ : 0;
}

std::string redis_server::socket_path() const {
    return config_.unix_socket ? (dir_.path() / "redis.sock").string() : std::string();
}

void redis_server::kill() {
    if (process_) {
        process_->signal(SIGKILL);
        process_->wait_for(stop_limit);
    }
}

void redis_server::restart() {
    kill();
    start(false);
}

void redis_server::pause() {
    if (process_) {
        process_->signal(SIGSTOP);
        process_->wait_stopped();
    }
}

void redis_server::resume() {
    if (process_) {
        process_->signal(SIGCONT);
    }
}

std::vector<std::string> redis_server::keys(std::string_view pattern) {
    connection_options options = parse_url(url());
    options.password = password_;
    detail::connection conn(options);
    const auto r = conn.execute({"KEYS", pattern}, detail::clock::now() + 5s);
    if (!r.is_array()) {
        throw std::runtime_error("redis_server::keys: unexpected reply " + r.str);
    }
    std::vector<std::string> out;
    out.reserve(r.elements.size());
    for (const auto& e : r.elements) {
        out.push_back(e.str);
    }
    std::sort(out.begin(), out.end());
    return out;
}

void redis_server::flushall() {
    connection_options options = parse_url(url());
    options.password = password_;
    detail::connection conn(options);
    const auto r = conn.execute({"FLUSHALL"}, detail::clock::now() + 5s);
    if (r.is_error()) {
        throw std::runtime_error("redis_server::flushall: " + r.str);
    }
}

std::string redis_server::output() const {
    return process_ ? process_->output() : std::string();
}

pid_t redis_server::pid() const {
    return process_ ? process_->pid() : -1;
}

void redis_server::start(bool pick_new_port) {
    for (int attempt = 1;; ++attempt) {
        if (config_.tcp && pick_new_port) {
            port_ = pick_free_port();
        }
        switch (launch_and_wait()) {
        case start_result::ready:
            return;
        case start_result::port_in_use:
            if (pick_new_port && attempt < port_attempts) {
                continue;
            }
            [[fallthrough]];
        case start_result::failed:
            break;
        }
        const std::string log = output();
        stop();
        throw std::runtime_error("redis-server did not start (port " + std::to_string(port_) + ", socket '" +
                                 socket_path() + "'); its output:\n" + log);
    }
}

redis_server::start_result redis_server::launch_and_wait() {
    std::vector<std::string> argv{redis_binary()};
    const auto add = [&argv](std::initializer_list<std::string> more) { argv.insert(argv.end(), more); };
    add({"--port", config_.tcp ? std::to_string(port_) : "0"});
    // "-::1": the IPv6 loopback too when the host has one, without failing when it has not.
    add({"--bind", "127.0.0.1", "-::1"});
    add({"--save", "", "--appendonly", "no", "--dir", dir_.path().string()}); // no persistence
    add({"--daemonize", "no", "--loglevel", "warning"});
    if (config_.unix_socket) {
        add({"--unixsocket", socket_path(), "--unixsocketperm", "700"});
    }
    argv.insert(argv.end(), config_.extra_args.begin(), config_.extra_args.end());
    process_.reset();
    process_ = std::make_unique<child_process>(std::move(argv));

    // Poll with a real connection: the only proof that the server accepts commands. Between
    // attempts the wait is on the process itself, so an early exit is seen at once.
    const auto deadline = std::chrono::steady_clock::now() + startup_limit;
    std::chrono::milliseconds pause_between{0};
    while (std::chrono::steady_clock::now() < deadline) {
        if (process_->wait_for(pause_between)) {
            return output().find("Address already in use") != std::string::npos ? start_result::port_in_use
                                                                                : start_result::failed;
        }
        try {
            probe();
            return start_result::ready;
        } catch (const error&) {
            // not listening yet, still loading, or another server on our port (see probe())
        }
        pause_between = std::min<std::chrono::milliseconds>(pause_between * 2 + 1ms, 25ms);
    }
    return start_result::failed;
}

// Succeeds once our server answers. Over TCP it checks the pid too: if another process grabbed
// the port first, that process answers while ours is about to exit with "Address in use".
void redis_server::probe() {
    connection_options options = parse_url(url());
    options.password = password_;
    options.connect_timeout = 1s;
    options.command_timeout = 1s;
    detail::connection conn(options);
    const auto info = conn.execute({"INFO", "server"}, detail::clock::now() + 1s);
    if (info.is_error()) {
        if (info.str.rfind("LOADING", 0) == 0) {
            throw connection_error("redis is loading");
        }
        return; // e.g. INFO denied by the test's ACL setup: the server does answer
    }
    if (!config_.unix_socket) {
        const std::string key = "process_id:" + std::to_string(process_->pid()) + "\r\n";
        if (info.str.find(key) == std::string::npos) {
            throw connection_error("another redis-server answers on port " + std::to_string(port_));
        }
    }
}

void redis_server::stop() noexcept {
    if (!process_) {
        return;
    }
    process_->signal(SIGCONT); // a paused server would not act on SIGTERM
    process_->signal(SIGTERM);
    if (!process_->wait_for(stop_limit)) {
        process_->signal(SIGKILL);
    }
    process_.reset(); // reaps
}

redis_server& shared_redis() {
    static redis_server server;
    return server;
}

} // namespace redisrpc::test
