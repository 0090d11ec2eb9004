"""h5py side of the end-to-end tests: reads a run file as a user would, and writes a model file the
way h5py does (variable-length UTF-8 string attributes, int32 attributes, float32/int16 datasets)."""
import sys

import h5py
import numpy as np


def check_run(path):
    with h5py.File(path, "r") as f:
        assert f.attrs["format"] == "bmru-cosim/1", f.attrs["format"]
        for key in ("tool_version", "command_line", "created"):
            assert isinstance(f.attrs[key], str), key
        S, N, n_in = f["inputs"].shape
        d = f["model"].attrs["d"]
        n_out = f["model"].attrs["n_out"]
        for l in range(1, int(f["model"].attrs["n_layers"]) + 1):
            for sig in ("candidate", "state", "output"):
                ds = f[f"sw/layer{l}/{sig}"]
                assert ds.shape == (S, N, d), (sig, ds.shape)
                assert ds.attrs["units"] == "model units"
            alpha = np.abs(f[f"model/layer{l}/alphas"][...])
            state = f[f"sw/layer{l}/state"][...]
            assert np.all((state == 0) | (state == alpha)), "states other than 0 and alpha"
            assert np.all(f[f"sw/layer{l}/candidate"][...] >= 0)
        assert f["sw/logits"].shape == (S, N, n_out)
        dec = f["sw/decision"][...]
        assert dec.shape == (S,) and set(np.unique(dec)) <= {-1, 0, 1}
        margin = f["sw/vote_margin"][...]
        assert np.all((margin >= 0) & (margin <= 1))
        # The vote recomputed from the stored logits agrees with the stored decision.
        for s in range(S):
            votes = np.bincount(np.argmax(f["sw/logits"][s], axis=1), minlength=n_out)
            top = np.sort(votes)[::-1]
            want = -1 if top[0] == top[1] else int(np.argmax(votes))
            assert dec[s] == want, (s, dec[s], want)
            assert abs(margin[s] - (top[0] - top[1]) / N) < 1e-12


def write_model(path):
    rng = np.random.default_rng(3)
    n_in, d, n_out = 3, 2, 2
    with h5py.File(path, "w") as f:
        m = f.create_group("model")
        m.attrs["format"] = "bmru-model/1"
        m.attrs["n_in"] = np.int32(n_in)
        m.attrs["d"] = np.int32(d)
        m.attrs["n_layers"] = np.int16(1)
        m.attrs["n_out"] = np.int32(n_out)
        m.attrs["unit_current"] = np.float32(5e-10)
        m["pre_proj/kernel"] = rng.uniform(-1, 1, (n_in, d)).astype(np.float32)
        m["pre_proj/bias"] = np.zeros(d, dtype=np.int16)
        g = m.create_group("layer1")
        g["alphas"] = np.array([1.0, -0.5], dtype=np.float32)
        g["beta1"] = np.array([0.5, 0.25], dtype=np.float32)
        g["delta"] = np.array([0.25, 0.125], dtype=np.float32)
        g["initial_state"] = np.array([0, 1], dtype=np.int8)
        g["cand_kernel"] = rng.uniform(0, 1, (d, d)).astype(np.float32)
        g["cand_bias"] = np.array([0.25, 0.5], dtype=np.float64)
        g["post_kernel"] = rng.uniform(-1, 1, (d, d)).astype(np.float32)
        g["post_bias"] = np.zeros(d, dtype=np.float32)
        m["fc/kernel"] = rng.uniform(-1, 1, (d, n_out)).astype(np.float32)
        m["fc/bias"] = np.zeros(n_out, dtype=np.float32)


def check_netlist(path):
    import hashlib
    with h5py.File(path, "r") as f:
        for name in ("lockstep", "standalone"):
            ds = f["netlist/" + name]
            text = ds[()].decode() if isinstance(ds[()], bytes) else ds[()]
            assert hashlib.sha256(text.encode()).hexdigest() == ds.attrs["sha256"], name
        rows = f["netlist_map"][...]
        assert rows.dtype.names == ("instance", "kind", "parameter", "value", "unit"), rows.dtype.names
        first = rows[0]
        assert first["instance"].decode() == "Mw_c_l1_c0_1", first
        assert first["parameter"].decode() == "layer1.cand_kernel[1,0]", first
        assert abs(first["value"] - 2.4e-06) < 1e-18, first
        assert rows[1]["kind"].decode() == "pruned" and rows[1]["instance"].decode() == ""


