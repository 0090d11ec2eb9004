#include "core/units.hpp"

#include <gtest/gtest.h>

#include <clocale>
#include <cstdlib>

#include "core/errors.hpp"

namespace bmru::core {
namespace {

TEST(Units, SpiceSuffixesScaleToBaseUnits) {
  EXPECT_DOUBLE_EQ(parse_quantity("350p"), 350e-12);
  EXPECT_DOUBLE_EQ(parse_quantity("10m"), 10e-3);
  EXPECT_DOUBLE_EQ(parse_quantity("0.1m"), 0.1e-3);
  EXPECT_DOUBLE_EQ(parse_quantity("2meg"), 2e6);
  EXPECT_DOUBLE_EQ(parse_quantity("2MEG"), 2e6);
  EXPECT_DOUBLE_EQ(parse_quantity("1.5e-9"), 1.5e-9);
  EXPECT_DOUBLE_EQ(parse_quantity("3n"), 3e-9);
  EXPECT_DOUBLE_EQ(parse_quantity("4u"), 4e-6);
  EXPECT_DOUBLE_EQ(parse_quantity("5f"), 5e-15);
  EXPECT_DOUBLE_EQ(parse_quantity("2k"), 2e3);
  EXPECT_DOUBLE_EQ(parse_quantity("-40"), -40);
  EXPECT_DOUBLE_EQ(parse_quantity("+1.8"), 1.8);
}

TEST(Units, AUnitMayFollowTheSuffix) {
  EXPECT_DOUBLE_EQ(parse_quantity("350pA"), 350e-12);
  EXPECT_DOUBLE_EQ(parse_quantity("10ms"), 10e-3);
  EXPECT_DOUBLE_EQ(parse_quantity("1.8V"), 1.8);
}

TEST(Units, GarbageIsRejectedNamingTheOption) {
  for (const char* bad : {"", "abc", "10x", "1e", "nan", "inf", "1.2.3", "5 p"}) {
    try {
      parse_quantity(bad, "--ramp");
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("--ramp"), std::string::npos) << e.what();
    }
  }
}

TEST(Units, FormatNumberRoundTripsExactly) {
  for (double v : {3.493e-10, 1.0 / 3.0, 1e-15, 1.8, -0.0, 12345678.9}) {
    EXPECT_EQ(parse_quantity(format_number(v)), v);
  }
  EXPECT_EQ(format_number(3.493e-10), "3.493e-10");
}

TEST(Units, CommaDecimalLocaleChangesNothing) {
  const char* old = std::setlocale(LC_ALL, nullptr);
  const std::string saved = old ? old : "C";
  if (!std::setlocale(LC_ALL, "de_DE.UTF-8"))
    GTEST_SKIP() << "the de_DE.UTF-8 locale is not generated (scripts/setup.sh generates it)";
  EXPECT_DOUBLE_EQ(parse_quantity("0.1m"), 0.1e-3);
  EXPECT_EQ(format_number(0.25), "0.25");
  std::setlocale(LC_ALL, saved.c_str());
}

}  // namespace
}  // namespace bmru::core
