#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>

#include "core/errors.hpp"
#include "pdk/mismatch.hpp"
#include "pdk/registry.hpp"
#include "test_support.hpp"

namespace bmru::pdk {
namespace {

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(Generic180, HeaderCarriesTheCornerTemperatureAndGmin) {
  const auto t = generic180();
  const std::string tt = t->header({"tt", 27, 1.8});
  EXPECT_TRUE(has(tt, "vth0=0.3694303"));
  EXPECT_TRUE(has(tt, "vth0=-0.3823437"));
  EXPECT_TRUE(has(tt, ".option gmin=1e-15"));
  EXPECT_TRUE(has(tt, ".temp 27"));
  EXPECT_TRUE(has(tt, "version=3.3.0"));
  const std::string fs = t->header({"fs", -40, 1.62});
  EXPECT_TRUE(has(fs, "vth0=0.2944303")) << "fast NMOS: |Vth| 75 mV lower";
  EXPECT_TRUE(has(fs, "vth0=-0.4573437")) << "slow PMOS: |Vth| 75 mV higher";
  EXPECT_TRUE(has(fs, "u0=316.6222")) << "fast NMOS: mobility +8 %";
  EXPECT_TRUE(has(fs, ".temp -40"));
}

TEST(Generic180, UnknownCornerIsNamed) {
  try {
    generic180()->header({"xx", 27, 1.8});
    FAIL();
  } catch (const InputError& e) {
    EXPECT_TRUE(has(e.what(), "'xx'"));
    EXPECT_TRUE(has(e.what(), "tt ff ss fs sf"));
  }
}

TEST(Generic180, DeviceLinesCarryMismatchWithThePolaritysSign) {
  const auto t = generic180();
  const Device n{Polarity::n, 1e-6, 2e-6, 1, {0.004, 0.01}};
  const Device p{Polarity::p, 1e-6, 2e-6, 2, {0.004, -0.01}};
  EXPECT_EQ(t->device_line("a", "d", "g", "0", "0", n),
            "Ma d g 0 0 nch_g180 w=1e-06 l=2e-06 delvto=0.004 mulu0=1.01");
  EXPECT_EQ(t->device_line("b", "d", "g", "vdd", "vdd", p),
            "Mb d g vdd vdd pch_g180 w=1e-06 l=2e-06 m=2 delvto=-0.004 mulu0=0.99");
}

TEST(Generic180, SizesOutsideTheLimitsNameTheDevice) {
  const auto t = generic180();
  try {
    t->device_line("l1_c2_m5", "d", "g", "0", "0", {Polarity::n, 0.1e-6, 1e-6, 1, {}});
    FAIL();
  } catch (const InputError& e) {
    EXPECT_TRUE(has(e.what(), "l1_c2_m5"));
    EXPECT_TRUE(has(e.what(), "W must lie within"));
  }
}

TEST(Mismatch, SameSeedSameDrawsAndPelgromSpread) {
  MismatchSampler a(7), b(7), c(8);
  const Pelgrom pg = generic180_pelgrom(Polarity::n);
  EXPECT_EQ(a.draw(pg, 1e-6, 1e-6), b.draw(pg, 1e-6, 1e-6));
  EXPECT_FALSE(a.draw(pg, 1e-6, 1e-6) == c.draw(pg, 1e-6, 1e-6));
  MismatchSampler s(1);
  double sv = 0, sb = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    const auto d = s.draw(pg, 2e-6, 1e-6);
    sv += d.dvth_v * d.dvth_v;
    sb += d.dbeta * d.dbeta;
  }
  // One device: sigma = A / sqrt(2 W L).
  EXPECT_NEAR(std::sqrt(sv / n), pg.avt_v_m / std::sqrt(2 * 2e-12),
              0.02 * pg.avt_v_m / std::sqrt(4e-12));
  EXPECT_NEAR(std::sqrt(sb / n), pg.abeta_m / std::sqrt(2 * 2e-12),
              0.02 * pg.abeta_m / std::sqrt(4e-12));
}

// A fake PDK tree with the two model files in the standard layout.
void fake_pdk(const std::filesystem::path& root, const std::string& variant, const std::string& n,
              const std::string& p) {
  const auto dir = root / variant / "libs.tech" / "ngspice";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "design.ngspice") << "* design\n";
  std::ofstream(dir / "sm141064.ngspice") << ".subckt " << n << " d g s b w=1u l=1u\n.ends\n"
                                          << ".subckt " << p << " d g s b w=1u l=1u\n.ends\n";
}

