#include <cogent/cogent.hpp>
using namespace std::chrono_literals;
int main() {
  auto g = cogent::spawn([] { cogent::sleep(1ms); return 41; });
  return g.get() + 1 == 42 ? 0 : 1;
}
