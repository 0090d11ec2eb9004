#pragma once
// The one ngspice session of a test process (libngspice can be initialised once per process),
// shared by every test of the binary whether CTest runs them one per process or gtest runs them
// together.
#include "spice/session.hpp"

namespace bmru::test {

inline spice::Session& session() {
  static spice::Session s;
  return s;
}

}  // namespace bmru::test