def check_first_crossing(f, engine, state1, state2):
    """/<engine>/first_crossing: [S, N, cells] seconds into the frame or NaN, and a crossing in
    (nearly) every frame whose sampled state differs from the previous frame's."""
    T = f["config"].attrs["frame_period"]
    x = f[engine + "/first_crossing"][...]
    assert f[engine + "/first_crossing"].attrs["units"] == "s"
    S, N, _ = f["inputs"].shape
    assert x.shape == (S, N, 8), x.shape
    seen = x[~np.isnan(x)]
    assert seen.size > 0 and np.all((seen >= 0) & (seen < T)), seen
    changed = crossed = 0
    for l, st in ((1, state1), (2, state2)):
        on = st > np.abs(f[f"model/layer{l}/alphas"][...]) / 2
        flip = on[:, 1:] != on[:, :-1]
        changed += flip.sum()
        crossed += (flip & ~np.isnan(x[:, 1:, (l - 1) * 4:l * 4])).sum()
    assert changed > 0 and crossed >= 0.8 * changed, (engine, changed, crossed)


def check_fidelity(path):
    """The file layout of a fidelity run, and its metrics recomputed from the stored traces."""
    with h5py.File(path, "r") as f:
        assert f.attrs["format"] == "bmru-cosim/1"
        for key in ("pdk", "corner", "temperature", "vdd", "frame_period", "ramp", "sample_phase",
                    "unit_current", "mode", "tran_step", "tran_tmax", "input_seed", "mismatch_seed"):
            assert key in f["config"].attrs, key
        unit = f["config"].attrs["unit_current"]
        S, N, n_in = f["inputs"].shape
        assert "lockstep" in f["netlist"] and "standalone" in f["netlist"]
        assert len(f["netlist_map"]) > 100
        for group, units in (("sw", "model units"), ("hw", "A")):
            assert f[group + "/logits"].attrs["units"] == units
        for block in ("cells", "feedforward", "bias", "total"):
            p = f["hw/power/" + block][...]
            assert p.shape == (S, N) and np.all(p > 0), block
        # Power per cell (issue 15): positive, and the cells' block is their sum.
        per_cell = f["hw/power/cell"][...]
        assert per_cell.shape == (S, N, f["hw/layer1/state"].shape[2] * 2), per_cell.shape
        assert np.all(per_cell > 0)
        assert np.allclose(per_cell.sum(axis=2), f["hw/power/cells"][...], rtol=1e-9)
        # Every sequence ran to its end.
        assert [s.decode() if isinstance(s, bytes) else s for s in f["sequences/status"][...]] == ["ok"] * S
        assert np.all(f["sequences/frames_completed"][...] == N)
        check_first_crossing(f, "hw", f["hw/layer1/state"][...] / unit, f["hw/layer2/state"][...] / unit)
        agree = total = 0
        for l in (1, 2):
            alpha = np.abs(f[f"model/layer{l}/alphas"][...])
            hw = f[f"hw/layer{l}/state"][...] / unit
            sw = f[f"sw/layer{l}/state"][...]
            same = (hw > alpha / 2) == (sw > 0)
            agree += same.sum()
            total += same.size
            beta_hi = np.abs(f[f"model/layer{l}/beta1"][...]) + np.abs(f[f"model/layer{l}/delta"][...])
            dc = f[f"hw/layer{l}/candidate"][...] / unit - f[f"sw/layer{l}/candidate"][...]
            nrmse = np.sqrt(np.mean(dc ** 2, axis=(0, 1))) / beta_hi
            stored = f["metrics/cell_candidate_nrmse"][l - 1]
            assert np.allclose(nrmse, stored, rtol=1e-9, atol=1e-12), (nrmse, stored)
        m = f["metrics"].attrs
        assert abs(m["state_agreement"] - agree / total) < 1e-12, (m["state_agreement"], agree / total)
        dec_hw, dec_sw = f["hw/decision"][...], f["sw/decision"][...]
        assert abs(m["decision_agreement"] - np.mean(dec_hw == dec_sw)) < 1e-12
        assert 0 <= m["state_agreement"] <= 1 and 0 <= m["decision_agreement"] <= 1
        assert np.isclose(m["mean_power_w"], f["hw/power/total"][...].mean())
        # Dense waveforms: [S, N * R, cells], and at each sample instant they are the sampled state.
        w = f["hw/waveforms/state"]
        S, N = f["inputs"].shape[:2]
        layers, d = int(f["model"].attrs["n_layers"]), int(f["model"].attrs["d"])
        R = w.shape[1] // N
        assert w.shape == (S, N * R, layers * d) and R > 0, w.shape
        assert w.attrs["units"] == "A" and np.isclose(w.attrs["dt"] * R, f["config"].attrs["frame_period"])
        assert w.compression == "gzip"
        phase = f["config"].attrs["sample_phase"]
        i = int(round(phase * R))
        if abs(i - phase * R) < 1e-9:
            at = w[:, i::R, :]
            sampled = np.concatenate([f[f"hw/layer{l}/state"][...] for l in range(1, layers + 1)], axis=2)
            alpha = np.concatenate([np.abs(f[f"model/layer{l}/alphas"][...]) for l in range(1, layers + 1)])
            err = np.abs(at - sampled).max()
            assert err < 0.02 * alpha.max() * unit, (err, alpha.max() * unit)


