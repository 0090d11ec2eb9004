// Issue 18: models to and from numpy's .npz, checked against numpy itself.
#include "core/npz_model.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "core/errors.hpp"
#include "core/model_file.hpp"
#include "test_support.hpp"

namespace bmru::core {
namespace {

int python(const std::string& script, const test::TempDir& dir) {
  const auto path = dir / "script.py";
  std::ofstream(path) << script;
  return std::system(("/usr/bin/python3 " + path.string()).c_str());
}

TEST(NpzModel, RoundTripIsExact) {
  test::TempDir dir;
  Network net = test::random_network(13, 4, 2, 2, 21);
  net.unit_current_a = 2e-9;
  write_npz_model(net, dir / "m.npz");
  EXPECT_EQ(read_npz_model(dir / "m.npz"), net);
}

TEST(NpzModel, NumpyReadsWhatWeWriteAndWeReadWhatNumpyWrites) {
  test::TempDir dir;
  const Network net = test::random_network(3, 2, 1, 2, 22);
  write_npz_model(net, dir / "ours.npz");
  // numpy: check our arrays (names, shapes, values), then write float32 / Fortran-order arrays.
  const std::string script = R"(
import numpy as np, sys
z = np.load(")" + (dir / "ours.npz").string() +
                             R"(")
assert z["pre_proj/kernel"].shape == (3, 2), z["pre_proj/kernel"].shape
assert z["layer1/cand_kernel"].dtype == np.float64
assert z["unit_current"].shape == ()
out = {k: z[k] for k in z.files}
out["pre_proj/kernel"] = np.asfortranarray(out["pre_proj/kernel"])
out["fc/kernel"] = out["fc/kernel"].astype(np.float32)
np.savez(")" + (dir / "numpy.npz").string() +
                             R"(", **out)
np.savez_compressed(")" + (dir / "compressed.npz").string() +
                             R"(", **out)
print(repr(float(z["pre_proj/kernel"][2, 1])))
)";
  ASSERT_EQ(python(script, dir), 0);
  const Network back = read_npz_model(dir / "numpy.npz");
  EXPECT_EQ(back.pre_proj, net.pre_proj);  // Fortran order read as the same matrix
  EXPECT_EQ(back.layers, net.layers);
  EXPECT_TRUE(back.fc.kernel.isApprox(net.fc.kernel, 1e-6));  // float32
  EXPECT_EQ(read_npz_model(dir / "compressed.npz").layers, net.layers);
}

TEST(NpzModel, MissingOrMisshapenArraysAreNamed) {
  test::TempDir dir;
  const Network net = test::random_network(3, 2, 1, 2, 23);
  write_npz_model(net, dir / "m.npz");
  const std::string script = R"(
import numpy as np
z = dict(np.load(")" + (dir / "m.npz").string() +
                             R"("))
a = dict(z); del a["layer1/delta"]; np.savez(")" +
                             (dir / "missing.npz").string() + R"(", **a)
b = dict(z); b["fc/bias"] = np.zeros((2, 1)); np.savez(")" +
                             (dir / "shape.npz").string() + R"(", **b)
c = dict(z); c["layer1/extra"] = np.zeros(2); np.savez(")" +
                             (dir / "extra.npz").string() + R"(", **c)
)";
  ASSERT_EQ(python(script, dir), 0);
  const auto expect = [&](const char* file, const char* names) {
    try {
      read_npz_model(dir / file);
      ADD_FAILURE() << file << ": no error";
    } catch (const FileError& e) {
      EXPECT_NE(std::string(e.what()).find(names), std::string::npos) << e.what();
    }
  };
  expect("missing.npz", "'layer1/delta': is missing");
  expect("shape.npz", "'fc/bias': has shape (2, 1)");
  expect("extra.npz", "'layer1/extra': is not a parameter");
  std::ofstream(dir / "not.npz") << "not a zip";
  expect("not.npz", "is not a readable .npz");
}

}  // namespace
}  // namespace bmru::core
