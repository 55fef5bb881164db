// cogent: gevent for native code. One header for the whole public API.
//
//   #include <cogent/cogent.hpp>
//   using namespace std::chrono_literals;
//   int main() {
//     auto g = cogent::spawn([] { cogent::sleep(10ms); return 1; });
//     return g.get() - 1;
//   }
#pragma once

#include "cogent/clock.hpp"
#include "cogent/condition.hpp"
#include "cogent/error.hpp"
#include "cogent/event.hpp"
#include "cogent/fs.hpp"
#include "cogent/greenlet.hpp"
#include "cogent/group.hpp"
#include "cogent/hub.hpp"
#include "cogent/local.hpp"
#include "cogent/lock.hpp"
#include "cogent/net.hpp"
#include "cogent/pool.hpp"
#include "cogent/queue.hpp"
#include "cogent/run.hpp"
#include "cogent/sleep.hpp"
#include "cogent/task.hpp"
#include "cogent/thread_pool.hpp"
#include "cogent/timeout.hpp"
#include "cogent/wait_fd.hpp"
