// Connection URLs: redis://, rediss:// and unix: forms, parsed into connection_options.
//
// Decisions worth knowing:
// - The user-info part (credentials) ends at the LAST '@' of the URL, so a password may contain
//   '/', '?', '#' or ':' without escaping. In exchange, '@' anywhere after the credentials (for
//   example in a query value) must be written %40. (unix:// URLs: the last "@/", see below.)
// - Error messages never quote anything taken from the user-info part, nor a password given as
//   a query option, so a password cannot leak into logs through an exception.
// - `redis://user@host` (a user without a password) is accepted: the connection then sends
//   `AUTH user ""`, which is what an ACL user declared `nopass` expects, and fails loudly with
//   Redis's own error otherwise. Silently connecting as the default user instead would hide a
//   mistake. With neither user nor password no AUTH is sent.
// - An empty host (`redis://`, `redis:///2`) means 127.0.0.1, and a missing port means 6379.
// - Durations accept `us`, `ms`, `s` and `m`; a bare number is seconds; fractions are allowed.
//   They are rounded up to whole milliseconds (so `100us` is 1ms, never 0), must be positive and
//   at most one day.
// - TLS options (`tls_ca_file`, `tls_ca_dir`, `tls_cert_file`, `tls_key_file`, `tls_server_name`,
//   `tls_verify`, `insecure`) are accepted only with rediss://: on a plain URL they would
//   silently do nothing, and a user who wrote them expects encryption. Verification is on by
//   default; `tls_verify=false|no|0|off` or `insecure=true|yes|1|on` turns it off.
//   A certificate without its key (or the reverse) is refused here rather than at connect time.

#include <redisrpc/error.hpp>
#include <redisrpc/options.hpp>

#include <arpa/inet.h>

#include <array>
#include <charconv>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace redisrpc {

namespace {

constexpr std::string_view default_redis_url = "redis://127.0.0.1:6379/0";
// sun_path holds 108 bytes including the terminating NUL.
constexpr std::size_t max_unix_path = 107;
constexpr double max_duration_ms = 24.0 * 60 * 60 * 1000;

[[noreturn]] void fail(const std::string& what) {
    throw usage_error("invalid redis URL: " + what);
}

char ascii_lower(char c) noexcept {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (ascii_lower(a[i]) != ascii_lower(b[i])) {
            return false;
        }
    }
    return true;
}

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

// `what` names the field in the error message; the field's content is never quoted, because it
// may be a password.
std::string percent_decode(std::string_view in, std::string_view what) {
    std::string out;
    out.reserve(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        if (in[i] != '%') {
            out.push_back(in[i]);
            continue;
        }
        const int hi = i + 1 < in.size() ? hex_value(in[i + 1]) : -1;
        const int lo = i + 2 < in.size() ? hex_value(in[i + 2]) : -1;
        if (hi < 0 || lo < 0) {
            fail("bad percent-encoding in " + std::string(what) + " (expected % and two hex digits)");
        }
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
    }
    return out;
}

bool all_digits(std::string_view s) noexcept {
    if (s.empty()) {
        return false;
    }
    for (const char c : s) {
        if (c < '0' || c > '9') {
            return false;
        }
    }
    return true;
}

std::uint16_t parse_port(std::string_view text) {
    if (text.empty()) {
        fail("empty port after ':'");
    }
    unsigned long value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (!all_digits(text) || ec != std::errc{} || end != text.data() + text.size() || value < 1 ||
        value > 65535) {
        fail("invalid port '" + std::string(text) + "' (expected 1..65535)");
    }
    return static_cast<std::uint16_t>(value);
}

int parse_db(std::string_view text) {
    if (!all_digits(text)) {
        fail("invalid database '" + std::string(text) + "' (expected a non-negative integer)");
    }
    int value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size()) {
        fail("database index '" + std::string(text) + "' is too large");
    }
    return value;
}

