// Check "tls-senders" (src/net/tls_senders.cpp): each sender TLS profile's own ClientHello.
#pragma once

#include <memory>

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>

#include "mxtls/live_session.hpp"
#include "mxtls/model/checks.hpp"
#include "mxtls/probe.hpp"
#include "mxtls/sender_tls.hpp"

namespace asio::ssl {
class context;
}

namespace mxtls {

// A client context that makes the profile's ClientHello; verifies nothing.
std::shared_ptr<asio::ssl::context> make_profile_context(const tls_profile& p);
// Whether the probe's established handshake shows what this profile gets (no replay needed).
bool decided_by(const tls_profile& p, const tls_facts& probe_tls);
// The profiles' handshakes with `server`: decided ones from `probe_tls`, the others replayed
// concurrently, each session through `gate` (null: no limit).
asio::awaitable<tls_senders_facts> run_tls_senders(asio::ip::tcp::endpoint server, session_options opt,
                                                   const tls_facts& probe_tls, connection_gate* gate);

}  // namespace mxtls
