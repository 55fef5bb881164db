// Lost updates, and the lock that prevents them. Ten clerks (greenlets) share one account; each
// makes 100 deposits of 10 and 100 withdrawals of 5, as "read the balance, think, write the new
// balance". The thinking is a cogent::sleep(0s): it yields to the other clerks, just as any
// blocking call (a database query, a log write) would. Greenlets only switch at such calls, but
// that is enough: every clerk reads the same balance, then each writes its own result over the
// others', and most of the updates are lost.
//
// Holding a cogent::Lock from the read to the write makes the update atomic again: the second run
// ends with the exact balance.
//
//   bank                      (exit 0 when the locked run is exact)

#include <cstdio>
#include <mutex>
#include <vector>

#include <cogent/cogent.hpp>

using namespace std::chrono_literals;

namespace {

constexpr int kClerks = 10;
constexpr int kOperations = 200;  // per clerk: deposits and withdrawals alternate
constexpr long kOpening = 1000;

long amount(int operation) { return operation % 2 == 0 ? 10 : -5; }

void update(long& balance, long change) {
  const long seen = balance;
  cogent::sleep(0s);  // the other clerks run here and read the same `seen`
  balance = seen + change;
}

void clerk(long& balance, cogent::Lock* lock) {
  for (int i = 0; i < kOperations; ++i) {
    if (lock != nullptr) {
      std::lock_guard guard(*lock);
      update(balance, amount(i));
    } else {
      update(balance, amount(i));
    }
  }
}

// Runs every clerk on a fresh account and returns its final balance.
long run_clerks(cogent::Lock* lock) {
  long balance = kOpening;
  std::vector<cogent::Greenlet<void>> clerks;
  for (int c = 0; c < kClerks; ++c) clerks.push_back(cogent::spawn(clerk, std::ref(balance), lock));
  cogent::joinall(clerks);
  return balance;
}

}  // namespace

int main() {
  long expected = kOpening;
  for (int c = 0; c < kClerks; ++c) {
    for (int i = 0; i < kOperations; ++i) expected += amount(i);
  }

  const long unlocked = run_clerks(nullptr);
  cogent::Lock lock("account");
  const long locked = run_clerks(&lock);

  std::printf("%d clerks x %d operations, opening balance %ld, expected %ld\n", kClerks,
              kOperations, kOpening, expected);
  std::printf("without a lock: balance %ld, matched: %s\n", unlocked,
              unlocked == expected ? "yes" : "no (lost updates)");
  std::printf("with a Lock:    balance %ld, matched: %s\n", locked,
              locked == expected ? "yes" : "no");
  return locked == expected ? 0 : 1;
}