std::chrono::milliseconds duration_option(std::string_view option, std::string_view text) {
    const auto bad = [&](std::string_view why) -> std::chrono::milliseconds {
        fail("option '" + std::string(option) + "': " + std::string(why) + " in '" + std::string(text) +
             "' (expected e.g. 500ms, 2s, 0.5s, 1m, 250us; a bare number means seconds)");
    };
    // number = digits [ "." digits ]; no sign, no exponent: anything else is a typo.
    std::size_t i = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
        ++i;
    }
    const std::size_t int_digits = i;
    std::size_t frac_digits = 0;
    if (i < text.size() && text[i] == '.') {
        ++i;
        while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
            ++i;
            ++frac_digits;
        }
        if (frac_digits == 0) {
            return bad("digits expected after '.'");
        }
    }
    if (int_digits == 0) {
        return bad("number expected");
    }
    const std::string_view number = text.substr(0, i);
    const std::string_view unit = text.substr(i);

    double ms_per_unit = 0;
    if (unit.empty() || unit == "s") {
        ms_per_unit = 1000;
    } else if (unit == "ms") {
        ms_per_unit = 1;
    } else if (unit == "us") {
        ms_per_unit = 0.001;
    } else if (unit == "m") {
        ms_per_unit = 60'000;
    } else {
        return bad("unknown unit '" + std::string(unit) + "'");
    }
    double value = 0;
    const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
    if (ec != std::errc{} || end != number.data() + number.size()) {
        return bad("number out of range");
    }
    const double ms = value * ms_per_unit;
    if (ms <= 0) {
        return bad("duration must be positive");
    }
    if (ms > max_duration_ms) {
        return bad("duration longer than one day");
    }
    // Round up so that a tiny but non-zero timeout never becomes "expire immediately".
    return std::chrono::milliseconds(static_cast<std::chrono::milliseconds::rep>(std::ceil(ms - 1e-9)));
}

// Redis refuses client names with spaces, newlines or other special characters.
void check_client_name(std::string_view name) {
    if (name.empty()) {
        fail("option 'name' is empty");
    }
    for (const char c : name) {
        if (c < '!' || c > '~') {
            fail("option 'name': client names may only contain printable ASCII without spaces");
        }
    }
}

bool valid_hostname(std::string_view host) noexcept {
    for (const char c : host) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                        c == '-' || c == '.' || c == '_';
        if (!ok) {
            return false;
        }
    }
    return true;
}

// Host and port of `[v6]:port`, `[v6]`, `name:port`, `name` or empty.
void parse_host_port(std::string_view hostport, connection_options& out) {
    std::string_view port_text;
    bool has_port = false;
    if (!hostport.empty() && hostport.front() == '[') {
        const std::size_t close = hostport.find(']');
        if (close == std::string_view::npos) {
            fail("missing ']' after IPv6 address");
        }
        const std::string_view inside = hostport.substr(1, close - 1);
        const std::string_view rest = hostport.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') {
                fail("unexpected characters after ']' (expected ':port')");
            }
            has_port = true;
            port_text = rest.substr(1);
        }
        // A zone ("fe80::1%25eth0") is kept, decoded, for the resolver; the address is checked.
        std::string address = percent_decode(inside, "IPv6 address");
        const std::string bare = address.substr(0, address.find('%'));
        in6_addr scratch{};
        if (bare.empty() || inet_pton(AF_INET6, bare.c_str(), &scratch) != 1) {
            fail("invalid IPv6 address '" + std::string(inside) + "'");
        }
        out.host = std::move(address);
    } else {
        const std::size_t colon = hostport.find(':');
        std::string_view host = hostport.substr(0, colon);
        if (colon != std::string_view::npos) {
            has_port = true;
            port_text = hostport.substr(colon + 1);
            if (port_text.find(':') != std::string_view::npos) {
                fail("IPv6 addresses must be written in brackets, e.g. redis://[::1]:6379");
            }
        }
        if (!valid_hostname(host)) {
            fail("invalid host '" + std::string(host) + "'");
        }
        if (!host.empty()) {
            out.host = std::string(host);
        }
    }
    if (has_port) {
        out.port = parse_port(port_text);
    }
}

struct seen_options {
    bool db = false;
    bool timeout = false;
    bool connect_timeout = false;
    bool name = false;
    bool user = false;
    bool password = false;
    bool tls_ca_file = false;
    bool tls_ca_dir = false;
    bool tls_cert_file = false;
    bool tls_key_file = false;
    bool tls_server_name = false;
    bool tls_verify = false; // tls_verify or insecure
    bool sentinel_user = false;
    bool sentinel_password = false;
    const char* first_tls_option = nullptr;
};

bool parse_bool(std::string_view option, std::string_view text) {
    if (iequals(text, "true") || iequals(text, "yes") || iequals(text, "on") || text == "1") {
        return true;
    }
    if (iequals(text, "false") || iequals(text, "no") || iequals(text, "off") || text == "0") {
        return false;
    }
    fail("option '" + std::string(option) + "': expected true/false, yes/no, on/off or 1/0");
}

