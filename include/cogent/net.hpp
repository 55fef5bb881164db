// cogent::net: TCP, Unix-domain and UDP sockets and name resolution, for greenlets and tasks.
#pragma once

#include "cogent/net/address.hpp"
#include "cogent/net/listener.hpp"
#include "cogent/net/resolve.hpp"
#include "cogent/net/socket.hpp"
#include "cogent/net/stream.hpp"
#include "cogent/net/udp.hpp"
