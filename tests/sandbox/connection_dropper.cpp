#include "connection_dropper.h"

#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cstdlib>
#include <vector>

namespace sandbox {

namespace {

// The socket of the connection whose TLS record this thread read last.
thread_local std::optional<ConnectionSocket> last_read_connection;

struct TrackedSocket {
  ConnectionSocket socket;
  ConnectionDropper* owner;
};

void free_tracked(void*, void* pointer, CRYPTO_EX_DATA*, int, long, void*) {
  auto* tracked = static_cast<TrackedSocket*>(pointer);
  if (tracked == nullptr) return;
  tracked->owner->untrack(tracked->socket);
  delete tracked;
}

int tracked_index() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, free_tracked);
  return index;
}

void remember_reads(int write_p, int, int content_type, const void* buffer, size_t length, SSL* ssl, void*) {
  if (write_p != 0 || content_type != SSL3_RT_HEADER || length < 1 ||
      static_cast<const unsigned char*>(buffer)[0] != SSL3_RT_APPLICATION_DATA) {
    return;
  }
  const auto* tracked = static_cast<const TrackedSocket*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), tracked_index()));
  last_read_connection = tracked ? std::optional(tracked->socket) : std::nullopt;
}

int port_of(const sockaddr_storage& address) {
  if (address.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in&>(address).sin_port);
  if (address.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6&>(address).sin6_port);
  return -1;
}

std::optional<int> peer_port(int descriptor) {
  sockaddr_storage address{};
  socklen_t size = sizeof address;
  if (::getpeername(descriptor, reinterpret_cast<sockaddr*>(&address), &size) != 0) return std::nullopt;
  return port_of(address);
}

// Connected sockets of this process whose local port is the listening port.
std::vector<ConnectionSocket> accepted_sockets(int listening_port) {
  std::vector<ConnectionSocket> sockets;
  DIR* directory = ::opendir("/proc/self/fd");
  if (directory == nullptr) return sockets;
  while (const dirent* entry = ::readdir(directory)) {
    if (entry->d_name[0] == '.') continue;
    const int descriptor = std::atoi(entry->d_name);
    struct stat status {};
    sockaddr_storage local{};
    socklen_t size = sizeof local;
    if (::fstat(descriptor, &status) != 0 || !S_ISSOCK(status.st_mode) ||
        ::getsockname(descriptor, reinterpret_cast<sockaddr*>(&local), &size) != 0 ||
        port_of(local) != listening_port) {
      continue;
    }
    if (const auto peer = peer_port(descriptor)) sockets.push_back({descriptor, *peer});
  }
  ::closedir(directory);
  return sockets;
}

}  // namespace

void ConnectionDropper::untrack(const ConnectionSocket& connection) {
  const std::lock_guard lock(mutex_);
  known_.erase({connection.descriptor, connection.peer_port});
}

void ConnectionDropper::track(SSL_CTX* context) {
  SSL_CTX_set_msg_callback(context, remember_reads);
  const std::lock_guard lock(mutex_);
  // cpprest accepts one connection at a time and calls this before accepting the next, so the
  // only accepted socket not yet known is this connection's. Anything else: leave it untracked.
  std::vector<ConnectionSocket> fresh;
  for (const auto& socket : accepted_sockets(listening_port_)) {
    if (!known_.contains({socket.descriptor, socket.peer_port})) fresh.push_back(socket);
  }
  if (fresh.size() != 1) return;
  known_.insert({fresh.front().descriptor, fresh.front().peer_port});
  SSL_CTX_set_ex_data(context, tracked_index(), new TrackedSocket{fresh.front(), this});
}

std::optional<ConnectionSocket> ConnectionDropper::current_connection() { return last_read_connection; }

bool ConnectionDropper::drop(const ConnectionSocket& connection) {
  if (peer_port(connection.descriptor) != connection.peer_port) return false;
  return ::shutdown(connection.descriptor, SHUT_RDWR) == 0;
}

}  // namespace sandbox