std::string parse_file_option(std::string_view option, std::string value) {
    if (value.empty()) {
        fail("option '" + std::string(option) + "' is empty");
    }
    if (value.find('\0') != std::string::npos) {
        fail("option '" + std::string(option) + "' contains a NUL byte");
    }
    return value;
}

// A server name for SNI and certificate checks: a DNS name or an IP literal (no brackets).
std::string parse_server_name(std::string value) {
    if (value.empty()) {
        fail("option 'tls_server_name' is empty");
    }
    in6_addr scratch{};
    if (!valid_hostname(value) && inet_pton(AF_INET6, value.c_str(), &scratch) != 1) {
        fail("option 'tls_server_name': expected a host name or an IP address");
    }
    return value;
}

void parse_query(std::string_view query, connection_options& out, seen_options& seen) {
    const auto once = [](bool& flag, std::string_view key) {
        if (flag) {
            fail("option '" + std::string(key) + "' given twice");
        }
        flag = true;
    };
    // A TLS option is checked once, and the first one named is quoted if the URL is not rediss://.
    const auto tls_option = [&](bool& flag, const char* key, const char* quoted = nullptr) {
        once(flag, key);
        if (seen.first_tls_option == nullptr)
            seen.first_tls_option = quoted != nullptr ? quoted : key;
    };
    while (!query.empty()) {
        const std::size_t amp = query.find('&');
        const std::string_view item = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
        if (item.empty()) {
            continue; // tolerate "?&a=b" and "a=b&"
        }
        const std::size_t eq = item.find('=');
        const std::string_view key = item.substr(0, eq);
        if (eq == std::string_view::npos) {
            // Not quoted: a bare word here could be a misplaced password.
            fail("a query option without '=' (expected name=value)");
        }
        const std::string_view raw = item.substr(eq + 1);
        if (key == "password") {
            // Checked before anything could quote the value.
            once(seen.password, key);
            if (!out.password.empty()) {
                fail("password given both before '@' and as an option");
            }
            out.password = percent_decode(raw, "option 'password'");
            continue;
        }
        if (key == "sentinel_password" || key == "sentinel_user") {
            if (out.mode != connection_options::topology::sentinel) {
                fail("option '" + std::string(key) + "' needs a redis+sentinel:// URL");
            }
            if (key == "sentinel_password") {
                once(seen.sentinel_password, key);
                out.sentinel_password = percent_decode(raw, "option 'sentinel_password'");
            } else {
                once(seen.sentinel_user, key);
                out.sentinel_user = percent_decode(raw, "option 'sentinel_user'");
            }
            continue;
        }
        const std::string value = percent_decode(raw, "option '" + std::string(key) + "'");
        if (key == "db") {
            once(seen.db, key);
            out.db = parse_db(value);
        } else if (key == "timeout" || key == "command_timeout") {
            once(seen.timeout, "timeout");
            out.command_timeout = duration_option(key, value);
        } else if (key == "connect_timeout") {
            once(seen.connect_timeout, key);
            out.connect_timeout = duration_option(key, value);
        } else if (key == "name") {
            once(seen.name, key);
            check_client_name(value);
            out.client_name = value;
        } else if (key == "user" || key == "username") {
            once(seen.user, "user");
            if (!out.user.empty()) {
                fail("user given both before '@' and as an option");
            }
            out.user = value;
        } else if (key == "tls_ca_file") {
            tls_option(seen.tls_ca_file, "tls_ca_file");
            out.tls_ca_file = parse_file_option(key, value);
        } else if (key == "tls_ca_dir") {
            tls_option(seen.tls_ca_dir, "tls_ca_dir");
            out.tls_ca_dir = parse_file_option(key, value);
        } else if (key == "tls_cert_file") {
            tls_option(seen.tls_cert_file, "tls_cert_file");
            out.tls_cert_file = parse_file_option(key, value);
        } else if (key == "tls_key_file") {
            tls_option(seen.tls_key_file, "tls_key_file");
            out.tls_key_file = parse_file_option(key, value);
        } else if (key == "tls_server_name") {
            tls_option(seen.tls_server_name, "tls_server_name");
            out.tls_server_name = parse_server_name(value);
        } else if (key == "tls_verify" || key == "insecure") {
            tls_option(seen.tls_verify, "tls_verify/insecure", "tls_verify");
            const bool flag = parse_bool(key, value);
            out.tls_verify = key == "tls_verify" ? flag : !flag;
        } else {
            fail("unknown option '" + std::string(key) +
                 "' (known: db, timeout, command_timeout, connect_timeout, name, user, password, "
                 "tls_ca_file, tls_ca_dir, tls_cert_file, tls_key_file, tls_server_name, tls_verify, "
                 "insecure, sentinel_user, sentinel_password)");
        }
    }
}

