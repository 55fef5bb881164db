#include <vector>

#include "catch_compat.hpp"
#include "context/fiber.hpp"
#include "context/stack_pool.hpp"

namespace {

using cogent::detail::Fiber;
using cogent::detail::Stack;
using cogent::detail::StackPool;

struct Job {
  Fiber* self = nullptr;
  Fiber* exit_to = nullptr;
  int input = 0;
  int output = 0;
};

void job_entry(void* arg) {
  auto* job = static_cast<Job*>(arg);
  volatile int scratch[32] = {};
  scratch[job->input % 32] = job->input;
  job->output = scratch[job->input % 32] * 2;
  job->self->exit_to(*job->exit_to);
}

TEST_CASE("a finished fiber's stack is reused for the next fiber") {
  Fiber main;
  StackPool pool(64 * 1024);
  void* first_base = nullptr;
  for (int round = 0; round < 1000; ++round) {
    Job job{.input = round};
    const Stack stack = pool.acquire();
    {
      Fiber fiber(stack, &job_entry, &job);
      job.self = &fiber;
      job.exit_to = &main;
      main.switch_to(fiber);
      CHECK(fiber.stack().base == stack.base);
      CHECK(fiber.stack().size == stack.size);
    }
    pool.release(stack);
    if (round == 0) {
      first_base = stack.base;
    }
    REQUIRE(stack.base == first_base);
    REQUIRE(job.output == round * 2);
  }
  CHECK(pool.live() == 0);
}

TEST_CASE("a fiber can exit into another fiber rather than main") {
  Fiber main;
  StackPool pool(64 * 1024);
  Job last{.input = 7};
  Job first{.input = 5};
  Fiber second_fiber(pool.acquire(), &job_entry, &last);
  Fiber first_fiber(pool.acquire(), &job_entry, &first);
  first.self = &first_fiber;
  first.exit_to = &second_fiber;
  last.self = &second_fiber;
  last.exit_to = &main;

  main.switch_to(first_fiber);

  CHECK(first.output == 10);
  CHECK(last.output == 14);
  pool.release(first_fiber.stack());
  pool.release(second_fiber.stack());
}

TEST_CASE("fibers may be destroyed without ever running or while suspended") {
  Fiber main;
  StackPool pool(64 * 1024);
  Job never{.input = 1};
  {
    Fiber fiber(pool.acquire(), &job_entry, &never);
    pool.release(fiber.stack());
  }
  CHECK(never.output == 0);

  struct Sleeper {
    Fiber* self;
    Fiber* main;
  };
  Sleeper sleeper{nullptr, &main};
  {
    Fiber fiber(
        pool.acquire(),
        [](void* arg) {
          auto* state = static_cast<Sleeper*>(arg);
          for (;;) {
            state->self->switch_to(*state->main);
          }
        },
        &sleeper);
    sleeper.self = &fiber;
    main.switch_to(fiber);
    pool.release(fiber.stack());
  }
  // The abandoned stack comes back first and runs a fresh fiber cleanly.
  Job next{.input = 3};
  Fiber fiber(pool.acquire(), &job_entry, &next);
  next.self = &fiber;
  next.exit_to = &main;
  main.switch_to(fiber);
  CHECK(next.output == 6);
  pool.release(fiber.stack());
}

}  // namespace
