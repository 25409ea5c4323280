// The policy fetch against a real nginx on loopback (tests/integration/mta-sts/nginx_fixture.hpp):
// a valid policy, a redirect (not followed), 404, a wrong content type, a body over the limit,
// a certificate for another name, a self-signed one, an unreachable address; all fetched at
// once on one io_context, as a scan would.
#include <gtest/gtest.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>

#include "mta-sts/nginx_fixture.hpp"
#include "mxtls/mta_sts.hpp"
#include "mxtls/mta_sts_fetch.hpp"

namespace mxtls {
namespace {

using test::policy_host;

const std::string good_policy = "version: STSv1\nmode: enforce\nmx: mail.good.test\nmax_age: 604800\n";

std::vector<policy_host> hosts() {
  return {
      {.domain = "good.test", .body = good_policy},
      {.domain = "redirect.test", .body = "", .status = 301, .location = "https://mta-sts.good.test/.well-known/mta-sts.txt"},
      {.domain = "notfound.test", .body = "", .status = 404},
      {.domain = "html.test", .body = good_policy, .content_type = "text/html"},
      {.domain = "charset.test", .body = good_policy, .content_type = "text/plain; charset=utf-8"},
      {.domain = "big.test", .body = good_policy + std::string(70000, '#') + "\n"},
      {.domain = "badname.test", .body = good_policy, .certificate = policy_host::cert::wrong_name},
      {.domain = "selfsigned.test", .body = good_policy, .certificate = policy_host::cert::self_signed},
  };
}

struct outcome {
  std::string domain;
  policy_fetch_result r;
};

std::vector<outcome> fetch_all(const test::nginx_fixture& nginx, const std::vector<std::pair<std::string, std::string>>& targets) {
  asio::io_context io;
  policy_fetcher fetcher(io);
  std::vector<outcome> out(targets.size());
  policy_fetch_options o;
  o.ca_file = nginx.ca_file();
  o.connect_timeout = std::chrono::milliseconds(5000);
  o.timeout = std::chrono::milliseconds(20000);
  for (std::size_t i = 0; i < targets.size(); ++i) {
    out[i].domain = targets[i].first;
    std::vector<std::string> addrs;
    if (!targets[i].second.empty()) addrs.push_back(targets[i].second);
    asio::co_spawn(io, [&, i, addrs]() -> asio::awaitable<void> {
      auto f = fetcher.fetch(targets[i].first, addrs, o);
      out[i].r = co_await std::move(f);
    }, asio::detached);
  }
  io.run();
  return out;
}

TEST(MtaStsFetch, AgainstNginx) {
  test::nginx_fixture nginx(hosts());
  std::vector<std::pair<std::string, std::string>> targets;
  for (const auto& h : hosts()) targets.emplace_back(h.domain, nginx.address());
  targets.emplace_back("noaddress.test", "");
  targets.emplace_back("refused.test", "127.0.0.1");  // nothing listens on 127.0.0.1:443 in the test... unless something does
  auto out = fetch_all(nginx, targets);
  auto find = [&](const std::string& d) -> const policy_fetch_result& {
    for (const auto& o : out)
      if (o.domain == d) return o.r;
    throw std::runtime_error(d);
  };
  const auto& good = find("good.test");
  EXPECT_EQ(good.error, fetch_error::none) << good.detail;
  EXPECT_EQ(good.http_status, 200);
  EXPECT_EQ(good.url, "https://mta-sts.good.test/.well-known/mta-sts.txt");
  EXPECT_EQ(good.address_used, nginx.address());
  EXPECT_EQ(good.body, good_policy);
  EXPECT_TRUE(parse_sts_policy(good.body).valid);

  const auto& redirect = find("redirect.test");
  EXPECT_EQ(redirect.error, fetch_error::redirect) << redirect.detail;
  EXPECT_EQ(redirect.http_status, 301);
  EXPECT_EQ(redirect.location, "https://mta-sts.good.test/.well-known/mta-sts.txt");

  EXPECT_EQ(find("notfound.test").error, fetch_error::http_status);
  EXPECT_EQ(find("notfound.test").http_status, 404);
  EXPECT_EQ(find("html.test").error, fetch_error::content_type);
  EXPECT_EQ(find("html.test").content_type, "text/html");
  EXPECT_EQ(find("charset.test").error, fetch_error::none) << find("charset.test").detail;
  EXPECT_EQ(find("big.test").error, fetch_error::too_large);
  EXPECT_LE(find("big.test").body.size(), policy_fetch_options{}.max_body_octets);
  EXPECT_EQ(find("badname.test").error, fetch_error::tls_verify) << find("badname.test").detail;
  EXPECT_EQ(find("selfsigned.test").error, fetch_error::tls_verify) << find("selfsigned.test").detail;
  EXPECT_EQ(find("noaddress.test").error, fetch_error::no_address);
  EXPECT_NE(find("refused.test").error, fetch_error::none);
}

TEST(MtaStsFetch, WithoutTheTestCaNothingVerifies) {
  test::nginx_fixture nginx({{.domain = "good.test", .body = good_policy}});
  asio::io_context io;
  policy_fetcher fetcher(io);
  policy_fetch_result r;
  policy_fetch_options o;  // the system's store: the test CA is not in it
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    auto f = fetcher.fetch("good.test", {nginx.address()}, o);
    r = co_await std::move(f);
  }, asio::detached);
  io.run();
  EXPECT_EQ(r.error, fetch_error::tls_verify) << r.detail;
}

TEST(MtaStsFetch, ContentTypeRule) {
  EXPECT_TRUE(is_text_plain("text/plain"));
  EXPECT_TRUE(is_text_plain("Text/Plain; charset=us-ascii"));
  EXPECT_FALSE(is_text_plain("text/html"));
  EXPECT_FALSE(is_text_plain("text/plainx"));
  EXPECT_FALSE(is_text_plain(""));
}

}  // namespace
}  // namespace mxtls