// Splits `user[:password]` (still percent-encoded) into the options.
void parse_userinfo(std::string_view userinfo, connection_options& out) {
    const std::size_t colon = userinfo.find(':');
    out.user = percent_decode(userinfo.substr(0, colon), "user name");
    if (colon != std::string_view::npos) {
        out.password = percent_decode(userinfo.substr(colon + 1), "password");
    }
}

// redis+cluster, rediss+cluster, redis+sentinel, rediss+sentinel: the topology and whether TLS.
std::optional<std::pair<connection_options::topology, bool>> scale_out_scheme(std::string_view scheme) {
    using topology = connection_options::topology;
    if (iequals(scheme, "redis+cluster")) return std::pair{topology::cluster, false};
    if (iequals(scheme, "rediss+cluster")) return std::pair{topology::cluster, true};
    if (iequals(scheme, "redis+sentinel")) return std::pair{topology::sentinel, false};
    if (iequals(scheme, "rediss+sentinel")) return std::pair{topology::sentinel, true};
    return std::nullopt;
}

bool valid_master_name(std::string_view name) noexcept {
    for (const char c : name) {
        if (c < '!' || c > '~') {
            return false;
        }
    }
    return true;
}

// `host:port,host:port,...` of cluster seeds or sentinels; host/port repeat the first entry.
void parse_node_list(std::string_view list, connection_options& out) {
    if (list.empty()) {
        fail("expected at least one host:port");
    }
    while (true) {
        const std::size_t comma = list.find(',');
        const std::string_view item = list.substr(0, comma);
        if (item.empty()) {
            fail("empty entry in the host list");
        }
        connection_options one;
        one.port = out.mode == connection_options::topology::sentinel ? 26379 : 6379;
        parse_host_port(item, one);
        out.nodes.push_back({one.host, one.port});
        if (comma == std::string_view::npos) {
            break;
        }
        list.remove_prefix(comma + 1);
    }
    out.host = out.nodes.front().host;
    out.port = out.nodes.front().port;
}

} // namespace

