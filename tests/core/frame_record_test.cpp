// The worker wire's frame record (issue 16): one codec, exact values, named failures.
#include "core/frame_record.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "core/errors.hpp"

namespace bmru::core {
namespace {

Frame frame(Index layers, Index d, Index n_out, double base) {
  Frame f;
  for (Index l = 0; l < layers; ++l) {
    LayerFrame lf;
    for (Matrix* m : {&lf.candidate, &lf.state, &lf.output}) {
      m->resize(1, d);
      for (Index i = 0; i < d; ++i)
        (*m)(0, i) = base + 0.1 * static_cast<double>(i) + static_cast<double>(l);
    }
    f.layers.push_back(lf);
  }
  f.logits = Matrix::Constant(1, n_out, -base);
  return f;
}

FrameRecord sample(bool with_ct) {
  FrameRecord r;
  r.k = 41;
  r.probes = {1e-9, -2.5e-12, std::nan(""), 3.0};
  r.sw = frame(2, 3, 2, 1.0 / 3.0);
  r.supply_charge = {-1.25e-12, 7e-15};
  r.crossings = {{0, -1}, {2, 1.5e-4}, {1, 9e-3}, {0, -1}, {0, -1}, {3, 2e-6}};
  r.waveform = {0.5, 0.25, std::numeric_limits<double>::denorm_min()};
  if (with_ct) {
    r.argmax_s = {7e-3, 3e-3};
    r.ct = CtFrameRecord{
        frame(2, 3, 2, 0.7), {{1, 1e-3}, {0, -1}, {0, -1}, {0, -1}, {0, -1}, {0, -1}}, 0.02, 3e-4};
  }
  return r;
}

void expect_same(const Frame& a, const Frame& b) {
  ASSERT_EQ(a.layers.size(), b.layers.size());
  for (size_t l = 0; l < a.layers.size(); ++l) {
    EXPECT_EQ(a.layers[l].candidate, b.layers[l].candidate);
    EXPECT_EQ(a.layers[l].state, b.layers[l].state);
    EXPECT_EQ(a.layers[l].output, b.layers[l].output);
  }
  EXPECT_EQ(a.logits, b.logits);
}

TEST(FrameRecord, RoundTripsEveryValueExactly) {
  for (bool ct : {false, true}) {
    const FrameRecord r = sample(ct);
    const FrameRecord back = decode_frame_record(encode(r));
    EXPECT_EQ(back.k, 41);
    ASSERT_EQ(back.probes.size(), 4u);
    EXPECT_EQ(std::memcmp(back.probes.data(), r.probes.data(), 4 * sizeof(double)), 0);  // NaN too
    expect_same(back.sw, r.sw);
    EXPECT_EQ(back.supply_charge, r.supply_charge);
    ASSERT_EQ(back.crossings.size(), 6u);
    EXPECT_EQ(back.crossings[1].count, 2);
    EXPECT_EQ(back.crossings[1].first_offset_s, 1.5e-4);
    EXPECT_EQ(back.waveform, r.waveform);
    EXPECT_EQ(back.argmax_s, r.argmax_s);
    ASSERT_EQ(back.ct.has_value(), ct);
    if (ct) {
      expect_same(back.ct->frame, r.ct->frame);
      EXPECT_EQ(back.ct->crossings[0].count, 1);
      EXPECT_EQ(back.ct->spice_s, 0.02);
      EXPECT_EQ(back.ct->ct_s, 3e-4);
    }
  }
}

TEST(FrameRecord, DamagedOrForeignRecordsAreNamed) {
  const std::string good = encode(sample(true));
  const auto fails_with = [](const std::string& bytes, const std::string& words) {
    try {
      decode_frame_record(bytes);
      ADD_FAILURE() << "decoded";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
    }
  };
  fails_with(good.substr(0, good.size() - 8), "too short for its argmax times");
  fails_with(good.substr(0, good.size() - 20), "ended inside its ct timing");
  fails_with(good + "x", "longer than its counts");
  std::string other = good;
  other[0] = 'X';
  fails_with(other, "bad magic");
  std::string version = good;
  version[4] = 1;
  fails_with(version, "version 1");
  fails_with(std::string(16, '\0'), "bad magic");
}

}  // namespace
}  // namespace bmru::core
