// A coroutine started now and awaited later, on the same executor: the caller goes on while
// it runs (probe.cpp starts the TLS enumeration beside the main session with it). And a
// wait for work of another thread that leaves the io_context free meanwhile.
#pragma once

#include <chrono>
#include <exception>
#include <functional>
#include <memory>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

namespace mxtls {

// T must be default-constructible and movable. The state is shared, so a task that outlives
// its started_task (an interrupted probe) writes into memory that still exists; get() is
// called at most once.
template <class T>
class started_task {
 public:
  started_task(const asio::any_io_executor& ex, asio::awaitable<T> task)
      : st_(std::make_shared<state>(asio::steady_timer(ex, asio::steady_timer::time_point::max()))) {
    asio::co_spawn(ex, std::move(task), [st = st_](std::exception_ptr e, T r) {
      st->error = e;
      st->result = std::move(r);
      st->done = true;
      st->timer.cancel();
    });
  }
  // The task's result, once it is done (its exception rethrown).
  asio::awaitable<T> get() {
    if (!st_->done) {
      auto wait = st_->timer.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
      co_await std::move(wait);
    }
    if (st_->error) std::rethrow_exception(st_->error);
    co_return std::move(st_->result);
  }

 private:
  struct state {
    explicit state(asio::steady_timer t) : timer(std::move(t)) {}
    asio::steady_timer timer;
    T result{};
    std::exception_ptr error;
    bool done = false;
  };
  std::shared_ptr<state> st_;
};

// Returns once `done()` is true, looking every 250 µs, the io_context running other work
// meanwhile (for a context another thread is making: milliseconds, never long).
inline asio::awaitable<void> poll_until(std::function<bool()> done) {
  while (!done()) {
    asio::steady_timer tick(co_await asio::this_coro::executor, std::chrono::microseconds(250));
    auto wait = tick.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
    co_await std::move(wait);
  }
}

}  // namespace mxtls