connection_options parse_url(std::string_view url) {
    if (url.empty()) {
        fail("the URL is empty");
    }
    connection_options out;

    // Scheme. An unknown scheme is quoted only when it looks like one ("name://"), so nothing
    // else can leak.
    const std::size_t colon = url.find(':');
    if (colon == std::string_view::npos) {
        fail("missing scheme (expected redis://, rediss:// or unix://)");
    }
    const std::string_view scheme = url.substr(0, colon);
    std::string_view rest = url.substr(colon + 1);
    // Only URLs with an authority ("//...") carry credentials; `unix:/a@b.sock` is just a path.
    const bool has_authority = rest.substr(0, 2) == "//";
    const auto scale_out = scale_out_scheme(scheme);
    if (iequals(scheme, "redis") || iequals(scheme, "rediss") || scale_out) {
        if (!has_authority) {
            fail("expected '//' after '" + std::string(scheme) + ":'");
        }
        out.tls = iequals(scheme, "rediss") || (scale_out && scale_out->second);
        if (scale_out) {
            out.mode = scale_out->first;
        }
    } else if (iequals(scheme, "unix")) {
        out.kind = connection_options::transport::unix_socket;
    } else if (!has_authority) {
        // "host:port" or "user:password@host": the part before ':' is no scheme, and quoting it
        // could quote credentials.
        fail("missing scheme (expected redis://, rediss:// or unix://)");
    } else {
        const bool printable = valid_hostname(scheme) && scheme.size() <= 16;
        fail("unsupported scheme" + (printable ? " '" + std::string(scheme) + "'" : std::string()) +
             " (expected redis://, rediss://, unix://, redis+cluster:// or redis+sentinel://)");
    }
    const bool is_unix = out.kind == connection_options::transport::unix_socket;
    if (has_authority) {
        rest.remove_prefix(2);
        // Credentials end at the last '@' (see the note at the top of the file). A unix URL's
        // host is empty, so its credentials, if any, end at the last "@/": the path itself may
        // then contain '@' (unix:///run/a@b.sock).
        std::size_t at = std::string_view::npos;
        if (!is_unix) {
            at = rest.rfind('@');
        } else if (!rest.empty() && rest.front() != '/') {
            at = rest.rfind("@/");
        }
        if (at != std::string_view::npos) {
            parse_userinfo(rest.substr(0, at), out);
            rest.remove_prefix(at + 1);
        }
    }

    if (rest.find('#') != std::string_view::npos) {
        fail("fragments ('#') are not allowed");
    }
    const std::size_t qmark = rest.find('?');
    const std::string_view query =
        qmark == std::string_view::npos ? std::string_view{} : rest.substr(qmark + 1);
    rest = rest.substr(0, qmark);

    std::optional<int> path_db;
    if (is_unix) {
        if (rest.empty()) {
            fail("missing socket path (expected unix:///path/to/redis.sock)");
        }
        if (has_authority && rest.front() != '/') {
            fail("unix URLs take no host (expected unix:///path/to/redis.sock)");
        }
        out.path = percent_decode(rest, "socket path");
        if (out.path.find('\0') != std::string::npos) {
            fail("socket path contains a NUL byte");
        }
        if (out.path.size() > max_unix_path) {
            fail("socket path is longer than " + std::to_string(max_unix_path) + " bytes");
        }
    } else if (out.mode != connection_options::topology::standalone) {
        const std::size_t slash = rest.find('/');
        parse_node_list(rest.substr(0, slash), out);
        const std::string_view path = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
        if (out.mode == connection_options::topology::sentinel) {
            const std::size_t db_slash = path.find('/');
            out.sentinel_master = percent_decode(path.substr(0, db_slash), "master name");
            if (out.sentinel_master.empty()) {
                fail("missing master name (expected redis+sentinel://host:port[,host:port...]/mastername)");
            }
            if (!valid_master_name(out.sentinel_master)) {
                fail("the master name may only contain printable ASCII without spaces");
            }
            if (db_slash != std::string_view::npos && !path.substr(db_slash + 1).empty()) {
                path_db = parse_db(path.substr(db_slash + 1));
            }
        } else if (!path.empty()) {
            path_db = parse_db(path);
        }
    } else {
        const std::size_t slash = rest.find('/');
        parse_host_port(rest.substr(0, slash), out);
        if (slash != std::string_view::npos) {
            const std::string_view db = rest.substr(slash + 1);
            if (!db.empty()) {
                path_db = parse_db(db);
            }
        }
    }

    seen_options seen;
    parse_query(query, out, seen);
    if (seen.first_tls_option != nullptr && !out.tls) {
        fail("option '" + std::string(seen.first_tls_option) + "' needs a rediss:// URL");
    }
    if (out.tls_cert_file.empty() != out.tls_key_file.empty()) {
        fail("options 'tls_cert_file' and 'tls_key_file' must be given together");
    }
    if (path_db) {
        if (seen.db) {
            fail("database given both in the path and as option 'db'");
        }
        out.db = *path_db;
    }
    if (out.mode == connection_options::topology::cluster && out.db != 0) {
        fail("Redis Cluster has database 0 only");
    }
    return out;
}

std::string default_url() {
    const char* env = std::getenv("REDIS_URL");
    if (env != nullptr && *env != '\0') {
        return env;
    }
    return std::string(default_redis_url);
}

std::string connection_options::address() const {
    if (mode != topology::standalone && !nodes.empty()) {
        std::string list;
        for (const auto& n : nodes) {
            connection_options one;
            one.host = n.host;
            one.port = n.port;
            list += (list.empty() ? "" : ",") + one.address();
        }
        return mode == topology::cluster ? "cluster " + list : "master '" + sentinel_master + "' via sentinels " + list;
    }
    if (kind == transport::unix_socket) {
        return "unix:" + path;
    }
    const bool v6 = host.find(':') != std::string::npos;
    std::string out;
    out.reserve(host.size() + 8);
    if (v6) {
        out += '[';
        out += host;
        out += ']';
    } else {
        out += host;
    }
    out += ':';
    out += std::to_string(port);
    return out;
}

std::chrono::milliseconds parse_duration(std::string_view text, std::string_view what) {
    try {
        return duration_option(what, text);
    } catch (const usage_error& e) {
        // Same rules as in URLs, but this text did not come from a URL: say so without the prefix.
        std::string message = e.what();
        const std::string_view url_prefix = "invalid redis URL: option ";
        if (message.rfind(url_prefix, 0) == 0) message.erase(0, url_prefix.size());
        throw usage_error(message);
    }
}

} // namespace redisrpc
