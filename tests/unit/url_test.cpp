// parse_url, default_url and connection_options::address: no network.

#include <redisrpc/error.hpp>
#include <redisrpc/options.hpp>

#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <string>

namespace {

using redisrpc::connection_options;
using redisrpc::parse_url;
using redisrpc::usage_error;
using namespace std::chrono_literals;

// The message of the usage_error thrown by parse_url(url), or "" when it did not throw.
std::string error_of(std::string_view url) {
    try {
        (void)parse_url(url);
    } catch (const usage_error& e) {
        return e.what();
    }
    return {};
}

TEST(UrlTest, Defaults) {
    const auto o = parse_url("redis://localhost");
    EXPECT_EQ(o.kind, connection_options::transport::tcp);
    EXPECT_EQ(o.host, "localhost");
    EXPECT_EQ(o.port, 6379);
    EXPECT_EQ(o.db, 0);
    EXPECT_TRUE(o.user.empty());
    EXPECT_TRUE(o.password.empty());
    EXPECT_FALSE(o.tls);
    EXPECT_EQ(o.connect_timeout, connection_options{}.connect_timeout);
    EXPECT_EQ(o.command_timeout, connection_options{}.command_timeout);
    EXPECT_TRUE(o.client_name.empty());
}

TEST(UrlTest, HostPortDb) {
    const auto o = parse_url("redis://redis.example.com:6380/7");
    EXPECT_EQ(o.host, "redis.example.com");
    EXPECT_EQ(o.port, 6380);
    EXPECT_EQ(o.db, 7);
}

TEST(UrlTest, EmptyHostMeansLoopback) {
    EXPECT_EQ(parse_url("redis://").host, "127.0.0.1");
    const auto o = parse_url("redis:///3");
    EXPECT_EQ(o.host, "127.0.0.1");
    EXPECT_EQ(o.db, 3);
    EXPECT_EQ(parse_url("redis://:6390").port, 6390);
}

TEST(UrlTest, TrailingSlashKeepsDbZero) {
    EXPECT_EQ(parse_url("redis://h/").db, 0);
}

TEST(UrlTest, SchemeIsCaseInsensitive) {
    EXPECT_EQ(parse_url("REDIS://h:1").port, 1);
    EXPECT_TRUE(parse_url("Rediss://h").tls);
    EXPECT_EQ(parse_url("UNIX:///s.sock").path, "/s.sock");
}

TEST(UrlTest, RedissSetsTlsAndKeepsDefaultPort) {
    const auto o = parse_url("rediss://secure.example.com");
    EXPECT_TRUE(o.tls);
    EXPECT_EQ(o.port, 6379);
    EXPECT_EQ(parse_url("rediss://h:6390").port, 6390);
}

TEST(UrlTest, UserAndPassword) {
    const auto o = parse_url("redis://alice:s3cret@h:1/2");
    EXPECT_EQ(o.user, "alice");
    EXPECT_EQ(o.password, "s3cret");
    EXPECT_EQ(o.host, "h");
    EXPECT_EQ(o.port, 1);
    EXPECT_EQ(o.db, 2);
}

TEST(UrlTest, PasswordOnly) {
    const auto o = parse_url("redis://:pass@h");
    EXPECT_TRUE(o.user.empty());
    EXPECT_EQ(o.password, "pass");
}

TEST(UrlTest, UserWithoutPasswordIsAllowed) {
    // Sent as AUTH user "" (fits ACL users declared nopass).
    const auto o = parse_url("redis://bob@h");
    EXPECT_EQ(o.user, "bob");
    EXPECT_TRUE(o.password.empty());
    EXPECT_EQ(parse_url("redis://bob:@h").user, "bob");
}

TEST(UrlTest, EmptyUserinfo) {
    const auto o = parse_url("redis://@h");
    EXPECT_TRUE(o.user.empty());
    EXPECT_TRUE(o.password.empty());
    EXPECT_EQ(o.host, "h");
}

TEST(UrlTest, PercentDecodingOfCredentials) {
    const auto o = parse_url("redis://us%65r%3Aname:p%40ss%2Fw%3Ard%25@h");
    EXPECT_EQ(o.user, "user:name");
    EXPECT_EQ(o.password, "p@ss/w:rd%");
}

TEST(UrlTest, PercentDecodingIsBinarySafe) {
    const auto o = parse_url("redis://:a%00b%ff@h");
    EXPECT_EQ(o.password, std::string("a\0b\xff", 4));
}

TEST(UrlTest, PlusIsNotASpace) {
    EXPECT_EQ(parse_url("redis://:a+b@h").password, "a+b");
}

TEST(UrlTest, PasswordMayContainDelimitersUnescaped) {
    // Credentials end at the last '@', so '/', '?', '#', ':' and '@' need no escaping.
    const auto o = parse_url("redis://u:p/a?s#s:w@o@h:6380/4");
    EXPECT_EQ(o.user, "u");
    EXPECT_EQ(o.password, "p/a?s#s:w@o");
    EXPECT_EQ(o.host, "h");
    EXPECT_EQ(o.port, 6380);
    EXPECT_EQ(o.db, 4);
}

TEST(UrlTest, BadPercentEscapesAreRejected) {
    for (const char* url :
         {"redis://:ab%zz@h", "redis://:ab%4@h", "redis://:ab%@h", "redis://us%g1er@h", "unix:///tmp/a%2"}) {
        const auto msg = error_of(url);
        EXPECT_NE(msg.find("percent-encoding"), std::string::npos) << url << " -> " << msg;
    }
    EXPECT_NE(error_of("redis://:ab%zz@h").find("password"), std::string::npos);
    EXPECT_NE(error_of("redis://us%g1er@h").find("user name"), std::string::npos);
}

TEST(UrlTest, Ipv6) {
    auto o = parse_url("redis://[::1]:6380");
    EXPECT_EQ(o.host, "::1");
    EXPECT_EQ(o.port, 6380);
    o = parse_url("redis://[2001:db8::42]/5");
    EXPECT_EQ(o.host, "2001:db8::42");
    EXPECT_EQ(o.port, 6379);
    EXPECT_EQ(o.db, 5);
    o = parse_url("redis://u:p@[::ffff:127.0.0.1]:7000");
    EXPECT_EQ(o.host, "::ffff:127.0.0.1");
    EXPECT_EQ(o.password, "p");
    EXPECT_EQ(parse_url("redis://[fe80::1%25eth0]:1").host, "fe80::1%eth0");
}

TEST(UrlTest, BadIpv6) {
    EXPECT_NE(error_of("redis://[::1").find("']'"), std::string::npos);
    EXPECT_NE(error_of("redis://[::1]x").find("after ']'"), std::string::npos);
    EXPECT_NE(error_of("redis://[nothex]:1").find("invalid IPv6 address 'nothex'"), std::string::npos);
    EXPECT_NE(error_of("redis://[]").find("IPv6"), std::string::npos);
    EXPECT_NE(error_of("redis://::1:6379").find("brackets"), std::string::npos);
}

TEST(UrlTest, UnixSocket) {
    auto o = parse_url("unix:///var/run/redis/redis.sock");
    EXPECT_EQ(o.kind, connection_options::transport::unix_socket);
    EXPECT_EQ(o.path, "/var/run/redis/redis.sock");
    EXPECT_EQ(o.db, 0);
    o = parse_url("unix:/tmp/r.sock?db=3&timeout=250ms&name=worker-1");
    EXPECT_EQ(o.path, "/tmp/r.sock");
    EXPECT_EQ(o.db, 3);
    EXPECT_EQ(o.command_timeout, 250ms);
    EXPECT_EQ(o.client_name, "worker-1");
    EXPECT_EQ(parse_url("unix:relative.sock").path, "relative.sock");
}

TEST(UnixUrlTest, PercentDecodedPath) {
    EXPECT_EQ(parse_url("unix:///tmp/my%20dir/r%3F.sock").path, "/tmp/my dir/r?.sock");
    // '@' in a path is not mistaken for the end of credentials.
    EXPECT_EQ(parse_url("unix:/tmp/a@b.sock").path, "/tmp/a@b.sock");
    EXPECT_EQ(parse_url("unix:///tmp/a@b.sock").path, "/tmp/a@b.sock");
    const auto o = parse_url("unix://u:p@/tmp/a@b.sock");
    EXPECT_EQ(o.path, "/tmp/a@b.sock");
    EXPECT_EQ(o.password, "p");
}

TEST(UnixUrlTest, Credentials) {
    auto o = parse_url("unix://alice:pw@/tmp/r.sock");
    EXPECT_EQ(o.user, "alice");
    EXPECT_EQ(o.password, "pw");
    EXPECT_EQ(o.path, "/tmp/r.sock");
    o = parse_url("unix:///tmp/r.sock?password=p%26w&user=bob");
    EXPECT_EQ(o.user, "bob");
    EXPECT_EQ(o.password, "p&w");
}

TEST(UnixUrlTest, Errors) {
    EXPECT_NE(error_of("unix://").find("missing socket path"), std::string::npos);
    EXPECT_NE(error_of("unix:").find("missing socket path"), std::string::npos);
    EXPECT_NE(error_of("unix://host/tmp/r.sock").find("no host"), std::string::npos);
    EXPECT_NE(error_of("unix:///a%00b").find("NUL"), std::string::npos);
    EXPECT_NE(error_of("unix:///" + std::string(200, 'x')).find("longer than 107"), std::string::npos);
}

TEST(UrlTest, QueryOptions) {
    const auto o = parse_url("redis://h/1?timeout=1.5s&connect_timeout=250ms&name=my-client");
    EXPECT_EQ(o.db, 1);
    EXPECT_EQ(o.command_timeout, 1500ms);
    EXPECT_EQ(o.connect_timeout, 250ms);
    EXPECT_EQ(o.client_name, "my-client");
    EXPECT_EQ(parse_url("redis://h?command_timeout=3").command_timeout, 3s);
    EXPECT_EQ(parse_url("redis://h?db=9").db, 9);
    EXPECT_EQ(parse_url("redis://h?&db=9&").db, 9);
    EXPECT_EQ(parse_url("redis://h?name=a%2Fb").client_name, "a/b");
}

TEST(UrlTest, DurationUnits) {
    const auto timeout = [](const std::string& text) {
        return parse_url("redis://h?timeout=" + text).command_timeout;
    };
    EXPECT_EQ(timeout("2"), 2s);
    EXPECT_EQ(timeout("2s"), 2s);
    EXPECT_EQ(timeout("0.5s"), 500ms);
    EXPECT_EQ(timeout("0.5"), 500ms);
    EXPECT_EQ(timeout("500ms"), 500ms);
    EXPECT_EQ(timeout("1m"), 60s);
    EXPECT_EQ(timeout("1.5m"), 90s);
    EXPECT_EQ(timeout("2500us"), 3ms);  // rounded up to whole milliseconds
    EXPECT_EQ(timeout("1us"), 1ms);     // never rounded down to zero
    EXPECT_EQ(timeout("0.0001s"), 1ms); // likewise
    EXPECT_EQ(timeout("1000us"), 1ms);
    EXPECT_EQ(timeout("86400s"), 24h);
    EXPECT_EQ(timeout("007ms"), 7ms);
}

TEST(UrlTest, BadDurations) {
    for (const char* text : {"", "abc", "5h", "5 s", "-1s", "+1s", "1e3", ".5s", "5.s", "1.2.3s", "5MS"}) {
        const auto msg = error_of(std::string("redis://h?timeout=") + text);
        EXPECT_NE(msg.find("option 'timeout'"), std::string::npos) << "'" << text << "' -> " << msg;
    }
    EXPECT_NE(error_of("redis://h?timeout=5h").find("unknown unit 'h'"), std::string::npos);
    EXPECT_NE(error_of("redis://h?timeout=0").find("positive"), std::string::npos);
    EXPECT_NE(error_of("redis://h?connect_timeout=0ms").find("positive"), std::string::npos);
    EXPECT_NE(error_of("redis://h?timeout=86401s").find("one day"), std::string::npos);
    EXPECT_NE(error_of("redis://h?timeout=99999999999999999999999999m").find("one day"), std::string::npos);
    EXPECT_NE(error_of("redis://h?command_timeout=x").find("option 'command_timeout'"), std::string::npos);
}

TEST(UrlTest, BadPorts) {
    EXPECT_NE(error_of("redis://h:0").find("invalid port '0'"), std::string::npos);
    EXPECT_NE(error_of("redis://h:65536").find("invalid port '65536'"), std::string::npos);
    EXPECT_NE(error_of("redis://h:99999999999999999999").find("invalid port"), std::string::npos);
    EXPECT_NE(error_of("redis://h:-1").find("invalid port"), std::string::npos);
    EXPECT_NE(error_of("redis://h:12a").find("invalid port '12a'"), std::string::npos);
    EXPECT_NE(error_of("redis://h:").find("empty port"), std::string::npos);
    EXPECT_EQ(parse_url("redis://h:65535").port, 65535);
    EXPECT_EQ(parse_url("redis://h:1").port, 1);
}

TEST(UrlTest, BadDatabases) {
    EXPECT_NE(error_of("redis://h/-1").find("invalid database '-1'"), std::string::npos);
    EXPECT_NE(error_of("redis://h/x").find("invalid database 'x'"), std::string::npos);
    EXPECT_NE(error_of("redis://h/1/2").find("invalid database '1/2'"), std::string::npos);
    EXPECT_NE(error_of("redis://h/99999999999").find("too large"), std::string::npos);
    EXPECT_NE(error_of("redis://h?db=-3").find("invalid database"), std::string::npos);
    EXPECT_NE(error_of("redis://h/1?db=1").find("both"), std::string::npos);
    EXPECT_EQ(parse_url("redis://h/2147483647").db, 2147483647);
}

TEST(UrlTest, BadOptions) {
    EXPECT_NE(error_of("redis://h?foo=1").find("unknown option 'foo'"), std::string::npos);
    EXPECT_NE(error_of("redis://h?db").find("without '='"), std::string::npos);
    EXPECT_NE(error_of("redis://h?db=1&db=2").find("given twice"), std::string::npos);
    EXPECT_NE(error_of("redis://h?timeout=1&command_timeout=2").find("given twice"), std::string::npos);
    EXPECT_NE(error_of("redis://h?name=a%20b").find("client names"), std::string::npos);
    EXPECT_NE(error_of("redis://h?name=").find("empty"), std::string::npos);
    EXPECT_NE(error_of("redis://u@h?user=v").find("user given both"), std::string::npos);
}

TEST(UrlTest, BadShapes) {
    EXPECT_NE(error_of("").find("empty"), std::string::npos);
    EXPECT_NE(error_of("localhost:6379").find("missing scheme"), std::string::npos);
    EXPECT_NE(error_of("localhost").find("missing scheme"), std::string::npos);
    EXPECT_NE(error_of("http://h").find("unsupported scheme 'http'"), std::string::npos);
    EXPECT_NE(error_of("redis:h").find("expected '//'"), std::string::npos);
    EXPECT_NE(error_of("redis://h#frag").find("fragments"), std::string::npos);
    EXPECT_NE(error_of("redis://bad host").find("invalid host 'bad host'"), std::string::npos);
    EXPECT_NE(error_of("redis://h%41").find("invalid host"), std::string::npos);
    for (const char* url : {"redis://h:1x", "redis://h/ 1"}) {
        EXPECT_NE(error_of(url), "") << url;
    }
    // Every message says what is wrong with a URL.
    EXPECT_EQ(error_of("http://h").rfind("invalid redis URL: ", 0), 0u);
}

TEST(UrlTest, PasswordNeverAppearsInErrors) {
    const std::string secret = "Sup3rSecretPw";
    const std::string bad_urls[] = {
        "redis://user:" + secret + "@h:0",
        "redis://user:" + secret + "@h:abc",
        "redis://user:" + secret + "@h/notadb",
        "redis://user:" + secret + "@bad host",
        "redis://user:" + secret + "@h?timeout=zz",
        "redis://user:" + secret + "@h?unknown=1",
        "redis://user:" + secret + "%zz@h",
        "redis://user:" + secret + "@h#frag",
        "redis://:" + secret + "@[zz]",
        "redis://h?password=" + secret + "%zz",
        "redis://:x@h?password=" + secret,
        "redis://h?password=" + secret + "&password=" + secret,
        "redis://h?password=" + secret + "&db=x",
        "redis://h?" + secret,
        "unix://u:" + secret + "@host",
        "unix://u:" + secret + "@host/x.sock",
        "unix://u:" + secret + "@/x.sock?bad=1",
        "bogus" + secret + "://h",
        "x" + secret + ":" + secret + "@h",
        secret + ":" + secret + "@h",
        "redis:" + secret + "@h",
        // A password that contains an unescaped '/' still stays out of messages.
        "redis://user:" + secret + "/x@h:0",
    };
    for (const auto& url : bad_urls) {
        const std::string msg = error_of(url);
        EXPECT_FALSE(msg.empty()) << "expected an error for " << url;
        EXPECT_EQ(msg.find(secret), std::string::npos) << msg;
        EXPECT_EQ(msg.find("Sup3r"), std::string::npos) << msg;
    }
}

TEST(UrlTest, AddressNeverContainsCredentials) {
    EXPECT_EQ(parse_url("redis://u:secret@h:1").address(), "h:1");
    EXPECT_EQ(parse_url("redis://[::1]:6380").address(), "[::1]:6380");
    EXPECT_EQ(parse_url("redis://u:secret@[::1]").address(), "[::1]:6379");
    EXPECT_EQ(parse_url("unix://u:secret@/tmp/r.sock").address(), "unix:/tmp/r.sock");
    EXPECT_EQ(connection_options{}.address(), "127.0.0.1:6379");
}

// Sets or clears an environment variable for one test, restoring it afterwards.
class scoped_env {
public:
    scoped_env(const char* name, const char* value) : name_(name) {
        if (const char* old = std::getenv(name)) {
            old_ = old;
        }
        if (value != nullptr) {
            ::setenv(name, value, 1);
        } else {
            ::unsetenv(name);
        }
    }
    ~scoped_env() {
        if (old_) {
            ::setenv(name_, old_->c_str(), 1);
        } else {
            ::unsetenv(name_);
        }
    }
    scoped_env(const scoped_env&) = delete;
    scoped_env& operator=(const scoped_env&) = delete;

private:
    const char* name_;
    std::optional<std::string> old_;
};

TEST(UrlTest, DefaultUrlFromEnvironment) {
    {
        const scoped_env env("REDIS_URL", "redis://example:1234/5");
        EXPECT_EQ(redisrpc::default_url(), "redis://example:1234/5");
    }
    {
        const scoped_env env("REDIS_URL", nullptr);
        EXPECT_EQ(redisrpc::default_url(), "redis://127.0.0.1:6379/0");
        const auto o = parse_url(redisrpc::default_url());
        EXPECT_EQ(o.host, "127.0.0.1");
        EXPECT_EQ(o.port, 6379);
    }
    {
        const scoped_env env("REDIS_URL", "");
        EXPECT_EQ(redisrpc::default_url(), "redis://127.0.0.1:6379/0");
    }
}

// ---- TLS options (rediss:// only) ------------------------------------------------------------

TEST(UrlTest, TlsDefaultsVerifyWithSystemCas) {
    const auto o = parse_url("rediss://redis.example.com:6380");
    EXPECT_TRUE(o.tls);
    EXPECT_TRUE(o.tls_verify);
    EXPECT_TRUE(o.tls_ca_file.empty());
    EXPECT_TRUE(o.tls_ca_dir.empty());
    EXPECT_TRUE(o.tls_cert_file.empty());
    EXPECT_TRUE(o.tls_key_file.empty());
    EXPECT_TRUE(o.tls_server_name.empty()); // the host is used
    EXPECT_TRUE(connection_options{}.tls_verify);
}

TEST(UrlTest, TlsFileOptions) {
    const auto o = parse_url("rediss://h?tls_ca_file=/etc/ca%20dir/ca.pem&tls_ca_dir=/etc/ssl/certs"
                             "&tls_cert_file=/c/client.crt&tls_key_file=/c/client.key&tls_server_name=redis.internal");
    EXPECT_EQ(o.tls_ca_file, "/etc/ca dir/ca.pem");
    EXPECT_EQ(o.tls_ca_dir, "/etc/ssl/certs");
    EXPECT_EQ(o.tls_cert_file, "/c/client.crt");
    EXPECT_EQ(o.tls_key_file, "/c/client.key");
    EXPECT_EQ(o.tls_server_name, "redis.internal");
}

TEST(UrlTest, TlsServerNameMayBeAnIpAddress) {
    EXPECT_EQ(parse_url("rediss://h?tls_server_name=10.0.0.1").tls_server_name, "10.0.0.1");
    EXPECT_EQ(parse_url("rediss://h?tls_server_name=::1").tls_server_name, "::1");
    EXPECT_NE(error_of("rediss://h?tls_server_name=a%20b").find("tls_server_name"), std::string::npos);
    EXPECT_NE(error_of("rediss://h?tls_server_name=").find("tls_server_name"), std::string::npos);
}

TEST(UrlTest, TlsVerifyOptOut) {
    EXPECT_FALSE(parse_url("rediss://h?insecure=true").tls_verify);
    EXPECT_FALSE(parse_url("rediss://h?insecure=1").tls_verify);
    EXPECT_TRUE(parse_url("rediss://h?insecure=false").tls_verify);
    EXPECT_FALSE(parse_url("rediss://h?tls_verify=no").tls_verify);
    EXPECT_FALSE(parse_url("rediss://h?tls_verify=false").tls_verify);
    EXPECT_FALSE(parse_url("rediss://h?tls_verify=OFF").tls_verify);
    EXPECT_TRUE(parse_url("rediss://h?tls_verify=yes").tls_verify);
    EXPECT_NE(error_of("rediss://h?tls_verify=maybe").find("tls_verify"), std::string::npos);
    // Both spellings at once would be ambiguous.
    EXPECT_NE(error_of("rediss://h?tls_verify=yes&insecure=true").find("twice"), std::string::npos);
}

TEST(UrlTest, TlsOptionsNeedRediss) {
    for (const char* url : {"redis://h?tls_ca_file=/ca.pem", "redis://h?insecure=true", "redis://h?tls_verify=yes",
                            "unix:///s.sock?tls_server_name=h", "redis://h?tls_cert_file=/a&tls_key_file=/b"}) {
        EXPECT_NE(error_of(url).find("needs a rediss:// URL"), std::string::npos) << url;
    }
}

TEST(UrlTest, TlsCertificateNeedsItsKey) {
    EXPECT_NE(error_of("rediss://h?tls_cert_file=/c.crt").find("together"), std::string::npos);
    EXPECT_NE(error_of("rediss://h?tls_key_file=/c.key").find("together"), std::string::npos);
    EXPECT_NE(error_of("rediss://h?tls_ca_file=").find("empty"), std::string::npos);
    EXPECT_NE(error_of("rediss://h?tls_ca_file=/a%00b").find("NUL"), std::string::npos);
    EXPECT_NE(error_of("rediss://h?tls_ca_file=/a&tls_ca_file=/b").find("twice"), std::string::npos);
}

TEST(UrlTest, TlsUrlWithCredentialsKeepsThemOutOfErrors) {
    const auto o = parse_url("rediss://alice:p%40ss@h:6390/2?tls_ca_file=/ca.pem");
    EXPECT_EQ(o.user, "alice");
    EXPECT_EQ(o.password, "p@ss");
    EXPECT_EQ(o.db, 2);
    EXPECT_EQ(error_of("rediss://alice:s3cretpw@h?tls_verify=perhaps").find("s3cretpw"), std::string::npos);
}

} // namespace
