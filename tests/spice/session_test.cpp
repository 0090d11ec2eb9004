// The ngspice session with real libngspice and small circuits. Every test uses the one session of
// its process (ngspice can be initialised once per process).
#include "spice/session.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <clocale>
#include <cmath>
#include <fstream>

#include <optional>
#include "rc_fixture.hpp"

#include "shared_session.hpp"
#include "test_support.hpp"

namespace bmru::spice {
namespace {

using test::session;

struct Recorder final : LockstepHandler {
  std::vector<double> out;
  std::vector<Index> frames;
  std::vector<double> integrals;
  Index stop_at = -1;
  Action on_sample(Index k, std::span<const double> v) override {
    frames.push_back(k);
    out.push_back(v[0]);
    return k == stop_at ? Action::stop : Action::proceed;
  }
  void on_frame_end(Index, std::span<const double> v) override { integrals.push_back(v[0]); }
};

LockstepSpec rc_spec(const core::FrameAxis& axis, const std::vector<double>& x) {
  LockstepSpec spec;
  spec.axis = axis;
  spec.frames = static_cast<Index>(x.size());
  spec.sources = {"Vin"};
  spec.frame_values = [&x](Index k, std::span<double> v) { v[0] = x[static_cast<size_t>(k)]; };
  spec.probes = {"out"};
  spec.integrals = {"vin#branch"};
  return spec;
}

Transient tran_for(const core::FrameAxis& axis, size_t frames) {
  return {axis.print_step(), axis.stop_time(static_cast<Index>(frames)), axis.max_step()};
}

// Issue 16: a second load used to leave the first Circuit running on (and later destroying) the
// new one. Now the first is stale: its calls are refused and its destructor leaves the new one be.
TEST(Session, ALaterLoadMakesAnEarlierCircuitStale) {
  std::optional<Circuit> first(
      session().load("a\nV1 in 0 dc 1\nR1 in out 1k\nR2 out 0 1k\n.end\n"));
  Circuit second = session().load("b\nV1 in 0 dc 1\nR1 in out 1k\nR2 out 0 3k\n.end\n");
  EXPECT_THROW(first->analysis("op"), Error);
  EXPECT_THROW(first->vector("out"), Error);
  first.reset();  // must not remove the second circuit
  second.analysis("op");
  EXPECT_NEAR(second.vector("out").back(), 0.75, 1e-9);
}

TEST(Session, ReportsItsVersion) {
  EXPECT_EQ(session().version().rfind("39", 0), 0u) << session().version();
}

TEST(Session, LockstepRcMatchesTheAnalyticResponse) {
  const auto axis = core::FrameAxis::with_period(1e-3);
  const auto x = test::random_levels(60, 1);
  Circuit c = session().load(test::rc_netlist("Vin in 0 external"), 7);
  Recorder r;
  const RunSummary s = c.lockstep(tran_for(axis, x.size()), rc_spec(axis, x), r);
  ASSERT_EQ(r.out.size(), x.size());
  EXPECT_EQ(s.samples, 60);
  const auto want = test::rc_samples(axis, x);
  double worst = 0;
  for (size_t k = 0; k < x.size(); ++k) worst = std::max(worst, std::abs(r.out[k] - want[k]));
  RecordProperty("max_abs_error_v", std::to_string(worst));
  for (size_t k = 0; k < x.size(); ++k) {
    EXPECT_EQ(r.frames[k], static_cast<Index>(k));
    EXPECT_NEAR(r.out[k], want[k], 0.005 * std::max(std::abs(want[k]), 0.1)) << "frame " << k;
  }
}

TEST(Session, FrameIntegralsOfTheSupplyCurrentMatchTheChargeMoved) {
  // The charge through Vin over frame k is C (v_out((k+1)T) - v_out(kT)) (current flows out of the
  // source's positive node into the RC, so ngspice's branch current is its negative).
  const core::FrameAxis axis{1e-3, 10e-6, 0.9};
  const std::vector<double> x{0.0, 1.0, 1.0, -0.5, 0.25};
  Circuit c = session().load(test::rc_netlist("Vin in 0 external"), 7);
  Recorder r;
  c.lockstep(tran_for(axis, x.size()), rc_spec(axis, x), r);
  ASSERT_EQ(r.integrals.size(), x.size());
  const double tau = test::kR * test::kC;
  double v = x[0];
  for (size_t k = 0; k < x.size(); ++k) {
    const double prev = k ? x[k - 1] : x[0];
    const double b = (x[k] - prev) / axis.ramp_s;
    const auto seg = [tau](double v0, double a, double bb, double dt) {
      return a + bb * dt - bb * tau + (v0 - a + bb * tau) * std::exp(-dt / tau);
    };
    double v1 = seg(v, prev, b, axis.ramp_s);
    v1 = seg(v1, x[k], 0.0, axis.period_s - axis.ramp_s);
    const double charge = test::kC * (v1 - v);
    EXPECT_NEAR(-r.integrals[k], charge, 0.01 * std::abs(charge) + 1e-12) << "frame " << k;
    v = v1;
  }
}

TEST(Session, ReplayWithPwlGivesTheSameSamples) {
  const auto axis = core::FrameAxis::with_period(1e-3);
  const auto x = test::random_levels(40, 2);
  Recorder r;
  {
    Circuit c = session().load(test::rc_netlist("Vin in 0 external"), 1);
    c.lockstep(tran_for(axis, x.size()), rc_spec(axis, x), r);
  }
  // The same input as PWL corners, with a point at every sample instant so both runs land there.
  std::string pwl = "Vin in 0 pwl(0 " + std::to_string(x[0]);
  char buf[160];
  for (size_t k = 0; k < x.size(); ++k) {
    const auto i = static_cast<Index>(k);
    if (k) {
      std::snprintf(buf, sizeof buf, " %.17g %.17g", axis.frame_start(i), x[k - 1]);
      pwl += buf;
    }
    std::snprintf(buf, sizeof buf, " %.17g %.17g %.17g %.17g", axis.ramp_end(i), x[k],
                  axis.sample_time(i), x[k]);
    pwl += buf;
  }
  pwl += ")";
  Circuit c = session().load(test::rc_netlist(pwl), 1);
  c.transient(tran_for(axis, x.size()), {"out"});
  const auto t = c.vector("time");
  const auto out = c.vector("out");
  for (size_t k = 0; k < x.size(); ++k) {
    const double ts = axis.sample_time(static_cast<Index>(k));
    const auto it = std::lower_bound(t.begin(), t.end(), ts - 1e-12);
    ASSERT_NE(it, t.end());
    ASSERT_NEAR(*it, ts, 1e-9) << "the replay did not land on sample " << k;
    EXPECT_NEAR(out[static_cast<size_t>(it - t.begin())], r.out[k], 0.5e-3) << "frame " << k;
  }
}

TEST(Session, DenseCaptureSeesEveryAcceptedPointInOrder) {
  const auto axis = core::FrameAxis::with_period(1e-3);
  const auto x = test::random_levels(10, 5);
  struct Dense final : LockstepHandler {
    std::vector<double> t, v;
    Action on_sample(Index, std::span<const double>) override { return Action::proceed; }
    void on_point(double time, std::span<const double> d) override {
      t.push_back(time);
      v.push_back(d[0]);
    }
  } h;
  auto spec = rc_spec(axis, x);
  spec.dense = {"out", "in"};
  Circuit c = session().load(test::rc_netlist("Vin in 0 external"), 1);
  const RunSummary s = c.lockstep(tran_for(axis, x.size()), spec, h);
  ASSERT_EQ(static_cast<long long>(h.t.size()), s.accepted_points);
  EXPECT_TRUE(std::is_sorted(h.t.begin(), h.t.end()));
  EXPECT_DOUBLE_EQ(h.t.front(), 0.0);
  EXPECT_NEAR(h.t.back(), axis.stop_time(10), 1e-12);
  // Every ramp corner and sample instant is an accepted point (they are breakpoints).
  for (Index k = 1; k < 10; ++k)
    for (double corner : axis.breakpoints(k))
      EXPECT_TRUE(std::any_of(h.t.begin(), h.t.end(),
                              [&](double t) { return std::abs(t - corner) < 1e-12; }))
          << "no accepted point at " << corner;
  EXPECT_NEAR(h.v.front(), x[0], 1e-6);  // operating point computed with x_0
}

TEST(Session, HandlerStopsTheTransientEarly) {
  const auto axis = core::FrameAxis::with_period(1e-3);
  const auto x = test::random_levels(100, 3);
  Circuit c = session().load(test::rc_netlist("Vin in 0 external"), 1);
  Recorder r;
  r.stop_at = 9;
  const RunSummary s = c.lockstep(tran_for(axis, x.size()), rc_spec(axis, x), r);
  EXPECT_TRUE(s.stopped_early);
  EXPECT_GE(r.out.size(), 10u);
  EXPECT_LE(r.out.size(), 11u);
  EXPECT_LT(s.time_reached_s, axis.stop_time(11));
}

TEST(Session, HandlerExceptionsReachTheCaller) {
  const auto axis = core::FrameAxis::with_period(1e-3);
  const auto x = test::random_levels(20, 3);
  struct Throws final : LockstepHandler {
    Action on_sample(Index k, std::span<const double>) override {
      if (k == 4) throw InputError("writer failed");
      return Action::proceed;
    }
  } h;
  Circuit c = session().load(test::rc_netlist("Vin in 0 external"), 1);
  EXPECT_THROW(c.lockstep(tran_for(axis, x.size()), rc_spec(axis, x), h), InputError);
  // The session is still usable.
  Circuit d = session().load(test::rc_netlist("Vin in 0 dc 1"), 1);
  d.transient({1e-4, 1e-3, 1e-4}, {"out"});
  EXPECT_NEAR(d.vector("out").back(), 1.0, 1e-6);
}

TEST(Session, UnknownProbeIsNamed) {
  const auto axis = core::FrameAxis::with_period(1e-3);
  const std::vector<double> x(5, 0.5);
  Circuit c = session().load(test::rc_netlist("Vin in 0 external"), 1);
  auto spec = rc_spec(axis, x);
  spec.probes = {"nosuchnode"};
  Recorder r;
  try {
    c.lockstep(tran_for(axis, x.size()), spec, r);
    FAIL();
  } catch (const SimulationError& e) {
    EXPECT_NE(std::string(e.what()).find("nosuchnode"), std::string::npos) << e.what();
  }
}

TEST(Session, UnknownModelIsAClearError) {
  try {
    session().load("bad\nM1 d g 0 0 nosuchmodel w=1u l=1u\nVd d 0 1\nVg g 0 1\n.end\n");
    FAIL();
  } catch (const SimulationError& e) {
    EXPECT_NE(std::string(e.what()).find("nosuchmodel"), std::string::npos) << e.what();
  }
}

TEST(Session, MemoryStaysFlatOver500LoadRunCycles) {
  const auto rss_kb = [] {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line))
      if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
    return 0L;
  };
  const auto axis = core::FrameAxis::with_period(1e-3);
  const auto x = test::random_levels(5, 4);
  const auto cycle = [&] {
    Circuit c = session().load(test::rc_netlist("Vin in 0 external"), 1);
    Recorder r;
    c.lockstep(tran_for(axis, x.size()), rc_spec(axis, x), r);
  };
  for (int i = 0; i < 20; ++i) cycle();  // warm up allocator pools
  const long before = rss_kb();
  for (int i = 0; i < 500; ++i) cycle();
  const long after = rss_kb();
  EXPECT_LE(after - before, 2048) << "VmRSS grew from " << before << " kB to " << after << " kB";
}

TEST(Session, CommaDecimalLocaleChangesNothing) {
  const std::string netlist =
      "rc\n.param rr=1.5k\nV1 in 0 dc 1\nR1 in out {rr}\nR2 out 0 0.5k\n.end\n";
  const auto out = [&] {
    Circuit c = session().load(netlist);
    c.transient({1e-4, 1e-3, 1e-4}, {"out"});
    return c.vector("out").back();
  };
  EXPECT_NEAR(out(), 0.25, 1e-9);
  if (!std::setlocale(LC_NUMERIC, "de_DE.UTF-8")) GTEST_SKIP() << "de_DE.UTF-8 is not generated";
  const double v = out();
  std::setlocale(LC_NUMERIC, "C");
  EXPECT_NEAR(v, 0.25, 1e-9);
}

TEST(Session, ASecondSessionIsRefused) {
  session();
  EXPECT_THROW(Session{}, Error);
}

}  // namespace
}  // namespace bmru::spice