class EnvGuard {
 public:
  explicit EnvGuard(const char* name) : name_(name) {
    if (const char* v = std::getenv(name)) old_ = v;
  }
  ~EnvGuard() {
    if (old_.empty())
      unsetenv(name_);
    else
      setenv(name_, old_.c_str(), 1);
  }

 private:
  const char* name_;
  std::string old_;
};

TEST(Gf180Discovery, FindsTheVariantInPdkRootAndDetectsDeviceNames) {
  test::TempDir dir;
  EnvGuard root("PDK_ROOT"), pdk("PDK");
  fake_pdk(dir.path(), "gf180mcuC", "nmos_3p3", "pmos_3p3");
  fake_pdk(dir.path(), "gf180mcuA", "nfet_03v3", "pfet_03v3");
  setenv("PDK_ROOT", dir.path().c_str(), 1);
  unsetenv("PDK");
  const auto found = find_gf180();
  EXPECT_EQ(found, dir.path() / "gf180mcuC" / "libs.tech" / "ngspice");  // C before A
  const auto t = gf180mcu(found);
  EXPECT_EQ(t->device_names(), (std::vector<std::string>{"nmos_3p3", "pmos_3p3"}));
  const std::string h = t->header({"tt", 27, 1.8});
  EXPECT_TRUE(has(h, ".lib " + (found / "sm141064.ngspice").string() + " typical"));
  EXPECT_TRUE(has(h, "sw_stat_global=0 sw_stat_mismatch=0"));
  setenv("PDK", "gf180mcuA", 1);
  EXPECT_EQ(find_gf180(), dir.path() / "gf180mcuA" / "libs.tech" / "ngspice");
  EXPECT_EQ(find_gf180(dir.path() / "gf180mcuA"),
            dir.path() / "gf180mcuA" / "libs.tech" / "ngspice");
}

TEST(Gf180Discovery, MissingPdkSaysWhereItLooked) {
  test::TempDir dir;
  EnvGuard root("PDK_ROOT"), pdk("PDK");
  setenv("PDK_ROOT", dir.path().c_str(), 1);
  unsetenv("PDK");
  try {
    find_gf180();
    FAIL();
  } catch (const InputError& e) {
    EXPECT_TRUE(
        has(e.what(),
            (dir.path() / "gf180mcuD" / "libs.tech" / "ngspice" / "sm141064.ngspice").string()));
    EXPECT_TRUE(has(e.what(), "PDK_ROOT"));
  }
}

TEST(Gf180, SizesAreCheckedAgainstItsBins) {
  test::TempDir dir;
  fake_pdk(dir.path(), "gf180mcuD", "nfet_03v3", "pfet_03v3");
  const auto t = gf180mcu(dir.path() / "gf180mcuD" / "libs.tech" / "ngspice");
  EXPECT_EQ(t->device_line("m1", "d", "g", "0", "0", {Polarity::n, 1e-6, 1e-6, 1, {}}),
            "Xm1 d g 0 0 nfet_03v3 w=1e-06 l=1e-06");
  EXPECT_THROW(t->device_line("m1", "d", "g", "0", "0", {Polarity::n, 1e-6, 0.18e-6, 1, {}}),
               InputError);
  EXPECT_THROW(t->header({"xx", 27, 1.8}), InputError);
}

}  // namespace
}  // namespace bmru::pdk
