// Check "tls-enum" (src/net/tls_enum.cpp): what a server accepts, from ClientHellos of the
// probe's own.
#pragma once

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>

#include "mxtls/live_session.hpp"
#include "mxtls/model/checks.hpp"
#include "mxtls/probe.hpp"

namespace mxtls {

// Starts making the enumeration's client context (an OpenSSL library context of its own
// with the default and legacy providers, and an SSL_CTX in it: milliseconds of CPU) on a
// thread of its own, once per process; every enumeration shares it. Called when a probe
// that enumerates begins, so that the context is ready when the first hello needs it.
void prepare_tls_enum();

// Versions, suites per version in the server's order, groups, signature algorithms, the
// certificates chosen for RSA and ECDSA hellos, DH size, renegotiation, OCSP, tickets: one
// STARTTLS session per ClientHello, at most limits.concurrency at once to this address, each
// also through `gate` (null: none), limits.max_handshakes in all.
asio::awaitable<tls_enum_facts> run_tls_enum(asio::ip::tcp::endpoint server, session_options options,
                                             tls_enum_limits limits, connection_gate* gate);

}  // namespace mxtls
