// End-to-end `bmru scaling` (generic180, real ngspice in workers) on a tiny study: two simulated d
// and one extrapolated, power by block and by position, the fits and the file.
#include <gtest/gtest.h>

#include "cli_support.hpp"
#include "test_support.hpp"

namespace bmru {
namespace {

TEST(Scaling, MeasuresPowerByBlockAndPositionFitsItAndExtrapolatesPastTheSpiceLimit) {
  test::TempDir dir;
  const auto out = dir / "scaling.h5";
  const auto r =
      test::run(test::cache_env() + " " + BMRU_BINARY +
                " scaling --d 4,6,8 --spice-max-d 6 --frames 2 --sequences 1 -o " + out.string());
  ASSERT_EQ(r.status, 0) << r.text;
  EXPECT_NE(r.text.find("EXTRAPOLATED"), std::string::npos) << r.text;
  EXPECT_NE(r.text.find("cells_exponent="), std::string::npos);
  EXPECT_NE(r.text.find("feedforward_exponent="), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(out.string() + ".runs"));  // folded into the file
  // The positions' power adds up to the total frame by frame in each simulated run; the file's
  // rows say which d were simulated; the extrapolated total is its blocks' sum; more d, more
  // feed-forward power; the fit's exponent is the slope between the two simulated d.
  const auto check = test::run(
      "/usr/bin/python3 -c \"import h5py, numpy as np, math\n"
      "f = h5py.File('" +
      out.string() +
      "')\n"
      "p = f['points'][...]\n"
      "assert list(p['d']) == [4, 6, 8], p['d']\n"
      "assert list(p['measured']) == [1, 1, 0], p['measured']\n"
      "assert [s.decode() for s in p['status']] == ['ok', 'ok', 'extrapolated']\n"
      "for d in (4, 6):\n"
      "    run = f['runs']['d%d' % d]\n"
      "    pos = run['hw/power/position'][...]\n"
      "    tot = run['hw/power/total'][...]\n"
      "    assert pos.shape == (1, 2, 4), pos.shape\n"
      "    assert np.allclose(pos.sum(-1), tot, rtol=1e-9, atol=0), (pos.sum(-1), tot)\n"
      "    assert (pos > 0).all()\n"
      "    assert run['hw/power/position'].attrs['columns'] == 'pre,layer1,layer2,output'\n"
      "q = p[2]\n"
      "assert abs(q['power_total_w'] - q['power_cells_w'] - q['power_feedforward_w'] - "
      "q['power_bias_w']) < 1e-6 * q['power_total_w']\n"
      "assert math.isnan(q['power_pre_w'])\n"
      "ff = p['power_feedforward_w']\n"
      "assert ff[0] < ff[1] < ff[2], ff\n"
      "k = math.log(ff[1] / ff[0]) / math.log(6 / 4)\n"
      "assert abs(f['fit'].attrs['feedforward_exponent'] - k) < 1e-9\n"
      "assert math.isnan(f['fit'].attrs['feedforward_exponent_ci_low'])\n"
      "assert f['config'].attrs['kind'] == 'scaling'\n"
      "print('ok')\"");
  EXPECT_EQ(check.status, 0) << check.text;
  EXPECT_NE(check.text.find("ok"), std::string::npos) << check.text;
}

}  // namespace
}  // namespace bmru
