// Closing a client's connection without answering (the drop_connection fault) through cpprest's
// listener, which has no API for it:
//  - when a connection is accepted, the TLS context callback finds its socket (the one accepted
//    socket on the listening port not seen before) and attaches it to the connection's SSL_CTX;
//  - OpenSSL's record callback remembers, per thread, the socket of the TLS connection whose
//    record was read last; cpprest calls the request handler on that thread right after reading
//    the headers, so the handler learns its connection with current_connection();
//  - drop() shuts the socket down: the client sees the connection close with no response byte.
#pragma once

#include <openssl/ssl.h>

#include <atomic>
#include <mutex>
#include <optional>
#include <set>
#include <utility>

namespace sandbox {

struct ConnectionSocket {
  int descriptor = -1;
  int peer_port = 0;  // tells a reused descriptor from the one that was found
};

class ConnectionDropper {
 public:
  ConnectionDropper() = default;
  ConnectionDropper(const ConnectionDropper&) = delete;
  ConnectionDropper& operator=(const ConnectionDropper&) = delete;

  void set_listening_port(int port) { listening_port_ = port; }

  // From the TLS context callback, once per accepted connection.
  void track(SSL_CTX* context);

  // When OpenSSL frees a tracked connection's context.
  void untrack(const ConnectionSocket& connection);

  // From the request handler, before it hands the request to another thread.
  static std::optional<ConnectionSocket> current_connection();

  // Shuts the socket down; false if it is no longer that connection's.
  static bool drop(const ConnectionSocket& connection);

 private:
  std::atomic<int> listening_port_{0};
  std::mutex mutex_;
  std::set<std::pair<int, int>> known_;  // (descriptor, peer port) of the tracked connections
};

}  // namespace sandbox
