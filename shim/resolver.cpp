// Name resolution for greenlets: getaddrinfo, getnameinfo and the gethostbyname/gethostbyaddr
// family run the real libc call on a thread of the runtime's pool (cogent::ThreadPool::shared(),
// COGENT_THREADPOOL_SIZE threads, 10 by default, started as needed) while the calling greenlet
// waits cooperatively, as gevent's threadpool resolver does. Results are libc's own:
// - the pool thread starts from the caller's errno and h_errno, and the caller gets the pool
//   thread's back, so both are what the call left, as if it had run on the caller's thread;
// - gethostbyname, gethostbyname2 and gethostbyaddr return libc's static result, which is one
//   buffer for the whole process natively too (glibc keeps it under its own lock);
// - the _r variants and getnameinfo write into the caller's buffers from the pool thread: the
//   caller stays suspended until the call returns, even when killed meanwhile, so they are valid.
// A greenlet killed while its call waits in the pool's queue never runs it; one killed while the
// call runs waits for it to return (a list getaddrinfo made then is freed) and then unwinds.
// When the pool cannot start a thread, the call runs on the caller's thread, blocking it.
//
// The resolver state glibc keeps per thread (_res, set through res_init() or by hand) is the
// pool thread's own: options a program set on its thread's _res are not seen.
#include <errno.h>
#include <netdb.h>
#include <sys/socket.h>

#include <memory>
#include <new>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "cogent/error.hpp"
#include "cogent/thread_pool.hpp"
#include "shim/cooperative.hpp"
#include "shim/real.hpp"
#include "shim/stuck.hpp"

namespace cogent::shim {
namespace {

// A call's value with the errno and h_errno it left.
template <class R>
struct Outcome {
  R value;
  int error;
  int host_error;
};

/// Runs `call()` on a pool thread (see the top comment); the caller's errno and h_errno become
/// the ones the call left.
template <class Call>
auto on_pool(Call call) -> decltype(call()) {
  using R = decltype(call());
  const int caller_errno = errno;
  const int caller_h_errno = h_errno;
  auto run = [call, caller_errno, caller_h_errno]() mutable {
    errno = caller_errno;
    h_errno = caller_h_errno;
    R value = call();
    return Outcome<R>{std::move(value), errno, h_errno};
  };
  std::unique_ptr<Outcome<R>> out;
  try {
    RuntimeScope scope;
    out = std::make_unique<Outcome<R>>(ThreadPool::shared().submit(run));
  } catch (const LoopExit& e) {
    die_stuck(e);
  } catch (const std::system_error&) {
    // No pool thread (EAGAIN): here, blocking the thread. Likewise below.
    out = std::make_unique<Outcome<R>>(run());
  } catch (const std::bad_alloc&) {
    out = std::make_unique<Outcome<R>>(run());
  } catch (const std::invalid_argument&) {  // COGENT_THREADPOOL_SIZE is not a number
    out = std::make_unique<Outcome<R>>(run());
  }
  errno = out->error;
  h_errno = out->host_error;
  return std::move(out->value);
}

struct FreeAddrinfo {
  void operator()(addrinfo* list) const noexcept { COGENT_REAL(freeaddrinfo)(list); }
};

// getaddrinfo's result, owned until handed to the caller: freed if the caller was killed.
struct AddrinfoResult {
  int rc;
  std::unique_ptr<addrinfo, FreeAddrinfo> list;
};

}  // namespace
}  // namespace cogent::shim

extern "C" {

int getaddrinfo(const char* node, const char* service, const addrinfo* hints, addrinfo** res) {
  if (!cogent::shim::cooperative()) return COGENT_REAL(getaddrinfo)(node, service, hints, res);
  cogent::shim::AddrinfoResult r = cogent::shim::on_pool([=] {
    addrinfo* list = nullptr;
    const int rc = COGENT_REAL(getaddrinfo)(node, service, hints, &list);
    return cogent::shim::AddrinfoResult{
        rc, std::unique_ptr<addrinfo, cogent::shim::FreeAddrinfo>(rc == 0 ? list : nullptr)};
  });
  if (r.rc == 0) *res = r.list.release();
  return r.rc;
}

int getnameinfo(const sockaddr* addr, socklen_t addrlen, char* host, socklen_t hostlen, char* serv,
                socklen_t servlen, int flags) {
  if (!cogent::shim::cooperative()) {
    return COGENT_REAL(getnameinfo)(addr, addrlen, host, hostlen, serv, servlen, flags);
  }
  return cogent::shim::on_pool(
      [=] { return COGENT_REAL(getnameinfo)(addr, addrlen, host, hostlen, serv, servlen, flags); });
}

hostent* gethostbyname(const char* name) {
  if (!cogent::shim::cooperative()) return COGENT_REAL(gethostbyname)(name);
  return cogent::shim::on_pool([=] { return COGENT_REAL(gethostbyname)(name); });
}

hostent* gethostbyname2(const char* name, int af) {
  if (!cogent::shim::cooperative()) return COGENT_REAL(gethostbyname2)(name, af);
  return cogent::shim::on_pool([=] { return COGENT_REAL(gethostbyname2)(name, af); });
}

hostent* gethostbyaddr(const void* addr, socklen_t len, int type) {
  if (!cogent::shim::cooperative()) return COGENT_REAL(gethostbyaddr)(addr, len, type);
  return cogent::shim::on_pool([=] { return COGENT_REAL(gethostbyaddr)(addr, len, type); });
}

int gethostbyname_r(const char* name, hostent* ret, char* buf, size_t buflen, hostent** result,
                    int* h_errnop) {
  if (!cogent::shim::cooperative()) {
    return COGENT_REAL(gethostbyname_r)(name, ret, buf, buflen, result, h_errnop);
  }
  return cogent::shim::on_pool(
      [=] { return COGENT_REAL(gethostbyname_r)(name, ret, buf, buflen, result, h_errnop); });
}

int gethostbyname2_r(const char* name, int af, hostent* ret, char* buf, size_t buflen,
                     hostent** result, int* h_errnop) {
  if (!cogent::shim::cooperative()) {
    return COGENT_REAL(gethostbyname2_r)(name, af, ret, buf, buflen, result, h_errnop);
  }
  return cogent::shim::on_pool(
      [=] { return COGENT_REAL(gethostbyname2_r)(name, af, ret, buf, buflen, result, h_errnop); });
}

int gethostbyaddr_r(const void* addr, socklen_t len, int type, hostent* ret, char* buf,
                    size_t buflen, hostent** result, int* h_errnop) {
  if (!cogent::shim::cooperative()) {
    return COGENT_REAL(gethostbyaddr_r)(addr, len, type, ret, buf, buflen, result, h_errnop);
  }
  return cogent::shim::on_pool([=] {
    return COGENT_REAL(gethostbyaddr_r)(addr, len, type, ret, buf, buflen, result, h_errnop);
  });
}

}  // extern "C"