def check_sweep(path):
    """A sweep file: /summary rows match /runs/<id>/metrics and /config; failed rows carry text."""
    with h5py.File(path, "r") as f:
        assert f.attrs["format"] == "bmru-cosim/1"
        assert f["config"].attrs["kind"] == "sweep"
        rows = f["summary"][...]
        assert rows.ndim == 1 and len(rows) > 0
        text = lambda v: v.decode() if isinstance(v, bytes) else v
        for row in rows:
            rid, status = text(row["id"]), text(row["status"])
            assert status in ("ok", "failed"), status
            if status == "failed":
                assert text(row["error"]), rid
                continue
            run = f["runs"][rid]
            m, c = run["metrics"].attrs, run["config"].attrs
            for key in ("state_agreement", "decision_agreement", "candidate_nrmse", "logit_nrmse",
                        "mean_power_w"):
                assert row[key] == m[key], (rid, key, row[key], m[key])
            assert text(row["corner"]) == c["corner"] and row["temperature"] == c["temperature"]
            assert row["vdd"] == c["vdd"] and row["mismatch_seed"] == c["mismatch_seed"]
            assert run["hw/layer1/state"].shape[0] == run["inputs"].shape[0]
            assert run.attrs["format"] == "bmru-cosim/1"
            if "ct" in run:
                assert row["hw_ct_state_agreement"] == run["metrics/hw_vs_ct"].attrs["state_agreement"]
                assert row["ct_sw_state_agreement"] == run["metrics/ct_vs_sw"].attrs["state_agreement"]
            else:
                assert np.isnan(row["hw_ct_state_agreement"]), rid
        print(len(rows), "rows")


def check_engines(path):
    """A sw,ct,hw run: ct traces in model units, the three pairs of metrics, the ct facts."""
    with h5py.File(path, "r") as f:
        assert f["config"].attrs["engines"] == "sw,ct,hw"
        for key in ("ct_cap_per_area_f_m2", "ct_cell_q_up_c", "ct_cell_q_down_c", "ct_slope_v"):
            assert f["config"].attrs[key] > 0, key
        # Measured on generic180: a PMOS mirror's gain falls as its current grows.
        assert -0.05 < f["config"].attrs["ct_mirror_slope_p"] < 0, f["config"].attrs["ct_mirror_slope_p"]
        # Idle lines: a reference device at V_GS = 0 carries pA (generic180: NMOS 2.4, PMOS 0.95),
        # measured, not the model's 1 pA default.
        for key in ("ct_floor_a", "ct_floor_p_a"):
            assert 0.1e-12 < f["config"].attrs[key] < 50e-12 and f["config"].attrs[key] != 1e-12, key
        unit = f["config"].attrs["unit_current"]
        assert f["ct/logits"].attrs["units"] == "model units"
        check_first_crossing(f, "ct", f["ct/layer1/state"][...], f["ct/layer2/state"][...])
        assert f["ct/layer1/state"].shape == f["hw/layer1/state"].shape
        for pair in ("ct_vs_sw", "hw_vs_ct"):
            assert 0 <= f[f"metrics/{pair}"].attrs["state_agreement"] <= 1, pair
        # ct against sw recomputed from the traces.
        agree = total = 0
        for l in (1, 2):
            alpha = np.abs(f[f"model/layer{l}/alphas"][...])
            ct = f[f"ct/layer{l}/state"][...] > alpha / 2
            hw = f[f"hw/layer{l}/state"][...] / unit > alpha / 2
            sw = f[f"sw/layer{l}/state"][...] > 0
            agree += (ct == sw).sum()
            total += ct.size
            hw_ct = f["metrics/hw_vs_ct/cell_state_agreement"][l - 1]
            assert np.allclose(hw_ct, (hw == ct).mean(axis=(0, 1))), (hw_ct, (hw == ct).mean(axis=(0, 1)))
        assert abs(f["metrics/ct_vs_sw"].attrs["state_agreement"] - agree / total) < 1e-12


if __name__ == "__main__":
    {"check-run": check_run, "write-model": write_model, "check-netlist": check_netlist,
     "check-fidelity": check_fidelity, "check-sweep": check_sweep, "check-engines": check_engines}[sys.argv[1]](sys.argv[2])
