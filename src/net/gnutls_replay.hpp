// The ClientHello of a sender built on GnuTLS (Exim, msmtp), made by GnuTLS itself with the
// sender's priority string, instead of the nearest OpenSSL settings: which versions, suites,
// groups and signatures such a sender accepts is GnuTLS's own decision, and an OpenSSL
// context can only approximate it. libgnutls.so.30 is opened on the first replay
// (runtime_library.hpp), so commands that replay nothing do not load it.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>

#include "mxtls/live_session.hpp"
#include "mxtls/model/session.hpp"

namespace mxtls {

// A session_options::external_handshake: after the 220, a GnuTLS handshake with `priority`
// (gnutls_priority_init(3) syntax, e.g. "NORMAL") on the connection, no certificate check,
// SNI `sni` when not empty, within `timeout`. The facts name the version and suite as
// OpenSSL does ("TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384") and the group as the probe's
// facts do, so they compare with the OpenSSL replays; a failure has GnuTLS's own words.
using external_handshake_fn =
    std::function<asio::awaitable<bool>(asio::ip::tcp::socket&, tls_facts& tls, session_error& error)>;
external_handshake_fn gnutls_handshake(std::string priority, std::string sni, std::chrono::milliseconds timeout);

}  // namespace mxtls
